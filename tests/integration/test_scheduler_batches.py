"""The worker applies due changes in batches (issue 13 §4): a refusal never blocks its batch."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, select

from tenure.adapters.db.tables import office_assignments, services
from tenure.adapters.db.uow import UnitOfWork
from tenure.domain.model import Stage
from tenure.services import accounts as svc
from tenure.services import scheduler
from tenure.services.scheduler import apply_due_changes
from tests.integration.catalog_kit import statements
from tests.integration.trail import give_office, give_service, last_event_id, last_outbox_id, new_events, outbox_rows
from tests.radius_kit import internet, sessions, start
from tests.support import START, Installation


def test_a_refused_change_is_recorded_and_the_rest_of_its_batch_commits(site: Installation) -> None:
    tomorrow = site.now.date() + timedelta(days=1)
    stuck = site.channel(name="Stuck")
    child = site.client(stuck.id, "Child")
    site.decommission(child.id, on=tomorrow)
    site.decommission(stuck.id, on=tomorrow)
    svc.cancel_decommission(site.uow(), caller=site.admin, account_id=child.id, expected_version=None, now=site.now)
    going = [site.channel(name=f"Going {i}").id for i in range(3)]
    for channel_id in going:
        site.decommission(channel_id, on=tomorrow)
    result = apply_due_changes(site.uow, now=site.now + timedelta(days=1))
    assert set(result.refused) == {stuck.id}
    assert sorted(result.decommissioned) == sorted(going)
    assert all(site.get(c).stage is Stage.DECOMMISSIONED for c in going)
    assert site.get(stuck.id).stage is Stage.ACTIVE and site.get(stuck.id).decommission_on == tomorrow  # still due


def test_batches_smaller_than_the_due_set_apply_each_change_once(
    site: Installation, monkeypatch: pytest.MonkeyPatch
) -> None:
    tomorrow = site.now.date() + timedelta(days=1)
    clients = [site.client(name=f"Client {i}").id for i in range(5)]
    for client_id in clients:
        site.decommission(client_id, on=tomorrow)
    monkeypatch.setattr(scheduler, "BATCH", 2)  # three batches: 2, 2, 1
    result = apply_due_changes(lambda: UnitOfWork(site.engine), now=site.now + timedelta(days=1))
    again = apply_due_changes(lambda: UnitOfWork(site.engine), now=site.now + timedelta(days=1))
    assert sorted(result.decommissioned) == sorted(clients) and again.decommissioned == []


def _due_client_with_room_service_and_session(site: Installation, name: str) -> str:
    """A client due tomorrow holding a room, a running internet service (online) and one not started yet."""
    client = site.client(name=name, start_date=site.now.date() - timedelta(days=30))
    give_office(site.engine, client.id, f"Room {name}")
    give_service(site.engine, client.id, "Later", site.now.date() + timedelta(days=10))
    user = f"{client.id.lower()}-ppp"
    internet(site, client.id, user)
    start(site, f"S-{client.id}", user)
    site.decommission(client.id, on=site.now.date() + timedelta(days=1))
    return client.id


def test_a_batch_decommission_leaves_what_the_single_call_leaves(site: Installation) -> None:
    """Services ended (a later one on its own start day), room released with its event, session cut, notices."""
    client_id = _due_client_with_room_service_and_session(site, "Acme Ltd")
    events_since, outbox_since = last_event_id(site.engine), last_outbox_id(site.engine)
    tomorrow = site.now + timedelta(days=1)
    assert apply_due_changes(site.uow, now=tomorrow).decommissioned == [client_id]
    stored = site.get(client_id)
    assert (stored.stage, stored.decommissioned_on) == (Stage.DECOMMISSIONED, tomorrow.date())
    with site.engine.connect() as connection:
        ends = sorted(connection.execute(select(services.c.end_date)).scalars())
        released = connection.execute(select(office_assignments.c.released_at)).scalar_one()
    assert ends == [tomorrow.date(), site.now.date() + timedelta(days=10)]
    assert released == tomorrow
    assert new_events(site.engine, events_since) == [(client_id, "office_released"), (client_id, "decommissioned")]
    rows = {(r["kind"], r["topic"]) for r in outbox_rows(site.engine, outbox_since)}
    assert rows == {
        ("webhook", "account.decommissioned"),
        ("email", "decommissioned"),
        ("webhook", "entitlements.changed"),
        ("radius", "radius.disconnect"),
    }
    assert sessions(site)[f"S-{client_id}"].state == "disconnecting"


def test_a_batch_writes_set_based_its_statements_do_not_grow_with_its_size(site: Installation) -> None:
    """A pass over 2 or 8 due clients (rooms, services, sessions) issues the same number of statements."""
    counts = []
    for size, day in ((2, 1), (8, 2)):
        site.clock.set(START + timedelta(days=day - 1))
        ids = [_due_client_with_room_service_and_session(site, f"Client {day}-{i}") for i in range(size)]
        with statements(site.engine) as log:
            result = apply_due_changes(site.uow, now=site.now + timedelta(days=1))
        assert sorted(result.decommissioned) == sorted(ids)
        counts.append(log.count)
    assert counts[0] == counts[1]


def test_a_batch_writes_each_table_with_one_statement_not_one_execution_per_row(site: Installation) -> None:
    """No `executemany` on PostgreSQL: it runs one of those once per row, which made batches slow."""
    site.clock.set(START)
    ids = [_due_client_with_room_service_and_session(site, f"Client {i}") for i in range(3)]
    many: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, _params: Any, _context: Any, executemany: bool) -> None:
        if executemany:
            many.append(statement)

    event.listen(site.engine, "before_cursor_execute", record)
    try:
        result = apply_due_changes(site.uow, now=site.now + timedelta(days=1))
    finally:
        event.remove(site.engine, "before_cursor_execute", record)
    assert sorted(result.decommissioned) == sorted(ids)
    if site.engine.dialect.name == "postgresql":
        # the client counters' deltas are summed per (ancestor, stage, slot) first: at most
        # ancestors x 2 stages x 8 slots rows, whatever the batch size, updated in one lock order
        assert [statement for statement in many if not statement.startswith("UPDATE client_counts")] == []
    else:  # SQLite's executemany is a loop in-process: one per table
        assert len(many) == len(set(many))
