"""Read-path benchmark: modelplane vs a bare FastAPI handler, measured in one run.

    python bench/read_llm.py [--duration 10] [--connections 32]

Needs `wrk` (Debian package `wrk`). Starts both servers on 127.0.0.1 (one uvicorn
process each, SQLite for modelplane), loads 200 LLMs, then measures with wrk:
GET /v1/llms/{id} (with auth) and GET /v1/llms (200 items), each against the bare
handler. Also startup-to-ready time and `modelplane --help` time. Prints a Markdown
table for BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import smoke

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.support.server import Server, free_port  # noqa: E402

TOKEN = "mp_bench_admin_token_0123456789abcdef"
HEADERS = {"x-api-key": TOKEN}
# One key at full speed: a limit that never refuses, so every request still pays for the
# rate-limit check (MODELPLANE_RATE_LIMIT_PER_SECOND=0 would skip it).
RATE_LIMIT = {
    "MODELPLANE_RATE_LIMIT_PER_SECOND": "1000000",
    "MODELPLANE_RATE_LIMIT_BURST": "1000000",
}
LLMS = smoke.cap(200, 10)  # seeded, and listed by GET /v1/llms
WARM_UP = smoke.cap(2, 1)  # seconds of wrk before measuring


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wrk(
    url: str,
    *,
    duration: int,
    connections: int,
    headers: dict[str, str],
    pid: int | None = None,
    script: Path | None = None,
    script_args: tuple[str, ...] = (),
) -> dict[str, float]:
    """Run wrk with one thread; requests/s, p99 latency (ms), server CPU µs per request.

    `script` is a wrk Lua script (for bodies or per-request headers), given `script_args`.
    """
    cpu_before = cpu_seconds(pid) if pid else 0.0
    args = ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency", "--timeout", "10s"]
    for name, value in headers.items():
        args += ["-H", f"{name}: {value}"]
    if script is not None:
        args += ["-s", str(script)]
    extra = ["--", *script_args] if script_args else []
    out = subprocess.run([*args, url, *extra], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p99_match = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    assert p99_match, out
    value, unit = float(p99_match.group(1)), p99_match.group(2)
    p99 = value / 1000 if unit == "us" else value * 1000 if unit == "s" else value
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    if non2xx or errors:
        raise RuntimeError(f"wrk saw errors against {url}:\n{out}")
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    cpu_us = (cpu_seconds(pid) - cpu_before) / total * 1e6 if pid else 0.0
    return {"rps": rps, "p99_ms": p99, "cpu_us": cpu_us}


def start_bare(directory: Path) -> subprocess.Popen[bytes]:
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "bare_app:app",
            "--port",
            str(port),
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        cwd=ROOT / "bench",
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    process.port = port  # type: ignore[attr-defined]
    for _ in range(1200):  # up to a minute on a loaded machine
        try:
            httpx.get(f"http://127.0.0.1:{port}/v1/llms/x", timeout=0.5)
            return process
        except httpx.HTTPError:
            time.sleep(0.05)
    raise RuntimeError("bare app did not start")


def seed(url: str, count: int) -> str:
    with httpx.Client(base_url=url, headers=HEADERS) as http:
        first = ""
        for n in range(count):
            body = {
                "displayName": f"bench model {n}",
                "providerType": "OPENAI",
                "endpointUrl": f"https://api{n}.example.com/v1",
                "modelIdentifier": "gpt-4o",
                "credentials": {
                    "kind": "CREDENTIAL_KIND_API_KEY",
                    "apiKey": {"inlineSecret": f"sk-bench-{n}"},
                },
                "labels": {"env": "bench", "n": str(n)},
            }
            response = http.post("/v1/llms", json=body)
            response.raise_for_status()
            first = first or response.json()["llm"]["llmId"]
        return first


def startup_times(runs: int) -> tuple[list[float], list[float]]:
    """Process start to /readyz 200: on an empty directory, and restarting on its database."""
    first, restart = [], []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            for times in (first, restart):
                server = Server(cwd=Path(tmp), env={"MODELPLANE_BOOTSTRAP_TOKEN": TOKEN})
                started = time.monotonic()
                server.start()
                server.wait_ready()
                times.append(time.monotonic() - started)
                server.stop()
    return first, restart


def help_times(runs: int) -> list[float]:
    exe = shutil.which("modelplane") or "modelplane"
    times = []
    for _ in range(runs):
        started = time.monotonic()
        subprocess.run([exe, "--help"], capture_output=True, check=True)
        times.append(time.monotonic() - started)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--runs", type=int, default=5, help="startup and --help repetitions")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved load rounds")
    args = smoke.cap_args(parser.parse_args(), duration=1, connections=4, runs=1, rounds=1)
    if shutil.which("wrk") is None:
        sys.exit("wrk is required: apt-get install wrk")

    with tempfile.TemporaryDirectory() as tmp:
        env = {"MODELPLANE_BOOTSTRAP_TOKEN": TOKEN, **RATE_LIMIT}  # defaults: access log on
        bare = start_bare(Path(tmp))
        bare_url = f"http://127.0.0.1:{bare.port}"  # type: ignore[attr-defined]
        try:
            with Server(cwd=Path(tmp), env=env) as server:
                llm_id = seed(server.url, LLMS)
                load = {"duration": args.duration, "connections": args.connections}
                warm = {"duration": WARM_UP, "connections": 4}
                wrk(f"{server.url}/v1/llms/{llm_id}", headers=HEADERS, **warm)
                wrk(f"{bare_url}/v1/llms/x", headers={}, **warm)
                targets = {
                    "get": (f"{server.url}/v1/llms/{llm_id}", f"{bare_url}/v1/llms/{llm_id}"),
                    "list": (f"{server.url}/v1/llms", f"{bare_url}/v1/llms"),
                }
                results = {name: {"mp": [], "bare": []} for name in targets}
                mp_pid = server.process.pid  # type: ignore[union-attr]
                for _ in range(args.rounds):  # interleaved, so drift hits both sides alike
                    for name, (mp_url, bare_url_n) in targets.items():
                        mp_run = wrk(mp_url, headers=HEADERS, pid=mp_pid, **load)
                        results[name]["mp"].append(mp_run)
                        bare_run = wrk(bare_url_n, headers={}, pid=bare.pid, **load)
                        results[name]["bare"].append(bare_run)
        finally:
            bare.terminate()
            bare.wait()

    first_start, restart = startup_times(args.runs)
    helps = help_times(args.runs * 2)
    print(
        f"machine: {os.cpu_count()} cores; wrk -t1 -c{args.connections} -d{args.duration}s; "
        f"{args.rounds} interleaved rounds; ratio = median of per-round ratios"
    )
    print(
        "| measure | modelplane req/s (p99) | bare FastAPI req/s (p99) | ratio | target "
        "| CPU µs/request, modelplane vs bare (ratio bare/mp) |"
    )
    print("|---|---|---|---|---|---|")
    labels = {
        "get": ("GET /v1/llms/{id}", "≥ 0.7"),
        "list": (f"GET /v1/llms ({LLMS} items)", "≥ 0.2"),
    }
    for name, (label, target) in labels.items():
        mp, bare_runs = results[name]["mp"], results[name]["bare"]
        ratio = statistics.median(m["rps"] / b["rps"] for m, b in zip(mp, bare_runs, strict=True))
        cell = lambda runs: ", ".join(f"{r['rps']:.0f} ({r['p99_ms']:.0f} ms)" for r in runs)  # noqa: E731
        mp_cpu = statistics.median(r["cpu_us"] for r in mp)
        bare_cpu = statistics.median(r["cpu_us"] for r in bare_runs)
        print(
            f"| {label} | {cell(mp)} | {cell(bare_runs)} | {ratio:.2f} | {target} "
            f"| {mp_cpu:.0f} vs {bare_cpu:.0f} ({bare_cpu / mp_cpu:.2f}) |"
        )
    print(
        f"| first start to ready, empty dir (median of {len(first_start)}) "
        f"| {statistics.median(first_start):.2f} s | | | < 1.5 s |"
    )
    print(
        f"| restart to ready, existing db (median of {len(restart)}) "
        f"| {statistics.median(restart):.2f} s | | | < 1.5 s |"
    )
    print(
        f"| `modelplane --help` (median of {len(helps)}) | {statistics.median(helps):.3f} s "
        "| | | < 0.3 s |"
    )


if __name__ == "__main__":
    main()
