"""`modelplane configs sync`: keep an EAS-style parameter file current.

PAI-EAS services read their dynamic parameters from a JSON file `{"properties": {key:
value}}` that the platform keeps in sync. This command does the same against modelplane:
it reads the namespace, writes the file, then long-polls the namespace's `:watch` route,
which answers what changed, and rewrites the file (keys sorted) at every new revision.
Values that parse as JSON are written as JSON (`"10"` becomes `10`, `'{"a": 1}'` an
object); the others as strings.

The file is replaced atomically (a temporary file in the same directory, then
`os.replace`), so a reader never sees half of it. When the server is down or restarts,
the command retries with a doubling, capped delay, and starts again from a full read.

`modelplane config sync --url … --cluster … --service … --out …`, the command's first
name, still works as a hidden alias that says it is deprecated.

Only typer is imported at module level: `modelplane --help` stays fast.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated, Any

import typer

from modelplane.cli import arguments
from modelplane.cli.remote import DEFAULT_URL, TokenOption, UrlOption

if TYPE_CHECKING:
    import httpx

# `modelplane config`: the hidden, deprecated first name of `modelplane configs sync`.
legacy_app = typer.Typer(
    help="Deprecated: use `modelplane configs sync`.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
DEPRECATION = (
    "modelplane: `config sync` is deprecated and will be removed; use "
    "`modelplane configs sync CLUSTER SERVICE --out FILE` (same options, MODELPLANE_URL "
    "and MODELPLANE_TOKEN)"
)

BACKOFF_FIRST_SECONDS = 0.5
_RETRIED_STATUS = frozenset({408, 425, 429})


class Refused(Exception):
    """The server refused the request for a reason that retrying will not change."""


class Unreachable(Exception):
    """The server is down, restarting, or answered with a transient error."""


def parse_value(text: str) -> Any:
    """`text` as JSON when it is JSON (NaN and Infinity excluded), else `text` itself."""

    def refuse(constant: str) -> Any:
        raise ValueError(constant)

    try:
        return json.loads(text, parse_constant=refuse)
    except ValueError:
        return text


def render_properties(configs: list[dict[str, Any]]) -> bytes:
    """The file's content for a namespace's parameters (as the native API lists them)."""
    properties = {c["key"]: parse_value(c["value"]) for c in configs}
    return json.dumps({"properties": properties}, indent=2, ensure_ascii=False).encode() + b"\n"


def write_atomically(path: Path, data: bytes) -> bool:
    """Make `path` hold `data`: a temporary file beside it, then `os.replace`. False when it
    held `data` already (nothing written). An existing file's permissions are kept."""
    try:
        if path.read_bytes() == data:
            return False
        mode: int | None = path.stat().st_mode & 0o7777
    except FileNotFoundError:
        mode = None
    temporary = path.with_name(f".{path.name}.{os.urandom(6).hex()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            if mode is not None:
                os.fchmod(fd, mode)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    _sync_directory(path.parent)
    return True


def _sync_directory(directory: Path) -> None:
    """Make the rename durable (best effort: not every platform can open a directory)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class Syncer:
    """Keeps `out` equal to one namespace's parameters."""

    def __init__(
        self,
        *,
        url: str,
        api_key: str,
        cluster: str,
        service: str,
        out: Path,
        watch_seconds: float,
        say: Callable[[str], None],
    ) -> None:
        from urllib.parse import quote

        self.base = (
            f"{url.rstrip('/')}/v1/configs/{quote(cluster, safe='')}/service/"
            f"{quote(service, safe='')}"
        )
        self.headers = {"Authorization": f"Bearer {api_key}"}
        self.out = out
        self.watch_seconds = watch_seconds
        self.say = say

    def client(self) -> httpx.Client:
        """An HTTP client whose read timeout outlasts a long-poll."""
        import httpx

        timeout = httpx.Timeout(10.0, read=self.watch_seconds + 15.0)
        return httpx.Client(headers=self.headers, timeout=timeout)

    def call(self, http: httpx.Client, url: str, **params: Any) -> dict[str, Any]:
        """GET `url` as JSON; Unreachable for what may pass, Refused for what will not."""
        import httpx

        try:
            response = http.get(url, params=params)
        except httpx.TransportError as exc:
            raise Unreachable(f"{type(exc).__name__}: {exc}") from exc
        if response.status_code >= 500 or response.status_code in _RETRIED_STATUS:
            raise Unreachable(f"HTTP {response.status_code}")
        try:
            body = response.json()
        except ValueError as exc:
            raise Unreachable(f"HTTP {response.status_code}: not JSON") from exc
        if response.status_code != 200:
            message = body.get("message") if isinstance(body, dict) else None
            raise Refused(f"HTTP {response.status_code}: {message or response.text[:200]}")
        if not isinstance(body, dict):
            raise Unreachable("unexpected answer: not a JSON object")
        return body

    def write(self, revision: int, configs: dict[str, dict[str, Any]]) -> int:
        """Write the parameters `{key: parameter}` at `revision` to the file; the revision."""
        ordered = [configs[key] for key in sorted(configs)]
        if write_atomically(self.out, render_properties(ordered)):
            self.say(f"wrote {self.out} at revision {revision} ({len(ordered)} parameters)")
        return revision

    def read(self, http: httpx.Client) -> tuple[int, dict[str, dict[str, Any]]]:
        """The namespace's revision and parameters `{key: parameter}`."""
        state = self.call(http, self.base)
        return int(state["revision"]), {c["key"]: c for c in state["configs"]}

    def once(self) -> int:
        """Read the namespace and write the file; its revision."""
        with self.client() as http:
            return self.write(*self.read(http))

    def follow(self, on_connected: Callable[[], None]) -> None:
        """Read, write, then watch, apply what changed and write at every new revision;
        return only by raising."""
        with self.client() as http:
            revision, configs = self.read(http)
            self.write(revision, configs)
            on_connected()
            while True:
                answer = self.call(
                    http,
                    self.base + ":watch",
                    sinceRevision=revision,
                    timeoutSeconds=self.watch_seconds,
                )
                if answer.get("changed"):
                    configs.update((c["key"], c) for c in answer["configs"])
                    for key in answer.get("deleted", ()):
                        configs.pop(key, None)
                    revision = self.write(int(answer["revision"]), configs)


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    sys.exit(0)  # unwinds, so a half-written temporary file is removed


OutOption = Annotated[Path, typer.Option(help="The JSON file to keep current")]
OnceOption = Annotated[bool, typer.Option("--once", help="Write the file once and exit")]
WatchSecondsOption = Annotated[
    float, typer.Option(help="How long each long-poll waits (1..300)", min=1, max=300)
]
MaxBackoffOption = Annotated[
    float,
    typer.Option(help="The longest wait between reconnection attempts, in seconds", min=0.1),
]


def sync(
    cluster: Annotated[
        str,
        typer.Argument(help="The cluster (region), e.g. cn-hangzhou", callback=arguments.non_empty),
    ],
    service: Annotated[
        str, typer.Argument(help="The service's name", callback=arguments.non_empty)
    ],
    out: OutOption,
    once: OnceOption = False,
    watch_seconds: WatchSecondsOption = 30.0,
    max_backoff: MaxBackoffOption = 30.0,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
) -> None:
    """Keep OUT equal to a service's parameters, {"properties": {key: value}}: written
    atomically, rewritten at each new revision; retries while the server is away."""
    run_sync(
        url=url,
        token=token,
        cluster=cluster,
        service=service,
        out=out,
        once=once,
        watch_seconds=watch_seconds,
        max_backoff=max_backoff,
    )


@legacy_app.command("sync")
def legacy_sync(
    cluster: Annotated[str, typer.Option(help="The cluster (region), e.g. cn-hangzhou")],
    service: Annotated[str, typer.Option(help="The service name")],
    out: OutOption,
    url: Annotated[
        str, typer.Option(envvar="MODELPLANE_URL", help="The modelplane server")
    ] = DEFAULT_URL,
    api_key: Annotated[
        str | None,
        typer.Option(
            "--api-key",
            "--token",
            help="An API key (mp_…)",
            envvar=["MODELPLANE_TOKEN", "MODELPLANE_API_KEY"],
            show_default=False,
        ),
    ] = None,
    once: OnceOption = False,
    watch_seconds: WatchSecondsOption = 30.0,
    max_backoff: MaxBackoffOption = 30.0,
) -> None:
    """Deprecated: `modelplane configs sync CLUSTER SERVICE --out FILE` does the same."""
    typer.echo(DEPRECATION, err=True)
    run_sync(
        url=url,
        token=api_key,
        cluster=cluster,
        service=service,
        out=out,
        once=once,
        watch_seconds=watch_seconds,
        max_backoff=max_backoff,
    )


def run_sync(
    *,
    url: str,
    token: str | None,
    cluster: str,
    service: str,
    out: Path,
    once: bool,
    watch_seconds: float,
    max_backoff: float,
) -> None:
    """Write OUT, then follow the namespace until stopped (or once); exit codes as below."""

    def say(message: str) -> None:
        typer.echo(f"configs sync: {message}", err=True)

    if not token:
        say("error: no API key: pass --token or set MODELPLANE_TOKEN")
        raise typer.Exit(2)
    if not url.startswith(("http://", "https://")):
        say(f"error: --url must start with http:// or https://, got {url!r}")
        raise typer.Exit(2)
    syncer = Syncer(
        url=url,
        api_key=token,
        cluster=cluster,
        service=service,
        out=out,
        watch_seconds=watch_seconds,
        say=say,
    )
    import signal

    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        if once:
            syncer.once()
            return
        delay = BACKOFF_FIRST_SECONDS

        def connected() -> None:
            nonlocal delay
            delay = BACKOFF_FIRST_SECONDS

        while True:
            try:
                syncer.follow(connected)
            except Unreachable as exc:
                say(f"server unreachable ({exc}); retrying in {delay:g}s")
                time.sleep(delay)
                delay = min(delay * 2, max_backoff)
    except Refused as exc:
        say(f"error: the server refused: {exc}")
        raise typer.Exit(2) from None
    except Unreachable as exc:  # only with --once: otherwise it retries
        say(f"error: server unreachable ({exc})")
        raise typer.Exit(1) from None
    except OSError as exc:
        say(f"error: cannot write {out}: {exc}")
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        raise typer.Exit(130) from None
