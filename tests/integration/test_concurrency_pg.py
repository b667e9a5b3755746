"""Two changes to one account at the same moment, on PostgreSQL: one wins, the other is told why.

Each race runs two threads, each with its own connection and transaction. To be sure both
are in flight together, a third connection first holds the contested row (`FOR UPDATE`);
the threads start from a `threading.Barrier`, and the row is let go only once PostgreSQL
shows both of them waiting for it. Whichever then goes first, the rules must hold: exactly
one change wins, the other gets `version-conflict`, `already-suspended` or
`account-decommissioned`, and the audit trail has one event per accepted change.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import Engine, Table, func, select, text

from tenure.adapters.db.tables import accounts, holds, outbox, site
from tenure.domain import lifecycle
from tenure.domain.errors import (
    AccountDecommissioned,
    AlreadySuspended,
    DomainError,
    HasActiveChildren,
    VersionConflict,
)
from tenure.domain.model import HoldReason, Stage
from tenure.services import accounts as svc
from tests.integration.trail import new_events
from tests.support import Installation

pytestmark = pytest.mark.postgres_only
SAFETY_TIMEOUT = 60.0  # seconds: only ever reached when something hangs


@contextmanager
def holding(engine: Engine, table: Table, row_id: object) -> Iterator[None]:
    """Hold one row locked until the block ends, so the racers queue behind it together."""
    with engine.connect() as connection, connection.begin():
        connection.execute(select(table.c.id).where(table.c.id == row_id).with_for_update())
        yield


def _waiting_for_locks(engine: Engine) -> int:
    query = text(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    with engine.connect() as connection:
        return int(connection.execute(query).scalar_one())


def race(engine: Engine, table: Table, row_id: object, *actions: Callable[[], Any]) -> list[Any]:
    """Run the actions in threads at once; each result is a return value or the exception raised."""
    results: list[Any] = [None] * len(actions)
    barrier = threading.Barrier(len(actions) + 1)

    def run(index: int, action: Callable[[], Any]) -> None:
        barrier.wait()
        try:
            results[index] = action()
        except Exception as error:  # the loser's refusal is the result we check
            results[index] = error

    threads = [threading.Thread(target=run, args=(i, a), daemon=True) for i, a in enumerate(actions)]
    with holding(engine, table, row_id):
        for thread in threads:
            thread.start()
        barrier.wait()
        deadline = time.monotonic() + SAFETY_TIMEOUT
        while _waiting_for_locks(engine) < len(actions):
            assert time.monotonic() < deadline, "the racers never both reached the locked row"
            time.sleep(0.005)
    for thread in threads:
        thread.join(SAFETY_TIMEOUT)
        assert not thread.is_alive(), "a racer hung"
    return results


def _suspend(s: Installation, account_id: str, reason: HoldReason, version: int | None = None) -> Callable[[], Any]:
    return lambda: svc.suspend(
        s.uow(), caller=s.admin, account_id=account_id, reason=reason, note="", expected_version=version, now=s.now
    )


def _decommission(s: Installation, account_id: str, version: int | None = None) -> Callable[[], Any]:
    return lambda: svc.decommission(
        s.uow(), caller=s.admin, account_id=account_id, on=None, expected_version=version, now=s.now
    )


def _rename(s: Installation, account_id: str, name: str, version: int) -> Callable[[], Any]:
    return lambda: svc.update_account(
        s.uow(),
        caller=s.admin,
        account_id=account_id,
        changes=lifecycle.AccountChanges(name=name),
        expected_version=version,
        now=s.now,
    )


def _split(results: list[Any]) -> tuple[list[Any], list[DomainError]]:
    errors = [r for r in results if isinstance(r, Exception)]
    assert all(isinstance(e, DomainError) for e in errors), errors  # nothing but a rule's refusal
    return [r for r in results if not isinstance(r, Exception)], errors  # type: ignore[misc]


def _events_of(site_: Installation, account_id: str) -> list[str]:
    return [action for owner, action in new_events(site_.engine) if owner == account_id]


def _count(engine: Engine, table: Table, *where: Any) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(table).where(*where)).scalar_one())


def test_two_suspends_with_the_same_reason(pg_site: Installation) -> None:
    client = pg_site.client()
    won, lost = _split(
        race(
            pg_site.engine,
            accounts,
            client.id,
            _suspend(pg_site, client.id, HoldReason.FRAUD),
            _suspend(pg_site, client.id, HoldReason.FRAUD),
        )
    )
    assert len(won) == 1 and [type(e) for e in lost] == [AlreadySuspended]
    assert _count(pg_site.engine, holds, holds.c.account_id == client.id, holds.c.lifted_at.is_(None)) == 1
    assert _events_of(pg_site, client.id) == ["created", "suspended"]
    assert pg_site.get(client.id).version == 2
    assert _count(pg_site.engine, outbox, outbox.c.topic == "account.suspended") == 1


def test_two_suspends_with_the_same_expected_version(pg_site: Installation) -> None:
    client = pg_site.client()
    won, lost = _split(
        race(
            pg_site.engine,
            accounts,
            client.id,
            _suspend(pg_site, client.id, HoldReason.FRAUD, version=1),
            _suspend(pg_site, client.id, HoldReason.NON_PAYMENT, version=1),
        )
    )
    assert len(won) == 1 and [type(e) for e in lost] == [VersionConflict]
    stored = pg_site.get(client.id)
    assert len(stored.holds) == 1 and stored.holds[0].reason is won[0].holds[0].reason
    assert _events_of(pg_site, client.id) == ["created", "suspended"] and stored.version == 2


def test_a_suspend_racing_a_decommission_with_the_same_expected_version(pg_site: Installation) -> None:
    client = pg_site.client()
    won, lost = _split(
        race(
            pg_site.engine,
            accounts,
            client.id,
            _suspend(pg_site, client.id, HoldReason.FRAUD, version=1),
            _decommission(pg_site, client.id, version=1),
        )
    )
    assert len(won) == 1 and len(lost) == 1
    stored = pg_site.get(client.id)
    if stored.stage is Stage.DECOMMISSIONED:  # the decommission went first: the suspend meets a final account
        assert type(lost[0]) is AccountDecommissioned and stored.holds == []
        assert _events_of(pg_site, client.id) == ["created", "decommissioned"]
    else:
        assert type(lost[0]) is VersionConflict and [h.reason for h in stored.holds] == [HoldReason.FRAUD]
        assert _events_of(pg_site, client.id) == ["created", "suspended"]
    assert stored.version == 2


def test_a_suspend_racing_a_decommission_is_serialised(pg_site: Installation) -> None:
    client = pg_site.client()
    results = race(
        pg_site.engine,
        accounts,
        client.id,
        _suspend(pg_site, client.id, HoldReason.FRAUD),
        _decommission(pg_site, client.id),
    )
    _, lost = _split(results)
    stored = pg_site.get(client.id)
    assert stored.stage is Stage.DECOMMISSIONED  # the decommission always wins, first or second
    if lost:  # it went first
        assert [type(e) for e in lost] == [AccountDecommissioned] and results[0] is lost[0]
        assert _events_of(pg_site, client.id) == ["created", "decommissioned"] and stored.version == 2
    else:  # the suspend went first; a suspended account can still be decommissioned
        assert _events_of(pg_site, client.id) == ["created", "suspended", "decommissioned"] and stored.version == 3


def test_two_patches_with_the_same_expected_version(pg_site: Installation) -> None:
    client = pg_site.client(name="Acme Ltd")
    won, lost = _split(
        race(
            pg_site.engine,
            accounts,
            client.id,
            _rename(pg_site, client.id, "Acme Group", 1),
            _rename(pg_site, client.id, "Acme Holdings", 1),
        )
    )
    assert len(won) == 1 and [type(e) for e in lost] == [VersionConflict]
    assert lost[0].extra == {"version": 2}
    stored = pg_site.get(client.id)
    assert stored.name == won[0].name and stored.version == 2
    assert _events_of(pg_site, client.id) == ["created", "updated"]


def test_a_client_created_while_its_channel_is_decommissioned(pg_site: Installation) -> None:
    """Never both: the channel goes with no child left behind, or the child makes it stay."""
    channel = pg_site.channel()
    results = race(
        pg_site.engine,
        accounts,
        channel.id,
        lambda: pg_site.client(channel.id, "Latecomer"),
        _decommission(pg_site, channel.id),
    )
    won, lost = _split(results)
    assert len(won) == 1 and len(lost) == 1
    children = _count(pg_site.engine, accounts, accounts.c.parent_id == channel.id)
    if pg_site.get(channel.id).stage is Stage.DECOMMISSIONED:
        assert type(lost[0]) is AccountDecommissioned and children == 0
    else:
        assert type(lost[0]) is HasActiveChildren and children == 1


def test_two_creations_draw_different_billing_refs(pg_site: Installation) -> None:
    first, second = pg_site.reseller("First"), pg_site.reseller("Second")
    won, _ = _split(
        race(
            pg_site.engine,
            site,
            1,
            lambda: pg_site.client(first.id, "A"),
            lambda: pg_site.client(second.id, "B"),
        )
    )
    assert len(won) == 2 and won[0].billing_ref != won[1].billing_ref
    assert {a.billing_ref for a in won} == {"TEN-000005", "TEN-000006"}
