"""Read-path benchmark: modelplane vs a bare FastAPI handler, measured in one run.

    python bench/read_llm.py [--duration 10] [--connections 32] [--stacks serve,httptools]
        [--baseline httptools|h11] [--granian PATH]

Needs `wrk` (Debian package `wrk`). Starts modelplane on each server stack of `--stacks`
(bench/stacks.py: `serve` is the product; the others run the application alone, to see
what a stack costs) and a bare FastAPI app on uvicorn with `--baseline` (default
httptools on uvloop), each one process on 127.0.0.1 sharing one SQLite database; loads
200 LLMs, then measures with wrk, interleaved: GET /v1/llms/{id} (with auth) and
GET /v1/llms (200 items), each against the bare handler. Also startup-to-ready time and
`modelplane --help` time. Prints a Markdown table for BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import compileall
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import smoke
import stacks

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
    cpu: Callable[[], float] | None = None,
    script: Path | None = None,
    script_args: tuple[str, ...] = (),
) -> dict[str, float]:
    """Run wrk with one thread; requests/s, p99 latency (ms), server CPU µs per request.

    The server's CPU is read from process `pid`, or by `cpu` (seconds so far).
    `script` is a wrk Lua script (for bodies or per-request headers), given `script_args`.
    """
    if pid:
        cpu = lambda: cpu_seconds(pid)  # noqa: E731
    cpu_before = cpu() if cpu else 0.0
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
    cpu_us = (cpu() - cpu_before) / total * 1e6 if cpu else 0.0
    return {"rps": rps, "p99_ms": p99, "cpu_us": cpu_us}


def start_bare(directory: Path, baseline: str = "httptools") -> subprocess.Popen[bytes]:
    """The bare app on uvicorn's `baseline` stack (httptools on uvloop, or h11 on asyncio)."""
    port = free_port()
    args = stacks.uvicorn_args("bare_app:app", baseline, port)
    running = stacks.start(
        "bare", args, cwd=ROOT / "bench", env={}, port=port, probe="/v1/llms/x", logs=directory
    )
    process = running.process
    process.port = port  # type: ignore[attr-defined]
    return process


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
    """Process start to /readyz 200: on an empty directory, and restarting on its database.

    The package's bytecode is compiled first, as `pip install` does (and as a checkout's
    first start does, unless PYTHONDONTWRITEBYTECODE is set, as on the benchmark machine:
    compiling the sources again costs 0.3 s of every start there).
    """
    compileall.compile_dir(ROOT / "src" / "modelplane", quiet=1)
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


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--runs", type=int, default=5, help="startup and --help repetitions")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved load rounds")
    parser.add_argument(
        "--stacks",
        default="serve",
        help=f"modelplane's server stacks, comma-separated, of {', '.join(stacks.STACKS)}",
    )
    parser.add_argument("--baseline", choices=stacks.BASELINES, default="httptools")
    parser.add_argument(
        "--granian", help=f"granian's executable (default ${stacks.GRANIAN_ENV}), for `granian`"
    )
    args = smoke.cap_args(parser.parse_args(), duration=1, connections=4, runs=1, rounds=1)
    args.stacks = args.stacks.split(",")
    if unknown := set(args.stacks) - set(stacks.STACKS):
        parser.error(f"unknown stacks: {', '.join(sorted(unknown))}")
    args.granian = stacks.granian_path(args.granian)
    if "granian" in args.stacks and args.granian is None:
        print(f"granian not found (--granian or ${stacks.GRANIAN_ENV}): its rows are skipped")
        args.stacks.remove("granian")
    if not args.stacks:
        parser.error("no stack to measure")
    return args


Runs = dict[str, dict[str, list[dict[str, float]]]]  # target → stack or "bare" → rounds


