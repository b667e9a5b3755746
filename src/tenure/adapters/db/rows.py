"""Many rows in one statement: a batch's writes (adapters/db/batch_repos.py) and a batch's notices.

An `executemany` is one call to the driver but still one execution per row in
PostgreSQL (SQLAlchemy's "insertmanyvalues" only rewrites INSERTs with
RETURNING), which is what made the worker's batches slow (docs/performance.md,
P6). So on PostgreSQL a batch's rows travel as ONE JSON parameter that
`json_populate_recordset` turns into rows typed as the table's; SQLite runs an
executemany in-process, which costs no round trip.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from sqlalchemy import (
    Connection,
    Table,
    TextClause,
    insert,
    text,
)

T = TypeVar("T")
CHUNK = 500  # ids (or rows) per statement: well under every driver's parameter limit


def chunks(items: Sequence[T]) -> Iterable[Sequence[T]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


# A batch's rows as ONE parameter, a JSON array PostgreSQL turns into rows typed as `table`'s: the
# statement's text stays the same whatever the batch size (compiled and parsed once), and PostgreSQL
# runs it once, not once per row as an executemany.
RECORDS = "json_populate_recordset(NULL::{table}, CAST(:rows AS json))"


def insert_rows(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Rows (all with the same keys) in one `INSERT … SELECT` on PostgreSQL; SQLite runs an executemany in-process."""
    if not rows:
        return
    if conn.dialect.name != "postgresql":
        conn.execute(insert(table), list(rows))
        return
    conn.execute(_insert_from_json(table.name, tuple(rows[0])), {"rows": as_json(rows)})


@functools.cache
def _insert_from_json(table: str, names: tuple[str, ...]) -> TextClause:
    columns = ", ".join(f'"{name}"' for name in names)
    return text(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {RECORDS.format(table=table)}")


def as_json(rows: Sequence[dict[str, Any]]) -> str:
    return json.dumps(rows, default=_json_value, separators=(",", ":"))


def _json_value(value: object) -> str:
    """Timestamps (always zoned here) and days as PostgreSQL reads them."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")
