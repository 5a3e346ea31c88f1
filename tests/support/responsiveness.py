"""Whether a live server's event loop stays free: /healthz timed from a thread, and its RSS."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from types import TracebackType

import httpx

PROBE_INTERVAL = 0.005  # seconds between the end of one /healthz and the next
PROBE_MAX = 20_000  # a bound on the probes of one run, whatever happens


class HealthProbe:
    """Asks `/healthz` again and again on a thread of its own while the `with` body runs.

    `latencies` holds the seconds each answer took; a request that fails counts as the time
    until it failed (capped by `timeout`).
    """

    def __init__(self, url: str, *, timeout: float = 30.0) -> None:
        self.url = url
        self.timeout = timeout
        self.latencies: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @property
    def worst(self) -> float:
        """The slowest answer, in seconds."""
        return max(self.latencies)

    def _run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=self.timeout) as http:
            http.get("/healthz")  # connected before the first timed probe
            while not self._stop.is_set() and len(self.latencies) < PROBE_MAX:
                started = time.perf_counter()
                try:
                    http.get("/healthz").raise_for_status()
                finally:
                    self.latencies.append(time.perf_counter() - started)
                time.sleep(PROBE_INTERVAL)

    def __enter__(self) -> HealthProbe:
        self._thread.start()
        time.sleep(0.05)  # a few probes answered before the body starts
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        time.sleep(0.05)  # and a few after it
        self._stop.set()
        self._thread.join(self.timeout + 1)


def rss_bytes(pid: int) -> int:
    """The resident memory of process `pid` (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise LookupError(f"no VmRSS for process {pid}")


def cpu_seconds(pid: int) -> float:
    """The CPU time process `pid` has used, user and system (Linux; 10 ms steps)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    user, system = int(fields[11]), int(fields[12])  # utime and stime, fields 14 and 15
    return (user + system) / os.sysconf("SC_CLK_TCK")
