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
the shared context once; readers resolve it with `services/cascades.shared_payload`.

A suspension's `radius.disconnect` notices are expanded with its emails, for
the sessions open at the expansion, and only while its hold is still in force:
the worker sends them in the same pass, right after expanding.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Select,
    and_,
    func,
    insert,
    literal,
    select,
    type_coerce,
    union_all,
    update,
)
from sqlalchemy.types import JSON

from tenure.adapters.db import sql
from tenure.adapters.db.outbox import flipped
from tenure.adapters.db.radius import RadiusSessions
from tenure.adapters.db.rows import chunks, insert_rows
from tenure.adapters.db.tables import account_ancestors as AA
from tenure.adapters.db.tables import accounts as A
from tenure.adapters.db.tables import holds as H
from tenure.adapters.db.tables import outbox as O
from tenure.domain.model import Account, Kind
from tenure.domain.notifications import ENTITLEMENTS_CHANGED
from tenure.services.read_models import Cascade, Job

CASCADE = "cascade"
EXPANDED = "expanded"
_COLUMNS = ["kind", "topic", "account_id", "recipient", "payload", "created_at", "next_attempt_at", "cascade_id"]


class Cascades:
    def __init__(self, connection: Connection) -> None:
        self.conn = connection
        self.postgres = connection.dialect.name == "postgresql"

    # -- in the change's transaction -----------------------------------------
    def write_now(self, cascade: Cascade, root: Account) -> None:
        """`root`, a client whose own status the change flipped: its notices now (a handful of rows)."""
        self.write_many([(cascade, root)])

    def write_many(self, flips: Sequence[tuple[Cascade, Account]]) -> None:
        """Many clients' own notices (a bulk batch's): one INSERT for all, one read of who is online.

        The service decided each flip from the account it changed (its status
        before and after); so nothing here reads holds.
        """
        rows = [row for cascade, root in flips for row in _notices(cascade, root)]
        insert_rows(self.conn, O, rows)
        self._cut_sessions([(cascade, root.id) for cascade, root in flips if root.stage.value in cascade.radius_stages])

    def _cut_sessions(self, losing: Sequence[tuple[Cascade, str]]) -> None:
        """The open sessions of clients that lose `internet`: one read, then a cut per reason (each reason
        names its client, so one per client online)."""
        sessions = RadiusSessions(self.conn)
        online: set[str] = set()
        for chunk in chunks([account_id for _, account_id in losing]):
            online |= sessions.online(chunk)
        cuts: dict[tuple[str, datetime], list[str]] = {}
        for cascade, account_id in losing:
            if account_id in online:
                cuts.setdefault((cascade.radius_reason, cascade.as_of), []).append(account_id)
        for (reason, as_of), ids in cuts.items():
            sessions.disconnect_accounts(sql.among(self.conn.dialect.name, A.c.id, "ids", ids), reason, now=as_of)

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
        self._write(job, upper)
        values: dict[str, Any] = {"payload": job.cascade.job_payload(after=upper or "")}
        if upper is None:
            values.update(status=EXPANDED, sent_at=now, payload=job.cascade.job_payload(after=job.after))
        self.conn.execute(update(O).where(O.c.id == job.id).values(**values))
        return upper is None

    def pending(self) -> int:
        query = select(func.count()).where(O.c.kind == CASCADE, O.c.status == "pending")
        return int(self.conn.execute(query).scalar_one())

    # -- the rows ----------------------------------------------------------------
    def _write(self, job: Job, upper: str | None) -> None:
        """A batch of the job's notices in ONE INSERT … SELECT over the flipped accounts, then disconnects.

        The rows keep their payload empty and point to the job, which holds the shared context once.
        """
        cascade = job.cascade
        who = flipped(cascade.root, cascade.ignore_hold, cascade.as_of, (job.after, upper))
        chosen = select(A.c.id, A.c.kind, A.c.stage, A.c.contact_email).where(who).cte("flipped")
        emails = _rows(chosen, "email", cascade.template, chosen.c.contact_email, job)
        parts = [
            emails.where(
                chosen.c.contact_email != "",
                (chosen.c.kind == Kind.CLIENT.value) | (chosen.c.id == cascade.root),
            )
        ]
        if cascade.webhook_stages:
            hooks = _rows(chosen, "webhook", ENTITLEMENTS_CHANGED, None, job)
            parts.append(hooks.where(chosen.c.stage.in_(cascade.webhook_stages)))
        self.conn.execute(insert(O).from_select(_COLUMNS, union_all(*parts) if len(parts) > 1 else parts[0]))
        if cascade.radius_stages and self._still_held(cascade):
            losing = and_(who, A.c.stage.in_(cascade.radius_stages))
            RadiusSessions(self.conn).disconnect_accounts(
                losing, cascade.radius_reason, now=cascade.as_of, cascade_id=job.id
            )

    def _still_held(self, cascade: Cascade) -> bool:
        """Is the suspension's hold still in force? Lifted before the expansion, it cuts no session.

        Status is derived, so from the lift on the accounts below are served
        again: a session opened since must not be cut by the old suspension.
        """
        query = select(H.c.id).where(H.c.id == cascade.ignore_hold, H.c.lifted_at.is_(None))
        return self.conn.execute(query).first() is not None


def _rows(chosen: Any, kind: str, topic: str, recipient: Any, job: Job) -> Select[Any]:
    return select(
        literal(kind, O.c.kind.type),
        literal(topic, O.c.topic.type),
        chosen.c.id,
        recipient if recipient is not None else literal(None, O.c.recipient.type),
        type_coerce(literal({}, JSON), JSON),
        literal(job.cascade.as_of, O.c.created_at.type),
        literal(job.cascade.as_of, O.c.next_attempt_at.type),
        literal(job.id, O.c.cascade_id.type),
    )


def _notices(cascade: Cascade, root: Account) -> list[dict[str, Any]]:
    """A flipped client's email and webhook: the rule `Cascades._write` applies in SQL to a job's accounts."""
    rows = []
    common = {"account_id": root.id, "created_at": cascade.as_of, "next_attempt_at": cascade.as_of}
    email = root.main_contact.email
    if email:  # a client, or the root itself: both
        email_row = {"kind": "email", "topic": cascade.template, "recipient": email, "payload": cascade.email}
        rows.append({**common, **email_row})
    if root.stage.value in cascade.webhook_stages:
        webhook = {"kind": "webhook", "topic": ENTITLEMENTS_CHANGED, "recipient": None, "payload": cascade.webhook}
        rows.append({**common, **webhook})
    return rows


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
