"""Templates and namespaces kept in memory, fresh by a watch, and optionally in a file.

`client.prompts.cached(ws, name, label="production")` and
`client.configs.cached(cluster, service)` read once, then follow the server's watch in the
background (a thread for `Client`, a task for `AsyncClient`): a label move or a new
revision reaches the cache as soon as the server commits it, on any replica. Reads
(`template`, `render`, `namespace`, `values`) never call the server, so they keep
answering with the last good state while it is away; the watch retries with a growing
pause (up to `RETRY_MAX_SECONDS`).

With `path=`, each new state is also written to that file (atomically), and a cache that
starts while the server cannot be reached (no answer, or a 5xx) starts from the file; a
server that answers with an error (the template or label does not exist, the key is
refused) is an error at start, file or not.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import threading
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, Self, TypeVar

from modelplane.client.errors import FieldViolation, InvalidArgument, ModelplaneError
from modelplane.client.models import ApiModel, ConfigNamespace, Message, PromptTemplate, Rendered
from modelplane.placeholders import Placeholders

if TYPE_CHECKING:
    from modelplane.client.async_resources import AsyncConfigs, AsyncPrompts
    from modelplane.client.resources import Configs, Prompts

RETRY_FIRST_SECONDS = 0.5
RETRY_MAX_SECONDS = 10.0
WATCH_SECONDS = 30.0
State = TypeVar("State", bound=ApiModel)
OnPrompt = Callable[[PromptTemplate], None]  # called in the follower with each new state
OnNamespace = Callable[[ConfigNamespace], None]


def unreachable(exc: ModelplaneError) -> bool:
    """Whether an error means the server could not answer (no answer, or a 5xx)."""
    return exc.status_code is None or exc.status_code >= 500


class Snapshot(Generic[State]):
    """The last good state of one watched thing, and its copy in a file (if any)."""

    def __init__(self, kind: type[State], key: Mapping[str, Any], path: str | None) -> None:
        self._kind = kind
        self._key = dict(key)
        self._path = Path(path) if path is not None else None
        self._state: State | None = None
        self._lock = threading.Lock()
        self.from_file = False

    @property
    def state(self) -> State:
        """The state held now."""
        with self._lock:
            if self._state is None:
                raise RuntimeError("the cache has not started")
            return self._state

    def keep(self, state: State) -> None:
        """Hold `state` and write it to the file."""
        with self._lock:
            self._state = state
            self.from_file = False
        if self._path is not None:
            document = {"key": self._key, "state": state.model_dump(mode="json", by_alias=True)}
            part = self._path.with_name(self._path.name + ".part")
            part.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
            os.replace(part, self._path)

    def fall_back(self, failure: ModelplaneError) -> None:
        """Start from the file, the server being unreachable; else raise `failure`."""
        if self._path is None or not unreachable(failure) or not self._path.exists():
            raise failure
        document = json.loads(self._path.read_text(encoding="utf-8"))
        if document.get("key") != self._key:
            raise failure  # a file of another template, label or namespace
        with self._lock:
            self._state = self._kind.model_validate(document["state"])
            self.from_file = True


MISSING_RULE = "missing: the template uses it and no value was given"  # as the server says


def render_locally(
    template: PromptTemplate, variables: Mapping[str, str], *, allow_partial: bool = False
) -> Rendered:
    """Fill a template held in memory as the server would: every missing variable named
    at once (`InvalidArgument`, as from the server) unless `allow_partial`."""
    values = dict(variables)
    cut = Placeholders.of(template.content)
    missing = cut.missing(values)
    if missing and not allow_partial:
        details = tuple(FieldViolation(f"variables.{n}", MISSING_RULE) for n in missing)
        message = f"variables: missing values for {', '.join(missing)}"
        raise InvalidArgument(message, code="INVALID_ARGUMENT", details=details)
    messages = None
    if template.messages is not None:
        messages = tuple(
            Message(role=m.role, content=Placeholders.of(m.content).fill(values))
            for m in template.messages
        )
    return Rendered(
        text=cut.fill(values),
        variables=template.variables,
        missing=missing,
        unused=cut.unused(values),
        version=template.version,
        messages=messages,
        config=template.config,
    )


class _PromptView:
    """What a cached template answers from memory."""

    _snapshot: Snapshot[PromptTemplate]

    @property
    def template(self) -> PromptTemplate:
        """The template held now."""
        return self._snapshot.state

    @property
    def from_file(self) -> bool:
        """Whether it still holds what the file held (the server has not answered yet)."""
        return self._snapshot.from_file

    def render(self, variables: Mapping[str, str], *, allow_partial: bool = False) -> Rendered:
        """Fill the template held now, without calling the server."""
        return render_locally(self.template, variables, allow_partial=allow_partial)


class _NamespaceView:
    """What a cached namespace answers from memory."""

    _snapshot: Snapshot[ConfigNamespace]

    @property
    def namespace(self) -> ConfigNamespace:
        """The parameters held now, at their revision."""
        return self._snapshot.state

    @property
    def values(self) -> dict[str, str]:
        """The parameters held now, as `{key: value}`."""
        return self._snapshot.state.values

    @property
    def from_file(self) -> bool:
        """Whether it still holds what the file held (the server has not answered yet)."""
        return self._snapshot.from_file


class _Follower(Generic[State]):
    """Runs `follow(held)` (a blocking watch that returns each new state) in a thread,
    keeping each state; retries with a growing pause after errors."""

    def __init__(
        self,
        snapshot: Snapshot[State],
        follow: Callable[[State], Iterator[State]],
        on_change: Callable[[State], None] | None,
    ) -> None:
        self._snapshot = snapshot
        self._follow = follow
        self._on_change = on_change
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="modelplane-cache", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        pause = RETRY_FIRST_SECONDS
        while not self._stop.is_set():
            try:
                for state in self._follow(self._snapshot.state):
                    if self._stop.is_set():
                        return
                    self._snapshot.keep(state)
                    pause = RETRY_FIRST_SECONDS
                    if self._on_change is not None:
                        self._on_change(state)
            except ModelplaneError:
                self._stop.wait(pause)
                pause = min(pause * 2, RETRY_MAX_SECONDS)
            except RuntimeError:  # the client was closed: there is nothing left to follow
                return


class _Threaded:
    """A cache followed in a thread: closed by `close` or at the end of a `with`."""

    _follower: _Follower[Any]

    def close(self) -> None:
        """Stop following (the thread ends after its current poll)."""
        self._follower.stop()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


class CachedPrompt(_PromptView, _Threaded):
    """A template at a label (or current), held in memory and kept fresh in a thread."""

    def __init__(
        self,
        prompts: Prompts,
        workspace_id: str,
        template_id: str,
        *,
        label: str | None = None,
        path: str | None = None,
        on_change: OnPrompt | None = None,
        timeout_seconds: float = WATCH_SECONDS,
    ) -> None:
        key = {"workspaceId": workspace_id, "template": template_id, "label": label}
        self._snapshot: Snapshot[PromptTemplate] = Snapshot(PromptTemplate, key, path)
        try:
            self._snapshot.keep(prompts.get(workspace_id, template_id, label=label))
        except ModelplaneError as exc:
            self._snapshot.fall_back(exc)

        def follow(held: PromptTemplate) -> Iterator[PromptTemplate]:
            return prompts.watch(
                workspace_id,
                template_id,
                label=label,
                held_version=held.version,
                timeout_seconds=timeout_seconds,
            )

        self._follower = _Follower(self._snapshot, follow, on_change)
        self._follower.start()

    @classmethod
    def start(
        cls,
        prompts: Prompts,
        workspace_id: str,
        template_id: str,
        *,
        label: str | None = None,
        path: str | None = None,
        on_change: OnPrompt | None = None,
        timeout_seconds: float = WATCH_SECONDS,
    ) -> CachedPrompt:
        """Read (or the file), then follow in a thread."""
        return cls(
            prompts,
            workspace_id,
            template_id,
            label=label,
            path=path,
            on_change=on_change,
            timeout_seconds=timeout_seconds,
        )


class CachedNamespace(_NamespaceView, _Threaded):
    """A service's parameters, held in memory and kept fresh in a thread."""

    def __init__(
        self,
        configs: Configs,
        cluster: str,
        service: str,
        *,
        path: str | None = None,
        on_change: OnNamespace | None = None,
        timeout_seconds: float = WATCH_SECONDS,
    ) -> None:
        key = {"cluster": cluster, "service": service}
        self._snapshot: Snapshot[ConfigNamespace] = Snapshot(ConfigNamespace, key, path)
        try:
            self._snapshot.keep(configs.get_namespace(cluster, service))
        except ModelplaneError as exc:
            self._snapshot.fall_back(exc)

        def follow(held: ConfigNamespace) -> Iterator[ConfigNamespace]:
            watched = configs.watch(
                cluster, service, since_revision=held.revision, timeout_seconds=timeout_seconds
            )
            return (state for state in watched if state.revision != held.revision)

        self._follower = _Follower(self._snapshot, follow, on_change)
        self._follower.start()

    @classmethod
    def start(
        cls,
        configs: Configs,
        cluster: str,
        service: str,
        *,
        path: str | None = None,
        on_change: OnNamespace | None = None,
        timeout_seconds: float = WATCH_SECONDS,
    ) -> CachedNamespace:
        """Read (or the file), then follow in a thread."""
        return cls(
            configs,
            cluster,
            service,
            path=path,
            on_change=on_change,
            timeout_seconds=timeout_seconds,
        )


