"""accounts.activated_on: the day an account became active, so billing stops reading the audit trail

Revision ID: 0008_activated_on
Revises: 0007_console_partners
Create Date: 2026-11-28 11:00:00

Backfilled from the audit trail, as billing read it until now: an active
account, or a decommissioned one whose `decommissioned` event left `active`,
gets the local day (operator's time zone) of its first `activated` event, or
of its `created` event when it was created active. An account with neither
(rows older than the trail) falls back to its start date, then its creation day.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

revision = "0008_activated_on"
down_revision = "0007_console_partners"
branch_labels = None
depends_on = None

BATCH = 1000

_accounts = sa.table(
    "accounts",
    sa.column("id", sa.String),
    sa.column("stage", sa.String),
    sa.column("start_date", sa.Date),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("activated_on", sa.Date),
)
_events = sa.table(
    "events",
    sa.column("id", sa.BigInteger),
    sa.column("account_id", sa.String),
    sa.column("at", sa.DateTime(timezone=True)),
    sa.column("action", sa.String),
    sa.column("before", sa.JSON),
    sa.column("after", sa.JSON),
)
_site = sa.table("site", sa.column("timezone", sa.String))


def upgrade() -> None:
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("activated_on", sa.Date(), nullable=True))
    bind = op.get_bind()
    zone = ZoneInfo(bind.execute(sa.select(_site.c.timezone)).scalar() or "UTC")
    rows = [{"b_id": account_id, "b_on": day} for account_id, day in _activation_days(bind, zone)]
    update = (
        sa.update(_accounts).where(_accounts.c.id == sa.bindparam("b_id")).values(activated_on=sa.bindparam("b_on"))
    )
    for start in range(0, len(rows), BATCH):
        bind.execute(update, rows[start : start + BATCH])


def _activation_days(bind: sa.Connection, zone: ZoneInfo) -> Iterator[tuple[str, date]]:
    """(account id, day it became active) for every account billing counts as activated."""
    first_active: dict[str, date] = {}
    left_active: set[str] = set()
    events = sa.select(_events.c.account_id, _events.c.at, _events.c.action, _events.c.before, _events.c.after)
    wanted = _events.c.action.in_(["created", "activated", "decommissioned"])
    for row in bind.execute(events.where(wanted).order_by(_events.c.id)):
        if row.action == "decommissioned":
            if _stage(row.before) == "active":
                left_active.add(row.account_id)
        elif _stage(row.after) == "active":
            first_active.setdefault(row.account_id, _local_day(row.at, zone))
    accounts = sa.select(_accounts.c.id, _accounts.c.stage, _accounts.c.start_date, _accounts.c.created_at)
    for account in bind.execute(accounts.where(_accounts.c.stage.in_(["active", "decommissioned"]))):
        if account.stage == "active" or account.id in left_active:
            day = first_active.get(account.id) or account.start_date or _local_day(account.created_at, zone)
            yield account.id, day


def _stage(values: Mapping[str, Any] | str | None) -> object:
    found: Mapping[str, Any] = json.loads(values) if isinstance(values, str) else values or {}
    return found.get("stage")


def _local_day(moment: datetime | str, zone: ZoneInfo) -> date:
    if isinstance(moment, str):  # SQLite without the table's type decorator
        moment = datetime.fromisoformat(moment)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone).date()


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite 3.35+): a batch copy of `accounts` would trip its foreign keys.
    op.execute("ALTER TABLE accounts DROP COLUMN activated_on")
