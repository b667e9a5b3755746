"""Migration 0004_holds: holds placed before it are recorded as placed by the operator (issue 10).

Builds a database at revision 0001 with a hold in force, upgrades it to the
head, and reads the hold back through the repository: its placer is the
operator, so only the operator's users may lift it. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Connection, Engine, text
from sqlalchemy.engine import make_url

from tenure.adapters.db import migrate
from tenure.adapters.db.engine import make_engine
from tenure.adapters.db.uow import UnitOfWork
from tenure.domain.model import AccountRef
from tests.conftest import PG_ENV, _need_postgres

NOW = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A database with no schema at all (the shared fixtures are migrated to the head already)."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
        yield engine
        engine.dispose()
        return
    admin_url = os.environ.get(PG_ENV)
    if not admin_url:
        _need_postgres()
        return
    name = f"tenure_migration_{os.getpid()}"
    admin = make_engine(admin_url)
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(make_url(admin_url).set(database=name).render_as_string(hide_password=False))
    yield engine
    engine.dispose()
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _upgrade(engine: Engine, revision: str) -> None:
    config = migrate.alembic_config()
    with engine.connect() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
        connection.commit()


def _account(connection: Connection, account_id: str, kind: str, parent: str | None, name: str) -> None:
    connection.execute(
        text(
            "INSERT INTO accounts (id, kind, parent_id, name, sort_key, billing_ref, stage, created_at, updated_at)"
            " VALUES (:id, :kind, :parent, :name, :name, :id, 'active', :now, :now)"
        ),
        {"id": account_id, "kind": kind, "parent": parent, "name": name, "now": NOW},
    )


def test_holds_placed_before_the_migration_are_the_operators(empty_engine: Engine) -> None:
    _upgrade(empty_engine, "0001")
    with empty_engine.begin() as connection:
        _account(connection, "OPERATOR", "operator", None, "Meridian")
        _account(connection, "NORTHWIND", "reseller", "OPERATOR", "Northwind")
        connection.execute(
            text(
                "INSERT INTO site (id, operator_id, timezone, policy_name, billing_prefix, secret_key)"
                " VALUES (1, 'OPERATOR', 'Europe/London', 'connect', 'TEN', 'secret')"
            )
        )
        for account_id, ancestor, depth in [
            ("OPERATOR", "OPERATOR", 0),
            ("NORTHWIND", "NORTHWIND", 0),
            ("NORTHWIND", "OPERATOR", 1),
        ]:
            connection.execute(
                text("INSERT INTO account_ancestors (account_id, ancestor_id, depth) VALUES (:a, :b, :d)"),
                {"a": account_id, "b": ancestor, "d": depth},
            )
        connection.execute(
            text(
                "INSERT INTO holds (id, account_id, reason, note, placed_at, placed_by)"
                " VALUES ('HOLD', 'NORTHWIND', 'fraud', 'old', :now, 'ops@meridian.example')"
            ),
            {"now": NOW},
        )

    migrate.upgrade(empty_engine)

    with UnitOfWork(empty_engine).reading() as uow:
        account = uow.accounts.get("NORTHWIND")
    assert [(h.id, h.placed_by_account) for h in account.holds] == [("HOLD", AccountRef("OPERATOR", "Meridian"))]
    migrate.check(empty_engine)
