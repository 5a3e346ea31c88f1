"""The gateway measured side by side: a mock upstream direct, through modelplane, through LiteLLM.

    python bench/gateway.py [--duration 10] [--rounds 3] [--streams 200]
                            [--litellm PATH] [--llmock PATH | --mock-framework fastapi]

Needs `wrk`. Starts a mock OpenAI-compatible upstream (`bench/mock_upstream.py`: raw
asyncio, or a FastAPI app with `--mock-framework fastapi`; or llmock's server with
`--llmock PATH`), `modelplane serve` (SQLite, JSON access log on, a
rate limit that never refuses, one LLM connection to the mock) and, given `--litellm PATH`
or `$LITELLM_BIN`, LiteLLM proxy (one worker, the same mock); without it the LiteLLM column
is skipped. Then, in interleaved rounds, each target in turn:

- `wrk -t1 -c1`: p50 latency, the added p50 against direct, and for modelplane the p50 of
  its `x-modelplane-overhead-ms` header;
- `wrk -t1 -c32`: requests/s and the ratio to direct, server CPU per request, and the
  server's peak resident memory meanwhile (VmRSS sampled every 20 ms);
- `--streams` sequential streaming calls: time to the first body bytes (p50).

Prints Markdown tables for BENCHMARKS.md and the targets of issue 14, point 7.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import smoke
from gateway_peers import Peer, start_litellm, start_mock, start_modelplane
from loadgen import FirstChunks, WrkRun, first_chunks, memory_kib, wrk_post

WARM_UP = smoke.cap(2, 1)  # seconds of wrk -c4 per target before measuring
SAMPLE_SECONDS = 0.02


@dataclass
class Results:
    """What one target measured, round by round."""

    c1: list[WrkRun] = field(default_factory=list)
    c32: list[WrkRun] = field(default_factory=list)
    streams: list[FirstChunks] = field(default_factory=list)
    rss_idle_kib: int = 0
    rss_peak_kib: int = 0


@contextmanager
def peak_rss(pid: int, results: Results) -> Iterator[None]:
    """Sample the process's VmRSS while the block runs; keep the highest in `results`."""
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            results.rss_peak_kib = max(results.rss_peak_kib, memory_kib(pid, "VmRSS"))
            stop.wait(SAMPLE_SECONDS)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        yield
    finally:
        stop.set()
        sampler.join()


def check(peers: list[Peer]) -> None:
    """Each target answers the mock's completion, and streams it to `[DONE]`."""
    answers = {}
    for peer in peers:
        response = httpx.post(
            peer.chat_url,
            content=b'{"model": "mock-1", "messages": [{"role": "user", "content": "hi"}]}',
            headers={**peer.headers, "content-type": "application/json"},
            timeout=30,
        )
        if response.status_code != 200:
            raise RuntimeError(f"{peer.name}: {response.status_code} {response.text}")
        answers[peer.name] = response.json()["choices"][0]["message"]["content"]
        first_chunks(peer.chat_url, headers=peer.headers, count=1)
    if len(set(answers.values())) != 1:
        raise RuntimeError(f"the targets answered differently: {answers}")


def measure(peers: list[Peer], *, duration: int, rounds: int, streams: int) -> dict[str, Results]:
    """Interleaved rounds of c1, c32 and streams over every target."""
    results = {peer.name: Results() for peer in peers}
    for peer in peers:
        wrk_post(peer.chat_url, duration=WARM_UP, connections=4, headers=peer.headers)
        first_chunks(peer.chat_url, headers=peer.headers, count=min(streams, 20))
        results[peer.name].rss_idle_kib = memory_kib(peer.pid, "VmRSS")
    for n in range(rounds):
        for peer in peers:
            run = wrk_post(
                peer.chat_url, duration=duration, connections=1, headers=peer.headers, overhead=True
            )
            results[peer.name].c1.append(run)
        for peer in peers:
            with peak_rss(peer.pid, results[peer.name]):
                run = wrk_post(
                    peer.chat_url,
                    duration=duration,
                    connections=32,
                    headers=peer.headers,
                    pid=peer.pid,
                )
            results[peer.name].c32.append(run)
        for peer in peers:
            chunks = first_chunks(peer.chat_url, headers=peer.headers, count=streams)
            results[peer.name].streams.append(chunks)
        print(f"round {n + 1} of {rounds} done, load average {os.getloadavg()[0]:.2f}", flush=True)
    return results


def _per_round(
    results: dict[str, Results], name: str, value: Callable[[Results, int], float]
) -> list[float]:
    return [value(results[name], n) for n in range(len(results[name].c1))]


