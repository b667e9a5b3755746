"""Alembic environment: the URL comes from the caller or TENURE_DATABASE_URL."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

from alembic import context
from sqlalchemy import Connection

from tenure.adapters.db.engine import make_engine
from tenure.adapters.db.tables import metadata
from tenure.config import load_settings

config = context.config


# SQLite's reflection cannot read an index on an expression (`lower(billing_ref)`): SQLAlchemy and
# Alembic skip it there, with warnings silenced below; PostgreSQL compares it, and
# tests/integration/test_billing_ref_case.py proves the index refuses duplicates on both databases.
_SKIPPED_ON_SQLITE = ("Skipped unsupported reflection of expression-based index", "autogenerate skipping")


def _for_dialect(name: str) -> Callable[..., bool]:
    """Leave out of the comparison what the model creates only on another database (`Index.ddl_if`)."""

    def include(obj: Any, _name: str | None, type_: str, _reflected: bool, _compare_to: Any) -> bool:
        only = getattr(obj, "_ddl_if", None)
        return type_ != "index" or only is None or only.dialect in (None, name)

    return include


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_object=_for_dialect(connection.dialect.name),
    )
    with context.begin_transaction(), warnings.catch_warnings():
        for message in _SKIPPED_ON_SQLITE:
            warnings.filterwarnings("ignore", message)
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url") or load_settings().database_url
    engine = make_engine(url)
    with engine.connect() as connection:
        _run(connection)
    engine.dispose()


run_migrations_online()
