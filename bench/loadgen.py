"""Load and measures shared by the gateway benchmarks: wrk runs, time to first chunk, /proc.

`wrk_post` runs wrk with one thread and a Lua script that POSTs a chat completion
(`gateway_chat.lua`, or `gateway_chat_overhead.lua`, which also collects the
`x-modelplane-overhead-ms` header), and reads its latency percentiles and rate.
`first_chunks` times N sequential streaming requests to their first body bytes.
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

BENCH = Path(__file__).resolve().parent
PLAIN = BENCH / "gateway_chat.lua"
WITH_OVERHEAD = BENCH / "gateway_chat_overhead.lua"
STREAM_BODY = (
    b'{"model": "mock-1", "messages": [{"role": "user", "content": "Say hello."}], '
    b'"max_tokens": 16, "stream": true, "stream_options": {"include_usage": true}}'
)
_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


@dataclass
class WrkRun:
    """One wrk run: rate, latency percentiles (ms), server CPU per request, header values."""

    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    cpu_us: float = 0.0
    overhead_ms: list[float] = field(default_factory=list)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def memory_kib(pid: int, name: str) -> int:
    """A `/proc/PID/status` memory field (`VmRSS`, `VmHWM`) in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(name + ":"):
            return int(line.split()[1])
    raise LookupError(f"no {name} for process {pid}")


def _latency(out: str, percent: str) -> float:
    found = re.search(rf"^\s+{percent}%\s+([\d.]+)(us|ms|s)\s*$", out, re.MULTILINE)
    if found is None:
        raise RuntimeError(f"no {percent}% latency in wrk's output:\n{out}")
    return float(found.group(1)) * _UNITS[found.group(2)]


def wrk_post(
    url: str,
    *,
    duration: int,
    connections: int,
    headers: dict[str, str],
    pid: int | None = None,
    overhead: bool = False,
) -> WrkRun:
    """POST the chat completion to `url` for `duration` seconds over `connections`; any
    error or non-2xx answer raises. `pid`: the server whose CPU time to count."""
    cpu_before = cpu_seconds(pid) if pid else 0.0
    script = WITH_OVERHEAD if overhead else PLAIN
    args = ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency", "--timeout", "10s"]
    for name, value in headers.items():
        args += ["-H", f"{name}: {value}"]
    done = subprocess.run(
        [*args, "-s", str(script), url], capture_output=True, text=True, check=False
    )
    out = done.stdout
    if done.returncode != 0 or re.search(r"Non-2xx or 3xx responses|Socket errors", out):
        raise RuntimeError(f"wrk saw errors against {url}:\n{out}{done.stderr}")
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    total = re.search(r"(\d+) requests in", out)
    if rate is None or total is None:
        raise RuntimeError(f"unexpected wrk output:\n{out}")
    run = WrkRun(
        rps=float(rate.group(1)),
        p50_ms=_latency(out, "50"),
        p99_ms=_latency(out, "99"),
        requests=int(total.group(1)),
    )
    if pid:
        run.cpu_us = (cpu_seconds(pid) - cpu_before) / max(run.requests, 1) * 1e6
    header_line = re.search(r"^overhead_ms ?(.*)$", out, re.MULTILINE)
    if header_line:
        run.overhead_ms = [float(v) for v in header_line.group(1).split()]
    return run


@dataclass
class FirstChunks:
    """Sequential streams: time to the first body bytes (ms) and the overhead header."""

    ttfc_ms: list[float] = field(default_factory=list)
    overhead_ms: list[float] = field(default_factory=list)

    @property
    def p50(self) -> float:
        return statistics.median(self.ttfc_ms)


def first_chunks(url: str, *, headers: dict[str, str], count: int) -> FirstChunks:
    """Stream `count` chat completions one after the other over one connection; each must
    end with `data: [DONE]`."""
    found = FirstChunks()
    sent = {**headers, "content-type": "application/json"}
    with httpx.Client(timeout=30) as client:
        for _ in range(count):
            started = time.perf_counter()
            with client.stream("POST", url, content=STREAM_BODY, headers=sent) as response:
                chunks = response.iter_raw()
                first = next(chunk for chunk in chunks if chunk)
                found.ttfc_ms.append((time.perf_counter() - started) * 1000)
                rest = first + b"".join(chunks)
                if response.status_code != 200 or b"data: [DONE]" not in rest:
                    raise RuntimeError(f"{url}: a bad stream ({response.status_code}): {rest!r}")
                if "x-modelplane-overhead-ms" in response.headers:
                    found.overhead_ms.append(float(response.headers["x-modelplane-overhead-ms"]))
    return found
