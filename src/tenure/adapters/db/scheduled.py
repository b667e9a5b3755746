"""Which scheduled changes are due, claimed a batch at a time (services/scheduler.py walks them).

Due-ness is `domain/schedule.py`'s rule in its SQL form (`status_sql.due`); the scheduler
re-checks the same rule in Python on the locked row.

Workers claim up to `limit` due rows after the last one they saw, in id order, with
`FOR UPDATE SKIP LOCKED` on PostgreSQL (SQLite runs one worker at a time), so
several workers split the due set instead of queueing on the same rows.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, select

from tenure.adapters.db import status_sql
from tenure.adapters.db.tables import accounts as A
from tenure.domain.model import Kind
from tenure.domain.schedule import ACTIVATION_DUE, DECOMMISSION_DUE

Claimer = Callable[[ColumnElement[bool], int], list[str]]


class DueChanges:
    def __init__(self, connection: Connection, claimer: Claimer | None = None) -> None:
        """`claimer`: a batch's accounts' `claim`, which locks and loads the rows it answers."""
        self.conn = connection
        self._claimer = claimer
        self._skip_locked = connection.dialect.name == "postgresql"

    def activations(self, day: date, *, after: str, limit: int) -> list[str]:
        """Scheduled accounts whose start date has come, after `after`, locked for this transaction."""
        return self._claim(status_sql.due(ACTIVATION_DUE, day), after=after, limit=limit)

    def decommissions(self, day: date, kind: Kind, *, after: str, limit: int) -> list[str]:
        """Accounts of `kind` whose decommission date has come, after `after`, locked likewise."""
        return self._claim(status_sql.due(DECOMMISSION_DUE, day), A.c.kind == kind.value, after=after, limit=limit)

    def _claim(self, *due: ColumnElement[Any], after: str, limit: int) -> list[str]:
        if self._claimer is not None:  # in a batch: claim and load the rows in one query
            return self._claimer(and_(*due, A.c.id > after), limit)
        query = select(A.c.id).where(*due, A.c.id > after).order_by(A.c.id).limit(limit)
        if self._skip_locked:
            query = query.with_for_update(skip_locked=True)
        return list(self.conn.execute(query).scalars())
