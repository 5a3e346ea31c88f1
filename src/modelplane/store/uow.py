"""The unit of work: one transaction per use case, repositories bound to it."""

from __future__ import annotations

from types import TracebackType

from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError

from modelplane.domain.errors import Unavailable
from modelplane.store.engine import Connection, Engine, Engines
from modelplane.store.llms import LlmRepository
from modelplane.store.principals import PrincipalRepository

_OUTAGES = (OperationalError, InterfaceError, DBAPIError, OSError, TimeoutError)


class UnitOfWork:
    """`async with uow:` opens a transaction; `commit()` makes it durable.

    Leaving the block without `commit()` rolls back. Store outages surface as
    `Unavailable` so every face answers 503 the same way.
    """

    llms: LlmRepository
    principals: PrincipalRepository

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._conn: Connection | None = None

    async def __aenter__(self) -> UnitOfWork:
        try:
            self._conn = await self._engine.connect()
            await self._conn.begin()
        except _OUTAGES as exc:
            if self._conn is not None:
                await self._conn.close()
            raise Unavailable(f"the store is unavailable: {type(exc).__name__}") from exc
        self.llms = LlmRepository(self._conn)
        self.principals = PrincipalRepository(self._conn)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        conn = self._conn
        self._conn = None
        if conn is None:
            return
        try:
            if conn.in_transaction():
                await conn.rollback()
        except _OUTAGES:
            pass  # the connection is gone; the pool will replace it
        finally:
            await conn.close()
        if isinstance(exc, _OUTAGES) and not isinstance(exc, IntegrityError):
            raise Unavailable(f"the store is unavailable: {type(exc).__name__}") from exc

    async def ping(self) -> None:
        """Run a trivial query."""
        if self._conn is None:
            raise RuntimeError("ping() outside `async with`")
        await self._conn.exec_driver_sql("SELECT 1")

    async def commit(self) -> None:
        """Commit the transaction."""
        if self._conn is None:
            raise RuntimeError("commit() outside `async with`")
        await self._conn.commit()


class Store:
    """Hands out units of work; readers and writers use different engines on SQLite."""

    def __init__(self, engines: Engines) -> None:
        self.engines = engines

    def reader(self) -> UnitOfWork:
        """A unit of work for reading only."""
        return UnitOfWork(self.engines.read)

    def writer(self) -> UnitOfWork:
        """A unit of work that will write."""
        return UnitOfWork(self.engines.write)

    async def ping(self) -> bool:
        """Whether the store answers a trivial query."""
        try:
            async with self.reader() as uow:
                await uow.ping()
        except Exception:
            return False
        return True

    async def close(self) -> None:
        """Dispose of the engines."""
        await self.engines.dispose()
