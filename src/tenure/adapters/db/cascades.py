"""Cascades: the notices of every account whose status a suspension or unsuspension flipped.

A client's change writes its few notices at once. A partner's change commits
ONE outbox row of kind "cascade" (the job) next to its hold and event, and the
worker expands it after the commit, in batches of accounts below the root
walked in id order: each batch's emails, `entitlements.changed` webhooks and
`radius.disconnect` notices and the job's cursor are written in one
transaction, so a worker that dies loses at most one uncommitted batch, which
the next one writes again.

Who flipped is decided as of the change's instant (the job's `created_at`):
holds count as they were then (placed at or before it, not lifted before or at
it), and accounts created after it are left out, so changes made before the
expansion neither add nor remove recipients. An account decommissioned before
the expansion is left out (it has had its own notices). Expanded notices keep
their payload empty and point to the job (`cascade_id`), whose payload holds
the shared context once; readers resolve it with `shared_payload`.

A suspension's `radius.disconnect` notices are expanded with its emails, for
the sessions open at the expansion, and only while its hold is still in force:
the worker sends them in the same pass, right after expanding.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Select, and_, func, insert, literal, select, type_coerce, union_all, update
from sqlalchemy.types import JSON

from tenure.adapters.db.outbox import flipped
from tenure.adapters.db.radius import RadiusSessions
from tenure.adapters.db.tables import account_ancestors as AA
from tenure.adapters.db.tables import accounts as A
from tenure.adapters.db.tables import holds as H
from tenure.adapters.db.tables import outbox as O
from tenure.domain.model import Kind
from tenure.domain.notifications import ENTITLEMENTS_CHANGED

CASCADE = "cascade"
EXPANDED = "expanded"
_COLUMNS = ["kind", "topic", "account_id", "recipient", "payload", "created_at", "next_attempt_at", "cascade_id"]


@dataclass(frozen=True)
class Cascade:
    """One status flip below `root`, with everything its notices share."""

    root: str
    template: str  # "suspended" or "unsuspended"
    email: dict[str, Any]  # the email context
    webhook: dict[str, Any]  # the `entitlements.changed` data
    webhook_stages: tuple[str, ...]  # stages whose capabilities follow the flip
    radius_reason: str
    radius_stages: tuple[str, ...]  # stages that lose `internet` (suspension only)
    ignore_hold: str | None  # the new hold (a suspension): the flip is "no other hold in force"
    as_of: datetime

    def job_payload(self, after: str = "") -> dict[str, Any]:
        return {
            "email": self.email,
            "webhook": self.webhook,
            "webhook_stages": list(self.webhook_stages),
            "radius": {"reason": self.radius_reason},
            "radius_stages": list(self.radius_stages),
            "ignore_hold": self.ignore_hold,
            "after": after,  # the cursor: every account with a smaller or equal id is done
        }


@dataclass(frozen=True)
class Job:
    id: int
    cascade: Cascade
    after: str


def shared_payload(kind: str, own: dict[str, Any], job: dict[str, Any] | None) -> dict[str, Any]:
    """The payload a notice is sent with: its own, or its cascade job's shared context for its kind."""
    if job is None:
        return dict(own)
    shared = {"email": job["email"], "webhook": job["webhook"], "radius": job["radius"]}[kind]
    return dict(shared)


