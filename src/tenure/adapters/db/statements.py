"""Running the hot path's one statement: on PostgreSQL straight from the event loop, elsewhere in a thread.

On PostgreSQL the statement goes through psycopg's async driver on a small
per-process pool of autocommit connections: no threadpool hop, no BEGIN/
ROLLBACK, no pre-ping (a connection found broken is replaced and the statement
run once more), and psycopg prepares it on the server after a few runs. The
SQL text is SQLAlchemy's own compilation of the same Core statement the
synchronous path runs, so there is one statement, not two to keep alike.
On SQLite (the embedded default) the statement runs on the engine in a worker
thread, as every other route does.
"""

from __future__ import annotations

import asyncio
from collections import namedtuple
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import psycopg
from sqlalchemy import Engine, Select
from starlette.concurrency import run_in_threadpool

POOL_SIZE = 8
MAX_STATEMENTS = 4096  # one per caller, like `holder_query`'s cache


@dataclass(frozen=True)
class Compiled:
    """A statement as psycopg runs it: text, the parameters fixed in it, and a named row type for its columns."""

    statement: Select[Any]
    text: str
    fixed: dict[str, Any]
    row: Callable[[Iterable[Any]], Any]

    @classmethod
    def of(cls, statement: Select[Any], engine: Engine) -> Compiled:
        compiled = statement.compile(dialect=engine.dialect)
        row_type = namedtuple("Row", list(statement.selected_columns.keys()))  # type: ignore[misc]
        return cls(statement, compiled.string, dict(compiled.params), row_type._make)


class StatementRunner(Protocol):
    async def rows(self, statement: Select[Any], params: dict[str, Any]) -> Sequence[Any]: ...

    async def close(self) -> None: ...


def runner_for(engine: Engine) -> StatementRunner:
    if engine.dialect.name == "postgresql" and engine.dialect.driver == "psycopg":
        return PsycopgRunner(engine)
    return ThreadedRunner(engine)


class ThreadedRunner:
    """SQLAlchemy on a connection from the engine's pool, in a worker thread."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    async def rows(self, statement: Select[Any], params: dict[str, Any]) -> Sequence[Any]:
        return await run_in_threadpool(self._run, statement, params)

    def _run(self, statement: Select[Any], params: dict[str, Any]) -> Sequence[Any]:
        with self.engine.connect() as connection:
            return list(connection.execute(statement, params))

    async def close(self) -> None:
        return None


class PsycopgRunner:
    """psycopg's async connections, pooled per process and per event loop."""

    def __init__(self, engine: Engine, size: int = POOL_SIZE) -> None:
        self.engine = engine
        self.conninfo = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        self.size = size
        self._idle: list[psycopg.AsyncConnection[Any]] = []
        self._slots: asyncio.Semaphore | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._sql: dict[int, Compiled] = {}

    async def rows(self, statement: Select[Any], params: dict[str, Any]) -> Sequence[Any]:
        compiled = self._compiled(statement)
        text, values = compiled.text, {**compiled.fixed, **params}
        slots = self._for_this_loop()
        async with slots:
            connection = self._idle.pop() if self._idle else await self._connect()
            try:
                found = await self._execute(connection, text, values)
            except psycopg.OperationalError:
                await connection.close()
                connection = await self._connect()  # a connection broken while idle: once more on a new one
                found = await self._guarded(connection, text, values)
            except BaseException:
                await connection.close()  # cancelled or failed half-way: its state is unknown
                raise
            self._idle.append(connection)
        return [compiled.row(row) for row in found]

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for connection in idle:
            await connection.close()

    def _compiled(self, statement: Select[Any]) -> Compiled:
        """SQLAlchemy's PostgreSQL text of the statement, its fixed parameters and its row type, made once."""
        found = self._sql.get(id(statement))
        if found is None or found.statement is not statement:
            found = Compiled.of(statement, self.engine)
            if len(self._sql) >= MAX_STATEMENTS:
                self._sql.clear()
            self._sql[id(statement)] = found
        return found

    def _for_this_loop(self) -> asyncio.Semaphore:
        """Connections belong to the event loop that opened them; a new loop (tests) starts afresh."""
        loop = asyncio.get_running_loop()
        if self._slots is None or self._loop is not loop:
            self._idle, self._loop, self._slots = [], loop, asyncio.Semaphore(self.size)
        return self._slots

    async def _connect(self) -> psycopg.AsyncConnection[Any]:
        return await psycopg.AsyncConnection.connect(
            self.conninfo, autocommit=True, connect_timeout=10, options="-c TimeZone=UTC"
        )

    async def _guarded(self, connection: psycopg.AsyncConnection[Any], text: str, params: dict[str, Any]) -> list[Any]:
        try:
            return await self._execute(connection, text, params)
        except BaseException:
            await connection.close()
            raise

    @staticmethod
    async def _execute(connection: psycopg.AsyncConnection[Any], text: str, params: dict[str, Any]) -> list[Any]:
        async with connection.cursor() as cursor:
            await cursor.execute(text, params)
            return await cursor.fetchall()
