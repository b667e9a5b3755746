"""Scheduled changes apply at 00:00 of their date in the operator's time zone, across daylight-saving changes.

Auckland leaves daylight saving on 2027-04-04 (UTC+13 -> UTC+12); Los Angeles
enters it on 2027-03-14 (UTC-8 -> UTC-7). In both, local midnight of the day
after the change is at a different UTC hour than the day before, and far from
UTC midnight.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, select

from tenure.adapters.db.tables import events
from tenure.domain.model import Stage
from tests.support import Installation, MutableClock
from tests.worker_support import worker_for


def _at(site: Installation, moment: datetime) -> None:
    site.clock.set(moment)
    worker_for(site).one_pass()


def _actions(site: Installation, account_id: str) -> list[tuple[str, str, datetime]]:
    query = select(events.c.action, events.c.actor, events.c.at).where(events.c.account_id == account_id)
    with site.engine.connect() as connection:
        return [(r.action, r.actor, r.at) for r in connection.execute(query.order_by(events.c.id))]


def test_a_decommission_applies_at_local_midnight_in_auckland_after_daylight_saving_ends(
    engine: Engine, clock: MutableClock
) -> None:
    site = Installation.start(engine, clock, timezone="Pacific/Auckland")
    client = site.client(name="Kiwi Ltd")
    day = date(2027, 4, 5)
    site.decommission(client.id, on=day)
    midnight = datetime(2027, 4, 4, 12, 0, tzinfo=UTC)  # 00:00 NZST (+12) on the 5th
    assert datetime(2027, 4, 5, tzinfo=ZoneInfo("Pacific/Auckland")).astimezone(UTC) == midnight
    _at(site, midnight - timedelta(hours=1))  # 00:00 had the offset stayed +13 (daylight time)
    _at(site, midnight - timedelta(seconds=1))
    assert site.get(client.id).stage is Stage.ACTIVE
    _at(site, midnight)
    account = site.get(client.id)
    assert account.stage is Stage.DECOMMISSIONED and account.decommissioned_on == day
    decommissioned = [a for a in _actions(site, client.id) if a[0] == "decommissioned"]
    assert decommissioned == [("decommissioned", "system", midnight)]  # long before UTC midnight
    _at(site, datetime(2027, 4, 5, 0, 0, tzinfo=UTC))
    assert len([a for a in _actions(site, client.id) if a[0] == "decommissioned"]) == 1


def test_a_scheduled_start_applies_at_local_midnight_in_los_angeles_after_daylight_saving_starts(
    engine: Engine, clock: MutableClock
) -> None:
    site = Installation.start(engine, clock, timezone="America/Los_Angeles")
    client = site.client(name="Pacific Co", start_date=date(2027, 3, 15))
    assert site.get(client.id).stage is Stage.SCHEDULED
    midnight = datetime(2027, 3, 15, 7, 0, tzinfo=UTC)  # 00:00 PDT (-7) on the 15th
    _at(site, datetime(2027, 3, 15, 0, 0, tzinfo=UTC))  # UTC midnight: still the 14th in California
    _at(site, midnight - timedelta(seconds=1))
    assert site.get(client.id).stage is Stage.SCHEDULED
    _at(site, midnight)  # an hour before 00:00 PST (-8), the offset of the day before
    assert site.get(client.id).stage is Stage.ACTIVE
    assert [a[:2] for a in _actions(site, client.id)][-1] == ("activated", "system")


def test_running_the_pass_again_applies_nothing_twice(site: Installation) -> None:
    clients = [site.client(name=f"Client {i}", start_date=site.now.date() + timedelta(days=2)) for i in range(3)]
    for client in clients[:2]:
        site.decommission(client.id, on=site.now.date() + timedelta(days=5))
    site.clock.set(site.now + timedelta(days=6))
    worker = worker_for(site)
    first, _ = worker.one_pass()
    second, _ = worker.one_pass()
    assert sorted(first.activated) == sorted(c.id for c in clients)
    assert sorted(first.decommissioned) == sorted(c.id for c in clients[:2])
    assert (second.activated, second.decommissioned) == ([], [])
    for client in clients[:2]:
        actions = [a[0] for a in _actions(site, client.id)]
        assert actions.count("activated") == 1 and actions.count("decommissioned") == 1
