"""A live server refuses the worst render at once, without memory, and keeps answering.

The attack of issue 12: a 100,000-character template of `${a}` rendered with a
25,600-character value would be 640 MB of text; it took 14 s, grew the server by 1.8 GiB
and held `/healthz` for 10 s.

Wall-clock times on a shared machine include waiting for a CPU, so the bounds are: the
server's CPU time per refusal, the fastest refusal, and /healthz answered quickly while
the refusals run (95 % of probes within 100 ms, every one within 500 ms).
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import httpx

from modelplane.domain.prompts import CONTENT_MAX
from tests.support.responsiveness import HealthProbe, cpu_seconds, rss_bytes
from tests.support.server import Server

TOKEN = "mp_e2e_admin_token_0123456789abcdef"
ATTEMPTS = 10


def test_the_worst_render_is_refused_in_50_ms_without_growth_and_healthz_stays_quick(
    tmp_path: Path,
) -> None:
    env = {"MODELPLANE_BOOTSTRAP_TOKEN": TOKEN, "MODELPLANE_ACCESS_LOG": "false"}
    with (
        Server(cwd=tmp_path, env=env) as server,
        httpx.Client(base_url=server.url, headers={"x-api-key": TOKEN}, timeout=10) as http,
    ):
        assert server.process is not None
        ws = http.post("/v1/workspaces", json={"name": "attack"}).json()["workspaceId"]
        created = http.post(
            f"/v1/workspaces/{ws}/prompt-templates",
            json={"name": "worst", "content": "${a}" * (CONTENT_MAX // 4)},
        )
        assert created.status_code == 201, created.text
        url = f"/v1/workspaces/{ws}/prompt-templates/{created.json()['promptTemplateId']}:render"
        body = {"variables": {"a": "x" * 25_600}}
        assert http.post(url, json=body).status_code == 400  # warm: the template is cached
        pid = server.process.pid
        rss_before, cpu_before = rss_bytes(pid), cpu_seconds(pid)
        took = []
        with HealthProbe(server.url) as probe:
            for _ in range(ATTEMPTS):
                started = time.perf_counter()
                refused = http.post(url, json=body)
                took.append(time.perf_counter() - started)
                assert refused.status_code == 400, refused.text
                assert [d["field"] for d in refused.json()["details"]] == ["variables"]
        cpu = (cpu_seconds(pid) - cpu_before) / ATTEMPTS
        grown = rss_bytes(pid) - rss_before
    assert cpu < 0.05 and min(took) < 0.05, (cpu, took)
    assert statistics.quantiles(probe.latencies, n=20)[-1] < 0.1, sorted(probe.latencies)[-5:]
    assert probe.worst < 0.5, sorted(probe.latencies)[-5:]
    assert grown < 16 * 1024 * 1024, grown
