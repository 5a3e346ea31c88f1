"""The request head limit holds to the byte: request line plus header lines, whether the
head arrives whole or in pieces, alone or after another request's body (httptools has no
limit of its own; `Framing` cuts what arrives where heads and bodies end, and counts)."""

from __future__ import annotations

import httptools
import pytest

from modelplane.connections import Framing, HeadTooLarge

LIMIT = 1000


def head_of(size: int, *, body: bytes = b"", chunked: bool = False) -> bytes:
    """A request whose head (up to and including the blank line) is `size` bytes."""
    start = b"POST /v1/llms HTTP/1.1\r\nHost: x\r\n"
    if chunked:
        length = b"Transfer-Encoding: chunked\r\n"
        body = b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in (body[:7], body[7:]))
        body += b"0\r\nX-Trailer: t\r\n\r\n"
    else:
        length = f"Content-Length: {len(body)}\r\n".encode()
    pad = size - len(start) - len(length) - len(b"X-Pad: \r\n\r\n")
    return start + length + b"X-Pad: " + b"a" * pad + b"\r\n\r\n" + body


class Connection:
    """The parser fed the way `GuardedProtocol` feeds it: in the pieces `Framing` cuts."""

    def __init__(self, limit: int = LIMIT) -> None:
        self.framing = Framing(limit)
        self.parser = httptools.HttpRequestParser(self)
        self.headers: list[tuple[bytes, bytes]] = []
        self.requests: list[bytes] = []  # the body of each whole request

    def on_message_begin(self) -> None:
        self.headers, self.body = [], b""

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name.lower(), value))

    def on_body(self, body: bytes) -> None:
        self.body += body

    def on_message_complete(self) -> None:
        self.requests.append(self.body)
        self.framing.request_ended()

    def receive(self, *pieces: bytes) -> Connection:
        for data in pieces:
            start = 0
            while start < len(data):
                end = self.framing.next_piece(data, start)
                self.parser.feed_data(memoryview(data)[start:end])
                if self.framing.head_fed:
                    self.framing.body(self.headers)
                start = end
        return self


def cut(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def test_a_head_of_exactly_the_limit_passes_one_byte_more_is_refused_whole_or_in_pieces() -> None:
    exact = head_of(LIMIT)
    assert len(exact) == LIMIT
    for pieces in ([exact], cut(exact, 97), cut(exact, 1)):
        assert Connection().receive(*pieces).requests == [b""]
    over = head_of(LIMIT + 1)
    for pieces in ([over], cut(over, 97), cut(over, 1), cut(over, LIMIT - 2)):
        with pytest.raises(HeadTooLarge):
            Connection().receive(*pieces)


def test_a_head_still_arriving_is_refused_as_soon_as_it_passes_the_limit() -> None:
    connection = Connection().receive(b"GET /" + b"a" * (LIMIT - 5))  # LIMIT bytes, no end
    with pytest.raises(HeadTooLarge):
        connection.receive(b"a")


@pytest.mark.parametrize("chunked", [False, True])
@pytest.mark.parametrize("size", [None, 1, 5, 97])
def test_bodies_do_not_count_and_each_request_of_a_connection_is_measured_alone(
    chunked: bool, size: int | None
) -> None:
    body = b"x" * (3 * LIMIT) + b"\r\n\r\n" + b"y" * 10
    one = head_of(LIMIT, body=body, chunked=chunked)
    stream = b"\r\n" + one + one + b"\r\n" + one  # pipelined, with empty lines between
    pieces = [stream] if size is None else cut(stream, size)
    assert Connection().receive(*pieces).requests == [body] * 3
    over = one + head_of(LIMIT + 1, body=body, chunked=chunked)
    with pytest.raises(HeadTooLarge):
        Connection().receive(*([over] if size is None else cut(over, size)))


def test_an_empty_line_split_across_pieces_ends_the_head() -> None:
    exact = head_of(LIMIT)
    for split in range(1, 5):  # inside the final CRLF CRLF
        at = len(exact) - split
        connection = Connection().receive(exact[:at], exact[at:] + exact)
        assert connection.requests == [b"", b""]