def measure(args: argparse.Namespace, directory: Path) -> Runs:
    """Start the servers, seed, and load them in interleaved rounds."""
    env = {"MODELPLANE_BOOTSTRAP_TOKEN": TOKEN, **RATE_LIMIT}  # defaults: access log on
    servers: list[stacks.Running] = []
    bare = start_bare(directory, args.baseline)
    bare_url = f"http://127.0.0.1:{bare.port}"  # type: ignore[attr-defined]
    try:
        for stack in args.stacks:  # one after the other: the first creates the database
            port = free_port()
            command, extra = stacks.command(stack, port, args.granian)
            servers.append(
                stacks.start(
                    stack, command, cwd=directory, env={**env, **extra}, port=port, probe="/readyz"
                )
            )
        llm_id = seed(servers[0].url, LLMS)
        load = {"duration": args.duration, "connections": args.connections}
        warm = {"duration": WARM_UP, "connections": 4}
        for server in servers:
            wrk(f"{server.url}/v1/llms/{llm_id}", headers=HEADERS, **warm)
        wrk(f"{bare_url}/v1/llms/x", headers={}, **warm)
        paths = {"get": f"/v1/llms/{llm_id}", "list": "/v1/llms"}
        results: Runs = {name: {s: [] for s in [*args.stacks, "bare"]} for name in paths}
        for _ in range(args.rounds):  # interleaved, so drift hits every side alike
            for name, path in paths.items():
                for server in servers:
                    run = wrk(server.url + path, headers=HEADERS, cpu=server.cpu_seconds, **load)
                    results[name][server.name].append(run)
                run = wrk(bare_url + path, headers={}, pid=bare.pid, **load)
                results[name]["bare"].append(run)
        return results
    finally:
        for server in servers:
            server.stop()
        bare.terminate()
        bare.wait()


def report(args: argparse.Namespace, results: Runs) -> None:
    """The Markdown tables: each stack against the bare handler, then start-up times."""
    print(
        f"machine: {os.cpu_count()} cores; wrk -t1 -c{args.connections} -d{args.duration}s; "
        f"{args.rounds} interleaved rounds; ratio = median of per-round ratios; "
        f"bare FastAPI on uvicorn {'+'.join(stacks.UVICORN[args.baseline])}"
    )
    print(
        "| measure | server stack | req/s (p99), per round | ratio to bare | target "
        "| CPU µs/request (ratio bare/stack) |"
    )
    print("|---|---|---|---|---|---|")
    labels = {
        "get": ("GET /v1/llms/{id}", "≥ 0.7"),
        "list": (f"GET /v1/llms ({LLMS} items)", "≥ 0.2"),
    }
    for name, (label, target) in labels.items():
        bare_runs = results[name]["bare"]
        bare_cpu = statistics.median(r["cpu_us"] for r in bare_runs)
        for stack, runs in results[name].items():
            ratio = statistics.median(
                m["rps"] / b["rps"] for m, b in zip(runs, bare_runs, strict=True)
            )
            cell = ", ".join(f"{r['rps']:.0f} ({r['p99_ms']:.0f} ms)" for r in runs)
            cpu = statistics.median(r["cpu_us"] for r in runs)
            who = "bare FastAPI" if stack == "bare" else f"modelplane, {stack}"
            print(
                f"| {label} | {who} | {cell} | {ratio:.2f} | {target} "
                f"| {cpu:.0f} ({bare_cpu / cpu:.2f}) |"
            )


def main() -> None:
    args = parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is required: apt-get install wrk")
    with tempfile.TemporaryDirectory() as tmp:
        results = measure(args, Path(tmp))
    report(args, results)  # before the start-up times, which may fail on their own
    first_start, restart = startup_times(args.runs)
    helps = help_times(args.runs * 2)
    print("| measure | modelplane serve | target |")
    print("|---|---|---|")
    print(
        f"| first start to ready, empty dir (median of {len(first_start)}) "
        f"| {statistics.median(first_start):.2f} s | < 1.5 s |"
    )
    print(
        f"| restart to ready, existing db (median of {len(restart)}) "
        f"| {statistics.median(restart):.2f} s | < 1.5 s |"
    )
    print(
        f"| `modelplane --help` (median of {len(helps)}) | {statistics.median(helps):.3f} s "
        "| < 0.3 s |"
    )


if __name__ == "__main__":
    main()
