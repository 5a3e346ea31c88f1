"""Render bounds: what the largest inputs of a render cost a live server, and /healthz meanwhile.

    python bench/render_bounds.py [--attempts 20]

Starts `modelplane serve` (SQLite, default settings but the access log off), makes the
templates, and sends each case `--attempts` times, one at a time, while a thread asks
`/healthz` every 5 ms. Prints a Markdown table for BENCHMARKS.md: per case the body
size, the status, the median and slowest request, the server's CPU time per request
(what the request kept the event loop busy for, plus the probes'), the slowest
/healthz answer and how much the server's resident memory grew.

- worst refusal: 100,000 characters of `${a}` with a 25,600-character value (640 MB of
  text): refused with 400 before it is built;
- largest render: the same template with a 41-character value (1,025,000 bytes);
- most variables: a 100,000-character template of 12,345 distinct variables, each filled;
- most values: that template again, `allowPartial`, with a 0.8 MiB body of 70,000 unused
  names (the body parse and the bookkeeping of unused names);
- largest create: creating the 100,000-character `${a}` template (its variables parsed).
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import smoke

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.support.responsiveness import HealthProbe, cpu_seconds, rss_bytes  # noqa: E402
from tests.support.server import Server  # noqa: E402

TOKEN = "mp_bench_admin_token_0123456789abcdef"
WORST = "${a}" * 25_000


def many_variables() -> str:
    """A template of 100,000 characters or less with as many distinct variables as fit."""
    text = "".join(f"${{v{n}}}" for n in range(20_000))[:100_000]
    return text[: text.rindex("$")]


def measure(
    server: Server, send: Callable[[], httpx.Response], attempts: int
) -> dict[str, float | int]:
    """Send `attempts` times while /healthz is probed; the timings and the growth."""
    assert server.process is not None
    pid = server.process.pid
    send()  # warm: the template is in the read cache
    rss, cpu = rss_bytes(pid), cpu_seconds(pid)
    took = []
    with HealthProbe(server.url) as probe:
        for _ in range(attempts):
            started = time.perf_counter()
            status = send().status_code
            took.append(time.perf_counter() - started)
    return {
        "status": status,
        "median_ms": statistics.median(took) * 1000,
        "max_ms": max(took) * 1000,
        "cpu_ms": (cpu_seconds(pid) - cpu) / attempts * 1000,
        "healthz_ms": probe.worst * 1000,
        "rss_mib": (rss_bytes(pid) - rss) / 2**20,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attempts", type=int, default=20)
    args = smoke.cap_args(parser.parse_args(), attempts=2)
    env = {"MODELPLANE_BOOTSTRAP_TOKEN": TOKEN, "MODELPLANE_ACCESS_LOG": "false"}
    rows = []
    with (
        tempfile.TemporaryDirectory() as tmp,
        Server(cwd=Path(tmp), env=env) as server,
        httpx.Client(base_url=server.url, headers={"x-api-key": TOKEN}, timeout=60) as http,
    ):
        ws = http.post("/v1/workspaces", json={"name": "bench"}).json()["workspaceId"]
        templates = f"/v1/workspaces/{ws}/prompt-templates"

        def create(name: str, content: str) -> httpx.Response:
            response = http.post(templates, json={"name": name, "content": content})
            response.raise_for_status()
            return response

        worst = create("worst", WORST).json()["promptTemplateId"]
        many = create("many variables", many_variables()).json()
        names = many["variables"]
        unused = {f"k{n}": "" for n in range(smoke.cap(70_000, 7_000))}
        cases = {
            "worst refusal": (worst, {"variables": {"a": "x" * 25_600}}),
            "largest render": (worst, {"variables": {"a": "x" * 41}}),
            "most variables": (many["promptTemplateId"], {"variables": dict.fromkeys(names, "yy")}),
            "most values": (many["promptTemplateId"], {"variables": unused, "allowPartial": True}),
        }
        for name, (template_id, body) in cases.items():
            content = httpx.Request("POST", "/", json=body).read()

            def send(template_id: str = template_id, content: bytes = content) -> httpx.Response:
                return http.post(
                    f"{templates}/{template_id}:render",
                    content=content,
                    headers={"content-type": "application/json"},
                )

            rows.append((name, len(content), measure(server, send, args.attempts)))
        serials = itertools.count(1)  # names are unique in a workspace
        creating = measure(server, lambda: create(f"created {next(serials)}", WORST), args.attempts)
        rows.append(("largest create", len(WORST), creating))
    print(f"{args.attempts} requests per case, one at a time; /healthz probed every 5 ms")
    print(
        "| case | body bytes | status | median ms | max ms | server CPU ms/request "
        "| slowest /healthz ms | RSS growth MiB |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for name, size, r in rows:
        print(
            f"| {name} | {size:,} | {r['status']} | {r['median_ms']:.1f} | {r['max_ms']:.1f} "
            f"| {r['cpu_ms']:.1f} | {r['healthz_ms']:.1f} | {r['rss_mib']:.1f} |"
        )


if __name__ == "__main__":
    main()
