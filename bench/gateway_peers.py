"""The processes of the gateway benchmarks: the mock upstream, modelplane, LiteLLM proxy.

Each runs on 127.0.0.1 on a free port, its output in a file of the run's directory, and is
stopped by `Peer.stop` (SIGTERM, then SIGKILL). modelplane is `modelplane serve` on SQLite
with default settings (JSON access log on) but a rate limit that never refuses, with one
LLM connection (`POST /v1/llms`, inline key) pointing at the mock. LiteLLM is its proxy
with one worker, one model pointing at the same mock, and a master key.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))
from tests.support.processes import terminate  # noqa: E402
from tests.support.server import Server, free_port  # noqa: E402

__all__ = ["Peer", "free_port", "start_litellm", "start_mock", "start_modelplane", "wait_ready"]

MODEL = "mock-1"
UPSTREAM_KEY = "sk-mock-upstream-0123456789"
MODELPLANE_TOKEN = "mp_bench_admin_token_0123456789abcdef"
LITELLM_KEY = "sk-litellm-bench-0123456789"
CHAT = "/chat/completions"
# One key at full speed: a limit that never refuses, so every call still pays for the
# rate-limit check (as bench/read_llm.py does).
RATE_LIMIT = {
    "MODELPLANE_RATE_LIMIT_PER_SECOND": "1000000",
    "MODELPLANE_RATE_LIMIT_BURST": "1000000",
}
START_SECONDS = 120.0  # LiteLLM takes several seconds to import on a quiet machine


@dataclass
class Peer:
    """A server the benchmark talks to: where to POST chat completions, with which headers."""

    name: str
    pid: int
    chat_url: str
    headers: dict[str, str]
    process: subprocess.Popen[bytes] | None = None
    server: Server | None = None

    def stop(self) -> None:
        """Stop the process and wait for it."""
        if self.server is not None:
            self.server.stop()
        if self.process is not None:
            terminate(self.process)


def _spawn(
    args: list[str], directory: Path, name: str, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    with (directory / f"{name}.out").open("wb") as out:
        return subprocess.Popen(args, cwd=directory, env=env, stdout=out, stderr=subprocess.STDOUT)


def wait_ready(process: subprocess.Popen[bytes], url: str, name: str, directory: Path) -> None:
    """Poll `url` until it answers below 500; the end of its log if the process exits."""
    started = time.monotonic()
    while time.monotonic() - started < START_SECONDS:
        if process.poll() is not None:
            log = (directory / f"{name}.out").read_text(errors="replace")[-3000:]
            raise RuntimeError(f"{name} exited {process.returncode}:\n{log}")
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    process.kill()
    raise TimeoutError(f"{name} not ready after {START_SECONDS:.0f} s")


def start_mock(directory: Path, llmock: str | None = None, framework: str = "asyncio") -> Peer:
    """The mock upstream: bench/mock_upstream.py on `framework`, or llmock's server when
    `llmock` names it."""
    port = free_port()
    if llmock:
        args = [llmock, "serve", "--port", str(port), "--log-level", "warning"]
        args += ["--response-style", "static", "--tool-mode", "off"]
        name = "llmock"
    else:
        args = [sys.executable, str(BENCH / "mock_upstream.py"), "--port", str(port)]
        args += ["--framework", framework]
        name = "mock"
    process = _spawn(args, directory, name)
    base = f"http://127.0.0.1:{port}/v1"
    wait_ready(process, f"http://127.0.0.1:{port}/", name, directory)
    headers = {"Authorization": f"Bearer {UPSTREAM_KEY}"}
    return Peer("direct", process.pid, base + CHAT, headers, process=process)


def start_modelplane(directory: Path, upstream_base: str) -> Peer:
    """`modelplane serve` with one LLM connection to `upstream_base`, called as `mock-1`."""
    env = {"MODELPLANE_BOOTSTRAP_TOKEN": MODELPLANE_TOKEN, **RATE_LIMIT}
    server = Server(cwd=directory, env=env)
    server.start()
    server.wait_ready()
    headers = {"Authorization": f"Bearer {MODELPLANE_TOKEN}"}
    body = {
        "displayName": "bench mock",
        "providerType": "CUSTOM_OPENAI_COMPATIBLE",
        "endpointUrl": upstream_base,
        "modelIdentifier": MODEL,
        "credentials": {
            "kind": "CREDENTIAL_KIND_API_KEY",
            "apiKey": {"inlineSecret": UPSTREAM_KEY},
        },
    }
    created = httpx.post(f"{server.url}/v1/llms", json=body, headers=headers, timeout=30)
    if created.status_code != 201:
        server.stop()
        raise RuntimeError(f"POST /v1/llms answered {created.status_code}: {created.text}")
    assert server.process is not None
    return Peer(
        "modelplane", server.process.pid, f"{server.url}/openai/v1{CHAT}", headers, server=server
    )


def litellm_config(upstream_base: str) -> str:
    """LiteLLM proxy's config: `mock-1` as an OpenAI-compatible model at `upstream_base`."""
    return (
        "model_list:\n"
        f"  - model_name: {MODEL}\n"
        "    litellm_params:\n"
        f"      model: openai/{MODEL}\n"
        f"      api_base: {upstream_base}\n"
        f"      api_key: {UPSTREAM_KEY}\n"
        "general_settings:\n"
        f"  master_key: {LITELLM_KEY}\n"
    )


def start_litellm(directory: Path, litellm: str, upstream_base: str) -> Peer:
    """LiteLLM proxy (`litellm --config … --num_workers 1`) in front of `upstream_base`."""
    config = directory / "litellm.yaml"
    config.write_text(litellm_config(upstream_base))
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("MODELPLANE_")},
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",  # no fetch of the cost map at start
        "LITELLM_TELEMETRY": "False",
    }
    args = [litellm, "--config", str(config), "--host", "127.0.0.1", "--port", str(port)]
    process = _spawn([*args, "--num_workers", "1"], directory, "litellm", env)
    base = f"http://127.0.0.1:{port}"
    wait_ready(process, f"{base}/health/liveliness", "litellm", directory)
    headers = {"Authorization": f"Bearer {LITELLM_KEY}"}
    return Peer("LiteLLM", process.pid, f"{base}/v1{CHAT}", headers, process=process)