def report(results: dict[str, Results]) -> None:
    """Print the comparison and the targets as Markdown tables."""
    direct = "direct"

    def added(name: str, value: Callable[[Results, int], float]) -> float:
        ours, base = _per_round(results, name, value), _per_round(results, direct, value)
        return statistics.median(a - b for a, b in zip(ours, base, strict=True))

    def c1(r: Results, n: int) -> float:
        return r.c1[n].p50_ms

    def ttfc(r: Results, n: int) -> float:
        return r.streams[n].p50

    def rate(r: Results, n: int) -> float:
        return r.c32[n].rps

    print(
        "| target | p50 at c1, ms (rounds) | added p50 | overhead header p50 (c1; streams) "
        "| req/s at c32 (rounds) | ratio to direct | server CPU µs/request at c32 "
        "| TTFC p50, ms (rounds) | added TTFC | server RSS idle → peak at c32 |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    summary: dict[str, float] = {}
    for name, r in results.items():
        rounds = range(len(r.c1))
        ratio = statistics.median(rate(r, n) / rate(results[direct], n) for n in rounds)
        header = [v for run in r.c1 for v in run.overhead_ms]
        stream_header = [v for s in r.streams for v in s.overhead_ms]
        header_cell = (
            f"{statistics.median(header):.3f}; {statistics.median(stream_header):.3f} ms"
            if header and stream_header
            else "-"
        )
        is_direct = name == direct
        cells = [
            name,
            ", ".join(f"{c1(r, n):.3f}" for n in rounds),
            "-" if is_direct else f"+{added(name, c1):.3f} ms",
            header_cell,
            ", ".join(f"{rate(r, n):.0f}" for n in rounds),
            "1" if is_direct else f"{ratio:.3f}",
            f"{statistics.median(run.cpu_us for run in r.c32):.0f}",
            ", ".join(f"{ttfc(r, n):.3f}" for n in rounds),
            "-" if is_direct else f"+{added(name, ttfc):.3f} ms",
            f"{r.rss_idle_kib / 1024:.0f} → {r.rss_peak_kib / 1024:.0f} MiB",
        ]
        print("| " + " | ".join(cells) + " |")
        if name == "modelplane":
            summary = {
                "added_p50": added(name, c1),
                "ratio": ratio,
                "added_ttfc": added(name, ttfc),
                "rss_mb": r.rss_peak_kib * 1024 / 1e6,
            }
    print()
    print("| target (issue 14, point 7) | modelplane | met |")
    print("|---|---|---|")
    rows = [
        (
            "added p50 at one connection ≤ 1 ms",
            f"+{summary['added_p50']:.3f} ms",
            summary["added_p50"] <= 1.0,
        ),
        (
            "req/s at 32 connections ≥ half of direct",
            f"{summary['ratio']:.3f} of direct",
            summary["ratio"] >= 0.5,
        ),
        (
            "streaming time to first chunk ≤ 1 ms added",
            f"+{summary['added_ttfc']:.3f} ms",
            summary["added_ttfc"] <= 1.0,
        ),
        (
            "server memory < 150 MB under that load",
            f"{summary['rss_mb']:.0f} MB peak",
            summary["rss_mb"] < 150,
        ),
    ]
    for label, value, ok in rows:
        print(f"| {label} | {value} | {'yes' if ok else '**no**'} |")


def _tool(option: str | None, variable: str, what: str, absent: str) -> str | None:
    """The executable given by an option or a variable; None when absent (said so)."""
    path = option or os.environ.get(variable)
    if not path:
        print(f"{what}: not given (--{what.lower()} PATH or ${variable}); {absent}.", flush=True)
        return None
    found = shutil.which(path)
    if found is None:
        print(f"{what}: {path} is not an executable; {absent}.", flush=True)
        return None
    return str(Path(found).absolute())  # the servers start in directories of their own


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds")
    parser.add_argument("--streams", type=int, default=200, help="streams per target and round")
    parser.add_argument("--litellm", help="LiteLLM's `litellm` executable (or $LITELLM_BIN)")
    parser.add_argument("--llmock", help="llmock's executable, as the mock (or $LLMOCK_BIN)")
    parser.add_argument(
        "--mock-framework",
        choices=("asyncio", "fastapi"),
        default="asyncio",
        help="what bench/mock_upstream.py runs on (without llmock)",
    )
    args = smoke.cap_args(parser.parse_args(), duration=1, rounds=1, streams=5)
    if shutil.which("wrk") is None:
        sys.exit("wrk is required: apt-get install wrk")
    litellm = _tool(args.litellm, "LITELLM_BIN", "LiteLLM", "its column is skipped")
    llmock = None
    if args.llmock or os.environ.get("LLMOCK_BIN"):
        llmock = _tool(args.llmock, "LLMOCK_BIN", "llmock", "bench/mock_upstream.py is the mock")
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        peers: list[Peer] = []
        try:
            peers.append(start_mock(directory, llmock, args.mock_framework))
            upstream_base = peers[0].chat_url.removesuffix("/chat/completions")
            peers.append(start_modelplane(directory, upstream_base))
            if litellm:
                peers.append(start_litellm(directory, litellm, upstream_base))
            check(peers)
            results = measure(
                peers, duration=args.duration, rounds=args.rounds, streams=args.streams
            )
        finally:
            for peer in reversed(peers):
                peer.stop()
    mock_name = "llmock" if llmock else f"bench/mock_upstream.py on {args.mock_framework}"
    print(
        f"\n{started}; {os.cpu_count()} cores; load average {load_before:.2f} at the start, "
        f"{os.getloadavg()[0]:.2f} at the end; mock: {mock_name}"
        f"; wrk -t1, {args.duration} s per run; {args.rounds} interleaved rounds; "
        f"{args.streams} streams per target and round; added = median of per-round differences\n"
    )
    report(results)


if __name__ == "__main__":
    main()