class Cascades:
    def __init__(self, connection: Connection) -> None:
        self.conn = connection
        self.postgres = connection.dialect.name == "postgresql"

    # -- in the change's transaction -----------------------------------------
    def write_now(self, cascade: Cascade) -> None:
        """Every notice at once, each with its own payload (a client: a handful of rows)."""
        self._write(cascade, None, job_id=None, as_of=None)

    def enqueue(self, cascade: Cascade) -> None:
        """The one job row: the worker expands it after the commit."""
        self.conn.execute(insert(O).values(**self.job_row(cascade)))

    @staticmethod
    def job_row(cascade: Cascade) -> dict[str, Any]:
        return {
            "kind": CASCADE,
            "topic": cascade.template,
            "account_id": cascade.root,
            "recipient": None,
            "payload": cascade.job_payload(),
            "created_at": cascade.as_of,
            "next_attempt_at": cascade.as_of,
        }

    # -- in the worker ---------------------------------------------------------
    def claim_next(self) -> Job | None:
        """The oldest pending job, locked; None when there is none or another worker holds it.

        Only the oldest: jobs expand in the order their changes committed, so a
        suspension's emails are queued before a following unsuspension's.
        """
        oldest = select(func.min(O.c.id)).where(O.c.kind == CASCADE, O.c.status == "pending").scalar_subquery()
        query = select(O).where(O.c.id == oldest, O.c.status == "pending")
        if self.postgres:
            query = query.with_for_update(skip_locked=True)
        row = self.conn.execute(query).first()
        return None if row is None else _job(row)

    def expand_batch(self, job: Job, size: int, *, now: datetime) -> bool:
        """Write the notices of the next `size` accounts below the root; True (and the job expanded) after the last."""
        upper = self.conn.execute(
            select(AA.c.account_id)
            .where(AA.c.ancestor_id == job.cascade.root, AA.c.account_id > job.after)
            .order_by(AA.c.account_id)
            .offset(size - 1)
            .limit(1)
        ).scalar()
        self._write(job.cascade, (job.after, upper), job_id=job.id, as_of=job.cascade.as_of)
        values: dict[str, Any] = {"payload": job.cascade.job_payload(after=upper or "")}
        if upper is None:
            values.update(status=EXPANDED, sent_at=now, payload=job.cascade.job_payload(after=job.after))
        self.conn.execute(update(O).where(O.c.id == job.id).values(**values))
        return upper is None

    def pending(self) -> int:
        query = select(func.count()).where(O.c.kind == CASCADE, O.c.status == "pending")
        return int(self.conn.execute(query).scalar_one())

    # -- the rows ----------------------------------------------------------------
    def _write(
        self, cascade: Cascade, ids: tuple[str, str | None] | None, *, job_id: int | None, as_of: datetime | None
    ) -> None:
        """Emails and webhooks in ONE INSERT … SELECT over the flipped accounts (decided once), then disconnects."""
        who = flipped(cascade.root, cascade.ignore_hold, as_of, ids)
        chosen = select(A.c.id, A.c.kind, A.c.stage, A.c.contact_email).where(who).cte("flipped")
        emails = self._rows(chosen, "email", cascade.template, chosen.c.contact_email, cascade.email, cascade, job_id)
        parts = [
            emails.where(
                chosen.c.contact_email != "",
                (chosen.c.kind == Kind.CLIENT.value) | (chosen.c.id == cascade.root),
            )
        ]
        if cascade.webhook_stages:
            hooks = self._rows(chosen, "webhook", ENTITLEMENTS_CHANGED, None, cascade.webhook, cascade, job_id)
            parts.append(hooks.where(chosen.c.stage.in_(cascade.webhook_stages)))
        self.conn.execute(insert(O).from_select(_COLUMNS, union_all(*parts) if len(parts) > 1 else parts[0]))
        if cascade.radius_stages and (job_id is None or self._still_held(cascade)):
            losing = and_(who, A.c.stage.in_(cascade.radius_stages))
            RadiusSessions(self.conn).disconnect_accounts(
                losing, cascade.radius_reason, now=cascade.as_of, cascade_id=job_id
            )

    def _still_held(self, cascade: Cascade) -> bool:
        """Is the suspension's hold still in force? Lifted before the expansion, it cuts no session.

        Status is derived, so from the lift on the accounts below are served
        again: a session opened since must not be cut by the old suspension.
        """
        query = select(H.c.id).where(H.c.id == cascade.ignore_hold, H.c.lifted_at.is_(None))
        return self.conn.execute(query).first() is not None

    @staticmethod
    def _rows(
        chosen: Any,
        kind: str,
        topic: str,
        recipient: Any,
        payload: dict[str, Any],
        cascade: Cascade,
        job_id: int | None,
    ) -> Select[Any]:
        return select(
            literal(kind, O.c.kind.type),
            literal(topic, O.c.topic.type),
            chosen.c.id,
            recipient if recipient is not None else literal(None, O.c.recipient.type),
            type_coerce(literal(payload if job_id is None else {}, JSON), JSON),
            literal(cascade.as_of, O.c.created_at.type),
            literal(cascade.as_of, O.c.next_attempt_at.type),
            literal(job_id, O.c.cascade_id.type),
        )


def _job(row: Any) -> Job:
    payload = dict(row.payload)
    cascade = Cascade(
        root=row.account_id,
        template=row.topic,
        email=payload["email"],
        webhook=payload["webhook"],
        webhook_stages=tuple(payload["webhook_stages"]),
        radius_reason=payload["radius"]["reason"],
        radius_stages=tuple(payload["radius_stages"]),
        ignore_hold=payload["ignore_hold"],
        as_of=row.created_at,
    )
    return Job(int(row.id), cascade, payload["after"])
