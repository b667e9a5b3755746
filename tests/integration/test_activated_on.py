"""`accounts.activated_on` (issue 15): set on every way into `active`, kept past decommissioning,
and what billing asks instead of the audit trail. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from alembic import command
from sqlalchemy import select, update

from tenure.adapters.db import migrate
from tenure.adapters.db.batch import BatchUnitOfWork
from tenure.adapters.db.tables import accounts as A
from tenure.domain.model import ActivateMode
from tenure.services import accounts as svc
from tenure.services.bulk import BulkAction, BulkRequest, run_bulk
from tenure.services.scheduler import apply_due_changes
from tests.support import Installation

NOON = datetime(2026, 11, 10, 12, tzinfo=UTC)


def test_every_way_into_active_records_the_day(site: Installation) -> None:
    site.clock.set(NOON)
    today = NOON.date()
    partner = site.reseller()
    created_active = site.client(name="Now", start_date=today)
    manual = site.client(name="Manual", activate=ActivateMode.MANUAL)
    scheduled = site.client(name="Later", start_date=today + timedelta(days=2))
    in_bulk = site.client(name="Bulk", activate=ActivateMode.MANUAL)
    never = site.client(name="Never", activate=ActivateMode.MANUAL)
    assert (site.get(manual.id).activated_on, site.get(scheduled.id).activated_on) == (None, None)
    svc.activate(site.uow(), caller=site.admin, account_id=manual.id, on=None, expected_version=None, now=site.now)
    run_bulk(
        BatchUnitOfWork(site.engine),
        caller=site.admin,
        request=BulkRequest(BulkAction.ACTIVATE),
        ids=[in_bulk.id],
        now=site.now,
    )
    site.clock.set(NOON + timedelta(days=3))
    assert apply_due_changes(site.uow, now=site.now).activated == [scheduled.id]
    site.decommission(created_active.id)
    site.decommission(never.id)
    assert {a: site.get(a).activated_on for a in (partner.id, created_active.id, manual.id, in_bulk.id)} == {
        partner.id: today,
        created_active.id: today,  # kept when decommissioned: it was active
        manual.id: today,
        in_bulk.id: today,
    }
    assert site.get(scheduled.id).activated_on == today + timedelta(days=3)  # the worker's day
    assert site.get(never.id).activated_on is None


def test_the_migration_backfills_it_from_the_audit_trail(site: Installation) -> None:
    site.clock.set(NOON)
    active = site.client(name="Active", start_date=date(2026, 11, 1))
    went = site.client(name="Went", activate=ActivateMode.MANUAL, start_date=date(2026, 11, 1))
    svc.activate(site.uow(), caller=site.admin, account_id=went.id, on=None, expected_version=None, now=site.now)
    never = site.client(name="Never", activate=ActivateMode.MANUAL)
    site.clock.set(NOON + timedelta(days=5))
    site.decommission(went.id)
    site.decommission(never.id)
    with site.engine.begin() as connection:  # a row older than the trail: no event made it active
        connection.execute(update(A).where(A.c.id == site.operator_id).values(activated_on=None))
    config = migrate.alembic_config()
    with site.engine.connect() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0007_console_partners")
        connection.commit()
    migrate.upgrade(site.engine)
    with site.engine.connect() as connection:
        found = dict(connection.execute(select(A.c.id, A.c.activated_on)).all())
    assert found[active.id] == NOON.date()  # its `created` event left it active
    assert found[went.id] == NOON.date()  # its `activated` event, kept past its decommissioning
    assert found[never.id] is None
    assert found[site.operator_id] is not None
    migrate.check(site.engine)
