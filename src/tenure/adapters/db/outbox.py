"""The outbox: notifications written in the same transaction as the change.

Emails and webhooks leave only from here, after commit, so a change and its
notifications are never separated. A cascade (a channel suspended) queues one
row per affected account with set-based INSERT ... SELECT statements, whatever
the size of the channel.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, exists, insert, literal, select, type_coerce
from sqlalchemy.types import JSON

from tenure.adapters.db import sql
from tenure.adapters.db.tables import account_ancestors as AA
from tenure.adapters.db.tables import accounts as A
from tenure.adapters.db.tables import holds as H
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
        flipped = self.flipped(root, ignore_hold)
        recipients = select(
            literal("email"),
            literal(template),
            A.c.id,
            A.c.contact_email,
            type_coerce(literal(context, JSON), JSON),
            literal(now, O.c.created_at.type),
            literal(now, O.c.next_attempt_at.type),
        ).where(
            flipped,
            A.c.contact_email != "",
            # every client that flipped, and the acted-on partner itself
            (A.c.kind == Kind.CLIENT.value) | (A.c.id == root),
        )
        self.conn.execute(insert(O).from_select(_COLUMNS, recipients))
        if capability_stages:
            self._entitlements_changed(flipped, capability_stages, context, now)

    def _entitlements_changed(
        self, flipped: Any, stages: Collection[Stage], context: dict[str, Any], now: datetime
    ) -> None:
        data = {"reason": context.get("reason"), "via": context.get("held_account")}
        self.entitlements_changed(and_(flipped, A.c.stage.in_([s.value for s in stages])), data, now=now)

    def entitlements_changed_for_states(
        self, states: Collection[tuple[Stage, Status]], data: dict[str, Any], *, now: datetime
    ) -> None:
        """One `entitlements.changed` per account in any of `states` (stage, derived status): set-based."""
        if states:
            self.entitlements_changed(sql.in_states(states), data, now=now)

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
        other_holds = exists().where(
            AA.c.account_id == A.c.id,
            H.c.account_id == AA.c.ancestor_id,
            H.c.lifted_at.is_(None),
            *([H.c.id != ignore_hold] if ignore_hold else []),
        )
        return and_(below, A.c.stage != Stage.DECOMMISSIONED.value, ~other_holds)
