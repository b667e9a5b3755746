"""One worker at a time on a SQLite database (operations.md: `tenure worker` beside `serve`, SQLite included).

SQLite has no SKIP LOCKED, so workers take turns instead: each pass holds an
exclusive lock on a file next to the database (`tenure.db.worker-lock`). The
operating system drops the lock when its process dies, so a worker killed
with -9 never leaves the next one waiting. PostgreSQL needs no such guard:
its workers share the work through row locks.
"""

from __future__ import annotations

import fcntl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import structlog
from sqlalchemy import Engine

log = structlog.get_logger()
_memory_locks: dict[int, threading.Lock] = {}
POLL_SECONDS = 0.2


class WorkerLock:
    def __init__(self, engine: Engine) -> None:
        database = engine.url.database if engine.dialect.name == "sqlite" else None
        self.path: Path | None = None
        self.memory: threading.Lock | None = None
        if engine.dialect.name == "sqlite":
            if database and database != ":memory:":
                self.path = Path(database).with_name(Path(database).name + ".worker-lock")
            else:
                self.memory = _memory_locks.setdefault(id(engine), threading.Lock())

    @contextmanager
    def held(self, *, wait: bool = True) -> Iterator[bool]:
        """Yield True while this worker may run its pass; False at once when `wait` is off and another holds it."""
        if self.memory is not None:
            acquired = self.memory.acquire(blocking=wait)
            try:
                yield acquired
            finally:
                if acquired:
                    self.memory.release()
            return
        if self.path is None:
            yield True
            return
        with self.path.open("a") as handle:
            acquired = self._acquire(handle.fileno(), wait)
            try:
                yield acquired
            finally:
                if acquired:
                    fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    def _acquire(self, fd: int, wait: bool) -> bool:
        told = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                if not wait:
                    return False
                if not told:
                    log.info("another worker is running on this SQLite database; waiting for its pass to end")
                    told = True
                time.sleep(POLL_SECONDS)