class _AsyncFollower(Generic[State]):
    """Runs an async watch as a task, keeping each state; retries like `_Follower`."""

    def __init__(
        self,
        snapshot: Snapshot[State],
        follow: Callable[[State], Any],
        on_change: Callable[[State], None] | None,
    ) -> None:
        self._snapshot = snapshot
        self._follow = follow
        self._on_change = on_change
        self._task: asyncio.Task[None] = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        pause = RETRY_FIRST_SECONDS
        while True:
            try:
                async for state in self._follow(self._snapshot.state):
                    self._snapshot.keep(state)
                    pause = RETRY_FIRST_SECONDS
                    if self._on_change is not None:
                        self._on_change(state)
            except ModelplaneError:
                await asyncio.sleep(pause)
                pause = min(pause * 2, RETRY_MAX_SECONDS)

    async def stop(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


class AsyncCachedPrompt(_PromptView):
    """A template at a label (or current), held in memory and kept fresh by a task;
    made by `await client.prompts.cached(...)`."""

    def __init__(self, snapshot: Snapshot[PromptTemplate], follower: _AsyncFollower[Any]) -> None:
        self._snapshot = snapshot
        self._follower = follower

    @classmethod
    async def start(
        cls,
        prompts: AsyncPrompts,
        workspace_id: str,
        template_id: str,
        *,
        label: str | None = None,
        path: str | None = None,
        on_change: OnPrompt | None = None,
        timeout_seconds: float = WATCH_SECONDS,
    ) -> AsyncCachedPrompt:
        """Read the template (or the file), then follow it."""
        key = {"workspaceId": workspace_id, "template": template_id, "label": label}
        snapshot: Snapshot[PromptTemplate] = Snapshot(PromptTemplate, key, path)
        try:
            snapshot.keep(await prompts.get(workspace_id, template_id, label=label))
        except ModelplaneError as exc:
            snapshot.fall_back(exc)

        def follow(held: PromptTemplate) -> Any:
            return prompts.watch(
                workspace_id,
                template_id,
                label=label,
                held_version=held.version,
                timeout_seconds=timeout_seconds,
            )

        return cls(snapshot, _AsyncFollower(snapshot, follow, on_change))

    async def aclose(self) -> None:
        """Stop following."""
        await self._follower.stop()

    async def __aenter__(self) -> AsyncCachedPrompt:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()


class AsyncCachedNamespace(_NamespaceView):
    """A service's parameters, held in memory and kept fresh by a task; made by
    `await client.configs.cached(...)`."""

    def __init__(self, snapshot: Snapshot[ConfigNamespace], follower: _AsyncFollower[Any]) -> None:
        self._snapshot = snapshot
        self._follower = follower

    @classmethod
    async def start(
        cls,
        configs: AsyncConfigs,
        cluster: str,
        service: str,
        *,
        path: str | None = None,
        on_change: OnNamespace | None = None,
        timeout_seconds: float = WATCH_SECONDS,
    ) -> AsyncCachedNamespace:
        """Read the parameters (or the file), then follow them."""
        key = {"cluster": cluster, "service": service}
        snapshot: Snapshot[ConfigNamespace] = Snapshot(ConfigNamespace, key, path)
        try:
            snapshot.keep(await configs.get_namespace(cluster, service))
        except ModelplaneError as exc:
            snapshot.fall_back(exc)

        async def follow(held: ConfigNamespace) -> Any:
            watched = configs.watch(
                cluster, service, since_revision=held.revision, timeout_seconds=timeout_seconds
            )
            async for state in watched:
                if state.revision != held.revision:
                    yield state

        return cls(snapshot, _AsyncFollower(snapshot, follow, on_change))

    async def aclose(self) -> None:
        """Stop following."""
        await self._follower.stop()

    async def __aenter__(self) -> AsyncCachedNamespace:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()
