"""The outbox: notifications written in the same transaction as the change.

Emails and webhooks leave only from here, after commit, so a change and its
notifications are never separated. A cascade (a channel suspended) queues one
row per affected account with set-based INSERT ... SELECT statements, whatever
the size of the channel.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Insert, and_, bindparam, insert, literal, select, type_coerce
from sqlalchemy.types import JSON

from tenure.adapters.db import status_sql
from tenure.adapters.db.tables import account_ancestors as AA
from tenure.adapters.db.tables import accounts as A
from tenure.adapters.db.tables import outbox as O
from tenure.domain.model import Kind, Stage, Status
from tenure.domain.notifications import ENTITLEMENTS_CHANGED

_COLUMNS = ["kind", "topic", "account_id", "recipient", "payload", "created_at", "next_attempt_at"]


class OutboxRepository:
    def __init__(self, connection: Connection) -> None:
        self.conn = connection

    def webhook(self, topic: str, account_id: str, data: dict[str, Any], *, now: datetime) -> None:
        self._add("webhook", topic, account_id, None, {"account_id": account_id, **data}, now)

    def email(self, template: str, account_id: str, recipient: str, context: dict[str, Any], *, now: datetime) -> None:
        if recipient:
            self._add("email", template, account_id, recipient, context, now)

    def _add(
        self, kind: str, topic: str, account_id: str, recipient: str | None, payload: dict[str, Any], now: datetime
    ) -> None:
        self.conn.execute(
            insert(O).values(
                kind=kind,
                topic=topic,
                account_id=account_id,
                recipient=recipient,
                payload=payload,
                created_at=now,
                next_attempt_at=now,
            )
        )

    def suspension_changed(
        self,
        *,
        root: str,
        template: str,
        context: dict[str, Any],
        capability_stages: Collection[Stage],
        ignore_hold: str | None,
        now: datetime,
    ) -> None:
        """Queue emails and `entitlements.changed` for every account below `root` whose status flipped.

        Called after the hold was inserted (suspend, `ignore_hold` = the new
        hold) or lifted (unsuspend). An account flipped when, apart from
        `ignore_hold`, no hold is in force on it or any of its ancestors.
        """
        self.cascades([Cascade(root, template, context, frozenset(capability_stages), ignore_hold, now)])

    def cascades(self, cascades: Sequence[Cascade]) -> None:
        """Run each cascade exactly as `suspension_changed` does, one `executemany` per statement shape.

        Each runs against the database as it is now, so they may be gathered only
        while nothing they read (holds, stages below their roots) changes between them.
        """
        groups: dict[tuple[str, frozenset[Stage], bool], list[Cascade]] = {}
        for cascade in cascades:
            groups.setdefault(cascade.shape, []).append(cascade)
        for (template, stages, ignoring), group in groups.items():
            emails, entitlements = _cascade_statements(template, stages, ignoring)
            params = [cascade.params() for cascade in group]
            self.conn.execute(emails, params)
            if entitlements is not None:
                self.conn.execute(entitlements, params)

    def entitlements_changed_for_states(
        self, states: Collection[tuple[Stage, Status]], data: dict[str, Any], *, now: datetime
    ) -> None:
        """One `entitlements.changed` per account in any of `states` (stage, derived status): set-based."""
        if states:
            self.entitlements_changed(status_sql.in_states(states), data, now=now)

    def entitlements_changed(self, where: Any, data: dict[str, Any], *, now: datetime) -> None:
        """Queue `entitlements.changed` for every account matching `where`, in one INSERT … SELECT."""
        rows = select(
            literal("webhook"),
            literal(ENTITLEMENTS_CHANGED),
            A.c.id,
            literal(None, O.c.recipient.type),
            type_coerce(literal(data, JSON), JSON),
            literal(now, O.c.created_at.type),
            literal(now, O.c.next_attempt_at.type),
        ).where(where)
        self.conn.execute(insert(O).from_select(_COLUMNS, rows))

    @staticmethod
    def flipped(root: str, ignore_hold: str | None) -> Any:
        """Accounts at or below `root`, not decommissioned, with no hold in force but `ignore_hold`."""
        below = A.c.id.in_(select(AA.c.account_id).where(AA.c.ancestor_id == root))
        return and_(below, status_sql.unsuspended_by_lifting(literal(ignore_hold) if ignore_hold else None))


@dataclass(frozen=True)
class Cascade:
    """One hold placed or lifted on `root`: who below it flipped gets an email and `entitlements.changed`."""

    root: str
    template: str
    context: dict[str, Any]
    capability_stages: frozenset[Stage]
    ignore_hold: str | None
    now: datetime

    @property
    def shape(self) -> tuple[str, frozenset[Stage], bool]:
        return self.template, self.capability_stages, self.ignore_hold is not None

    def params(self) -> dict[str, Any]:
        data = {"reason": self.context.get("reason"), "via": self.context.get("held_account")}
        return {
            "root": self.root,
            "ignore_hold": self.ignore_hold,
            "context": self.context,
            "data": data,
            "now": self.now,
        }


@functools.cache
def _cascade_statements(template: str, stages: frozenset[Stage], ignoring: bool) -> tuple[Insert, Insert | None]:
    """The cascade's INSERT … SELECTs, built once per shape; `root`, `ignore_hold`, payloads and `now` are bound."""
    flipped = _flipped(ignoring)
    now = bindparam("now", type_=O.c.created_at.type)
    recipients = select(
        literal("email"),
        literal(template),
        A.c.id,
        A.c.contact_email,
        type_coerce(bindparam("context", type_=JSON), JSON),
        now,
        now,
    ).where(
        flipped,
        A.c.contact_email != "",
        # every client that flipped, and the acted-on partner itself
        (A.c.kind == Kind.CLIENT.value) | (A.c.id == bindparam("root")),
    )
    emails = insert(O).from_select(_COLUMNS, recipients)
    if not stages:
        return emails, None
    changed = select(
        literal("webhook"),
        literal(ENTITLEMENTS_CHANGED),
        A.c.id,
        literal(None, O.c.recipient.type),
        type_coerce(bindparam("data", type_=JSON), JSON),
        now,
        now,
    ).where(flipped, A.c.stage.in_([literal(s.value) for s in sorted(stages)]))  # not "expanding": executemany
    return emails, insert(O).from_select(_COLUMNS, changed)


def _flipped(ignoring: bool) -> Any:
    below = A.c.id.in_(select(AA.c.account_id).where(AA.c.ancestor_id == bindparam("root")))
    return and_(below, status_sql.unsuspended_by_lifting(bindparam("ignore_hold") if ignoring else None))
