"""The request head limit holds to the byte: request line plus header lines, whether the
head arrives whole or in pieces (h11's own limit only sees incomplete heads)."""

from __future__ import annotations

import h11
import pytest

from modelplane.connections import HeadLimitedConnection

LIMIT = 1000


def head_of(size: int, *, body: bytes = b"") -> bytes:
    """A request whose head (up to and including the blank line) is `size` bytes."""
    start = b"POST /v1/llms HTTP/1.1\r\nHost: x\r\n"
    length = f"Content-Length: {len(body)}\r\n".encode()
    pad = size - len(start) - len(length) - len(b"X-Pad: \r\n\r\n")
    return start + length + b"X-Pad: " + b"a" * pad + b"\r\n\r\n" + body


def events(conn: HeadLimitedConnection, *pieces: bytes) -> list[object]:
    found: list[object] = []
    for piece in pieces:
        conn.receive_data(piece)
        while (event := conn.next_event()) is not h11.NEED_DATA:
            found.append(event)
            if isinstance(event, h11.EndOfMessage):
                conn.send(h11.Response(status_code=200, headers=[("content-length", "0")]))
                conn.send(h11.EndOfMessage())
                conn.start_next_cycle()
    return found


def test_a_head_of_exactly_the_limit_passes_one_byte_more_is_refused_whole_or_in_pieces() -> None:
    assert len(head_of(LIMIT)) == LIMIT
    accepted = events(HeadLimitedConnection(LIMIT), head_of(LIMIT))
    assert [type(e) for e in accepted] == [h11.Request, h11.EndOfMessage]
    over = head_of(LIMIT + 1)
    for pieces in ([over], [over[i : i + 97] for i in range(0, len(over), 97)]):
        conn = HeadLimitedConnection(LIMIT)
        with pytest.raises(h11.RemoteProtocolError) as refused:
            events(conn, *pieces)
        assert refused.value.error_status_hint == 431
        assert conn.head_too_large


def test_the_body_does_not_count_and_each_request_of_a_connection_is_measured_alone() -> None:
    body = b"x" * (3 * LIMIT)
    one = head_of(LIMIT - 10, body=body)
    found = events(HeadLimitedConnection(LIMIT), one + one + one)  # pipelined, one chunk
    assert [type(e) for e in found if isinstance(e, h11.Request)] == [h11.Request] * 3
    assert sum(len(e.data) for e in found if isinstance(e, h11.Data)) == 3 * len(body)


def test_other_protocol_errors_are_not_taken_for_a_large_head() -> None:
    conn = HeadLimitedConnection(LIMIT)
    with pytest.raises(h11.RemoteProtocolError):
        events(conn, b"NOT HTTP\r\n\r\n")
    assert not conn.head_too_large and conn.refusal is not None
