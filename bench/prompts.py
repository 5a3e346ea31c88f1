"""Prompt templates: get by id and render, against the bare FastAPI baseline, in one run.

    python bench/prompts.py [--duration 8] [--rounds 5] [--connections 32]

Needs `wrk`. Starts `modelplane serve` (SQLite, default settings, access log on) and the
bare app of `bench/bare_app.py` (same shapes, no auth, no store), creates a workspace and
a template with 10 variables, then loads both alternately, round by round:

- native get: `GET /v1/workspaces/{ws}/prompt-templates/{id}` with an API key;
- native render: `POST …/{id}:render` filling the 10 variables;
- bailian get: `GET /{ws}/promptTemplates/{id}` as the bailian SDK sends it, each request
  signed (ACS3-HMAC-SHA256, by the SDK's own signer) with a nonce of its own, so the
  server checks a signature and records a nonce in the store on every request. wrk reads
  the pre-signed requests from a file through `bench/signed_requests.lua`.

The baseline for the gets is the bare app's bailian-shaped get; for render, its render.
Prints a Markdown table for BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import sys
import tempfile
import uuid
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import httpx
import smoke
from alibabacloud_tea_openapi.utils import Utils
from read_llm import WARM_UP, start_bare, wrk

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.support.server import Server  # noqa: E402

TOKEN = "mp_bench_admin_token_0123456789abcdef"
HEADERS = {"x-api-key": TOKEN}
# One key at full speed: a limit that never refuses, so every request still pays for the
# rate-limit check (MODELPLANE_RATE_LIMIT_PER_SECOND=0 would skip it).
RATE_LIMIT = {
    "MODELPLANE_RATE_LIMIT_PER_SECOND": "1000000",
    "MODELPLANE_RATE_LIMIT_BURST": "1000000",
}
KEY_ID, KEY_SECRET = "LTAIbenchprompts01", "bench-prompts-secret-0123456789ab"
CONTENT = " ".join(f"Part {n}: ${{v{n}}}." for n in range(10))
VARIABLES = {f"v{n}": f"value number {n}" for n in range(10)}
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
RENDER_LUA = Path(__file__).with_name("render_request.lua")
SIGNED_LUA = Path(__file__).with_name("signed_requests.lua")
# wrk runs for a time, not a count: a smoke round of 1 s must not run out of pre-signed
# requests (one server process answers under 2,000 signed GETs a second; signing 10,000
# takes about 0.25 s).
SMOKE_SIGNED = 10_000


def seed(url: str) -> tuple[str, str]:
    """A workspace and a template with 10 variables; their ids."""
    with httpx.Client(base_url=url, headers=HEADERS) as http:
        ws = http.post("/v1/workspaces", json={"name": "bench", "workspaceId": "llm-bench"})
        ws.raise_for_status()
        created = http.post(
            "/v1/workspaces/llm-bench/prompt-templates",
            json={"name": "bench template", "content": CONTENT},
        )
        created.raise_for_status()
        return "llm-bench", str(created.json()["promptTemplateId"])


def signed_requests(path: Path, host: str, url_path: str, count: int) -> None:
    """`count` GETs signed like the bailian SDK's, one per line: nonce, date, authorization."""
    date = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    lines = []
    for _ in range(count):
        nonce = uuid.uuid4().hex
        headers = {
            "host": host,
            "x-acs-action": "GetPromptTemplate",
            "x-acs-version": "2023-12-29",
            "x-acs-date": date,
            "x-acs-signature-nonce": nonce,
            "x-acs-content-sha256": EMPTY_SHA256,
        }
        request = SimpleNamespace(method="GET", pathname=url_path, query={}, headers=headers)
        auth = Utils.get_authorization(
            request, "ACS3-HMAC-SHA256", EMPTY_SHA256, KEY_ID, KEY_SECRET
        )
        lines.append(f"{nonce}\t{date}\t{auth}")
    path.write_text("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=8)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--signed", type=int, default=60_000, help="pre-signed GETs per round")
    args = smoke.cap_args(
        parser.parse_args(), duration=1, connections=4, rounds=1, signed=SMOKE_SIGNED
    )
    load = {"duration": args.duration, "connections": args.connections}
    results: dict[str, dict[str, list[dict[str, float]]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            "MODELPLANE_BOOTSTRAP_TOKEN": TOKEN,
            "MODELPLANE_BOOTSTRAP_ACCESS_KEY_ID": KEY_ID,
            "MODELPLANE_BOOTSTRAP_ACCESS_KEY_SECRET": KEY_SECRET,
            **RATE_LIMIT,
        }
        bare = start_bare(Path(tmp))
        bare_url = f"http://127.0.0.1:{bare.port}"  # type: ignore[attr-defined]
        try:
            with Server(cwd=Path(tmp), env=env) as server:
                ws, template_id = seed(server.url)
                native = f"{server.url}/v1/workspaces/{ws}/prompt-templates/{template_id}"
                bailian_path = f"/{ws}/promptTemplates/{template_id}"
                host = f"127.0.0.1:{server.port}"
                pid = server.process.pid  # type: ignore[union-attr]
                bare_get = f"{bare_url}{bailian_path}"
                bare_render = f"{bare_url}/v1/workspaces/{ws}/prompt-templates/{template_id}:render"
                wrk(native, duration=WARM_UP, connections=4, headers=HEADERS)  # warm both
                wrk(bare_get, duration=WARM_UP, connections=4, headers={})
                signed_file = Path(tmp) / "signed.tsv"
                for _ in range(args.rounds):
                    signed_requests(signed_file, host, bailian_path, args.signed)
                    runs = {
                        "native get": (
                            wrk(native, headers=HEADERS, pid=pid, **load),
                            wrk(bare_get, headers={}, pid=bare.pid, **load),
                        ),
                        "native render": (
                            wrk(
                                f"{native}:render",
                                headers=HEADERS,
                                pid=pid,
                                script=RENDER_LUA,
                                **load,
                            ),
                            wrk(bare_render, headers={}, pid=bare.pid, script=RENDER_LUA, **load),
                        ),
                        "bailian get, signed": (
                            wrk(
                                f"{server.url}{bailian_path}",
                                headers={},
                                pid=pid,
                                script=SIGNED_LUA,
                                script_args=(str(signed_file),),
                                **load,
                            ),
                            wrk(bare_get, headers={}, pid=bare.pid, **load),
                        ),
                    }
                    for name, (mp_run, bare_run) in runs.items():
                        results.setdefault(name, {"mp": [], "bare": []})
                        results[name]["mp"].append(mp_run)
                        results[name]["bare"].append(bare_run)
        finally:
            bare.terminate()
            bare.wait()
    print(
        f"wrk -t1 -c{args.connections} -d{args.duration}s; {args.rounds} interleaved rounds; "
        "ratio = median of per-round ratios"
    )
    print(
        "| measure | modelplane req/s (p99) | bare FastAPI req/s (p99) | ratio "
        "| CPU µs/req mp vs bare |"
    )
    print("|---|---|---|---|---|")
    for name, sides in results.items():
        mp, base = sides["mp"], sides["bare"]
        ratio = statistics.median(m["rps"] / b["rps"] for m, b in zip(mp, base, strict=True))
        cells = [
            ", ".join(f"{r['rps']:.0f} ({r['p99_ms']:.0f} ms)" for r in runs) for runs in (mp, base)
        ]
        cpu = [statistics.median(r["cpu_us"] for r in runs) for runs in (mp, base)]
        print(f"| {name} | {cells[0]} | {cells[1]} | {ratio:.2f} | {cpu[0]:.0f} vs {cpu[1]:.0f} |")


if __name__ == "__main__":
    main()
