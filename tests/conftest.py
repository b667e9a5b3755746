"""Shared fixtures: a fresh, migrated database on SQLite and on PostgreSQL, and a clock.

Every integration test that takes `engine` runs twice, once per database.
PostgreSQL comes from TENURE_TEST_POSTGRES_URL (a role allowed to create
databases); without it the PostgreSQL half is skipped with a clear reason,
except under CI=true where a missing PostgreSQL is a failure.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

# Before anything imports tenure.adapters.passwords, which picks its hasher at import.
os.environ.setdefault("TENURE_ARGON2_PROFILE", "cheapest")

from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from tenure.adapters.db.engine import make_engine
from tenure.adapters.db.migrate import upgrade
from tenure.adapters.db.tables import metadata
from tests.support import Installation, MutableClock

PG_ENV = "TENURE_TEST_POSTGRES_URL"


@pytest.fixture
def clock() -> MutableClock:
    return MutableClock()


def _worker_suffix(request: pytest.FixtureRequest) -> str:
    return str(getattr(request.config, "workerinput", {}).get("workerid", "main"))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_engine(request: pytest.FixtureRequest) -> Iterator[Engine | None]:
    url = os.environ.get(PG_ENV)
    if not url:
        yield None
        return
    # One database per test process, dropped afterwards: parallel runs (xdist workers, or
    # several people sharing one server) never collide.
    name = f"tenure_test_{_worker_suffix(request)}_{os.getpid()}"
    admin = make_engine(url)
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(make_url(url).set(database=name).render_as_string(hide_password=False))
    upgrade(engine)
    yield engine
    engine.dispose()
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        try:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        except DBAPIError:
            # FORCE refuses a non-superuser when an autovacuum worker is in the database
            # ("must be a member of the role whose process is being terminated"); a plain DROP waits it out.
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


_TRUNCATE = "TRUNCATE TABLE {} RESTART IDENTITY CASCADE".format(", ".join(t.name for t in metadata.sorted_tables))


def _need_postgres() -> None:
    message = f"PostgreSQL half not run: set {PG_ENV} (scripts/test does when PostgreSQL is installed)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


def fresh_sqlite(folder: Path, template: Path) -> Iterator[Engine]:
    """A copy of the migrated SQLite template, disposed of afterwards."""
    path = folder / "tenure.db"
    shutil.copy(template, path)
    sqlite = make_engine(f"sqlite:///{path}")
    yield sqlite
    sqlite.dispose()


def fresh_postgres(postgres_engine: Engine | None) -> Engine:
    """This process's PostgreSQL database, emptied (or the PostgreSQL half is not run)."""
    if postgres_engine is None:
        _need_postgres()
        raise AssertionError("unreachable: _need_postgres skips or fails")
    with postgres_engine.begin() as connection:
        connection.execute(text(_TRUNCATE))
    return postgres_engine


def fresh_database(kind: str, folder: Path, template: Path, postgres_engine: Engine | None) -> Iterator[Engine]:
    """A migrated, empty database of `kind` ("sqlite" or "postgresql")."""
    if kind == "sqlite":
        yield from fresh_sqlite(folder, template)
    else:
        yield fresh_postgres(postgres_engine)


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path, postgres_engine: Engine | None
) -> Iterator[Engine]:
    """A migrated, empty database of each kind."""
    yield from fresh_database(request.param, tmp_path, sqlite_template, postgres_engine)


@pytest.fixture
def sqlite_engine(tmp_path: Path, sqlite_template: Path) -> Iterator[Engine]:
    """SQLite only, for tests of SQLite's own behaviour (its planner, its one-writer lock)."""
    yield from fresh_sqlite(tmp_path, sqlite_template)


@pytest.fixture
def sqlite_site(sqlite_engine: Engine, clock: MutableClock) -> Installation:
    return Installation.start(sqlite_engine, clock)


@pytest.fixture
def pg_engine(postgres_engine: Engine | None) -> Engine:
    """PostgreSQL only, for tests of real concurrency (row locks, two connections)."""
    return fresh_postgres(postgres_engine)


@pytest.fixture
def site(engine: Engine, clock: MutableClock) -> Installation:
    """An initialised installation (operator, management client, admin) on each database."""
    return Installation.start(engine, clock)


@pytest.fixture
def pg_site(pg_engine: Engine, clock: MutableClock) -> Installation:
    return Installation.start(pg_engine, clock)
