"""Entitlements (lifecycle.md §4) through the number lookup, on both databases.

The spec's table is checked row by row for both presets on real accounts: a
number of an active client, of one suspended by its own hold, of one suspended
only through its channel, of a new and of a scheduled client; a decommissioned
client's numbers are ended, so the lookup answers 404 for them.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import insert, select, text

from tenure.adapters.db.entitlements import number_query
from tenure.adapters.db.tables import account_ancestors as AA
from tenure.adapters.db.tables import accounts as A
from tenure.adapters.db.tables import holds as H
from tenure.adapters.db.tables import services as S
from tenure.adapters.phone import E164Numbers
from tenure.domain.access import Caller, Role
from tenure.domain.errors import Forbidden, NotFound, ValidationFailed
from tenure.domain.ids import new_id
from tenure.domain.model import ActivateMode, HoldReason, Status
from tenure.domain.policy import Capability
from tenure.services import entitlements, policy
from tests.integration.catalog_kit import add, remove, statements
from tests.support import Installation

C = Capability
# lifecycle.md §4 as written: (active, suspended connect, suspended metis, new/scheduled, inactive)
TABLE = {
    C.OUTBOUND_CALLS: (True, False, False, False, False),
    C.INBOUND_CALLS: (True, True, True, False, False),
    C.INTERNET: (True, False, True, False, False),
    C.LOCAL_NETWORK: (True, True, True, False, False),
    C.PORTAL_LOGIN: (True, True, False, True, False),
}


def ask(
    site: Installation, number: str, capability: Capability, caller: Caller | None = None
) -> entitlements.NumberDecision:
    return entitlements.number_entitlement(
        site.uow(),
        caller=caller or site.admin,
        number=number,
        capability=capability,
        numbers=E164Numbers(),
        now=site.now,
    )


def use_preset(site: Installation, name: str) -> None:
    policy.set_policy(site.uow(), caller=site.admin, preset=name, matrix=None, now=site.now)


@pytest.mark.parametrize("preset", ["connect", "metis"])
def test_the_entitlement_table_through_the_number_lookup(site: Installation, preset: str) -> None:
    use_preset(site, preset)
    channel = site.channel(name="North Sales")
    active = site.client(channel.id, "Active")
    own = site.client(channel.id, "Own hold")
    through = site.client(site.channel(name="South Sales").id, "Through channel")
    new = site.client(name="New", activate=ActivateMode.MANUAL)
    scheduled = site.client(name="Scheduled", start_date=site.now.date() + timedelta(days=10))
    numbers = {}
    for index, account in enumerate([active, own, through, new, scheduled]):
        numbers[account.id] = add(site, account.id, f"+44 20 7946 010{index}").label
    site.suspend(own.id, HoldReason.FRAUD)
    site.suspend(through.parent_id or "", HoldReason.NON_PAYMENT)
    column = {active.id: 0, own.id: 1 if preset == "connect" else 2, new.id: 3, scheduled.id: 3}
    column[through.id] = column[own.id]
    for account_id, number in numbers.items():
        for capability, row in TABLE.items():
            decision = ask(site, number, capability)
            assert decision.account_id == account_id
            assert decision.allowed is row[column[account_id]], (preset, account_id, capability)
    gone = site.client(name="Gone")
    number = add(site, gone.id, "+44 20 7946 0199").label
    site.decommission(gone.id)
    with pytest.raises(NotFound):
        ask(site, number, C.INBOUND_CALLS)
    found = entitlements.account_entitlements(site.uow(), caller=site.admin, account_id=gone.id)
    assert found.status is Status.INACTIVE and not found.billed
    assert not any(d.allowed for d in found.decisions.values())


def test_reasons_name_the_hold_its_reason_and_the_account_holding_it(site: Installation) -> None:
    channel = site.channel(name="North Sales")
    client = site.client(channel.id, "Acme Ltd")
    number = add(site, client.id).label
    assert ask(site, number, C.OUTBOUND_CALLS).because == "active"
    site.suspend(channel.id, HoldReason.FRAUD)
    denied = ask(site, number, C.OUTBOUND_CALLS)
    assert (denied.allowed, denied.because) == (False, "suspended: fraud hold on channel North Sales since 2026-11-23")
    inbound = ask(site, number, C.INBOUND_CALLS)
    assert inbound.allowed and inbound.because.startswith("allowed while suspended: fraud hold on channel North Sales")
    site.suspend(client.id, HoldReason.NON_PAYMENT)  # its own hold is named first
    assert ask(site, number, C.OUTBOUND_CALLS).because.startswith("suspended: non-payment hold on client Acme Ltd")


def test_the_very_next_lookup_after_a_suspension_commits_is_denied(site: Installation) -> None:
    client = site.client()
    number = add(site, client.id).label
    assert ask(site, number, C.OUTBOUND_CALLS).allowed
    site.suspend(client.id)
    assert not ask(site, number, C.OUTBOUND_CALLS).allowed
    site.unsuspend(client.id)
    assert ask(site, number, C.OUTBOUND_CALLS).allowed


def test_a_policy_change_is_in_force_for_the_next_lookup(site: Installation) -> None:
    client = site.client()
    number = add(site, client.id).label
    site.suspend(client.id)
    assert not ask(site, number, C.INTERNET).allowed  # connect
    use_preset(site, "metis")
    assert ask(site, number, C.INTERNET).allowed
    matrix = policy.get_policy(site.uow(), caller=site.admin).as_matrix()
    matrix["inbound_calls"]["suspended"] = False
    policy.set_policy(site.uow(), caller=site.admin, preset=None, matrix=matrix, now=site.now)
    assert not ask(site, number, C.INBOUND_CALLS).allowed


def test_only_operator_admins_set_the_policy_and_a_bad_matrix_is_refused(site: Installation) -> None:
    partner = site.user(site.reseller().id, Role.ADMIN, "admin@northwind.example")
    with pytest.raises(Forbidden):
        policy.set_policy(site.uow(), caller=partner, preset="metis", matrix=None, now=site.now)
    with pytest.raises(ValidationFailed):
        policy.set_policy(site.uow(), caller=site.admin, preset=None, matrix={"outbound_calls": {}}, now=site.now)
    with pytest.raises(ValidationFailed):
        policy.set_policy(site.uow(), caller=site.admin, preset="metis", matrix={}, now=site.now)
    assert policy.get_policy(site.uow(), caller=partner).name == "connect"


def test_a_number_not_yet_in_service_is_denied_calls_with_its_start_date(site: Installation) -> None:
    client = site.client()
    number = add(site, client.id, start=date(2026, 12, 1)).label
    decision = ask(site, number, C.OUTBOUND_CALLS)
    assert (decision.allowed, decision.because) == (False, "not yet in service: the number starts on 2026-12-01")


def test_absent_removed_foreign_and_malformed_numbers(site: Installation) -> None:
    reseller = site.reseller("Northwind")
    own = site.client(reseller.id, "Own")
    foreign = site.client(name="Foreign")
    own_number = add(site, own.id, "+44 20 7946 0001").label
    foreign_service = add(site, foreign.id, "+44 20 7946 0002")
    partner = site.user(reseller.id, Role.VIEWER, "viewer@northwind.example")
    portal = site.user(own.id, Role.PORTAL, "it@own.example")
    assert ask(site, own_number, C.INBOUND_CALLS, partner).allowed
    assert ask(site, own_number, C.INBOUND_CALLS, portal).allowed
    with pytest.raises(NotFound):
        ask(site, foreign_service.label, C.INBOUND_CALLS, partner)  # not visible is not found
    with pytest.raises(NotFound):
        ask(site, "+442079460999", C.INBOUND_CALLS)
    remove(site, foreign.id, foreign_service.id)
    with pytest.raises(NotFound):
        ask(site, foreign_service.label, C.INBOUND_CALLS)
    with pytest.raises(ValidationFailed):
        ask(site, "not-a-number", C.INBOUND_CALLS)


def test_a_number_lookup_is_one_statement_whatever_the_depth_and_the_holds(site: Installation) -> None:
    shallow = site.client(name="Shallow")
    reseller = site.reseller()
    channel = site.channel(reseller.id)
    deep = site.client(channel.id, "Deep")
    for i in range(20):  # more accounts must not mean more statements
        site.client(channel.id, f"Neighbour {i}")
    shallow_number = add(site, shallow.id, "+44 20 7946 0001").label
    deep_number = add(site, deep.id, "+44 20 7946 0002").label
    site.suspend(reseller.id, HoldReason.NON_PAYMENT)
    site.suspend(channel.id, HoldReason.FRAUD)
    site.suspend(deep.id, HoldReason.REQUESTED)
    for number in (shallow_number, deep_number):
        with statements(site.engine) as log:
            ask(site, number, C.OUTBOUND_CALLS)
        assert log.count == 1, log.statements
    assert ask(site, deep_number, C.OUTBOUND_CALLS).because.startswith(
        "suspended: requested by the customer hold on client Deep"
    )


def test_account_entitlements_say_what_each_capability_does_and_whether_it_is_billed(site: Installation) -> None:
    channel = site.channel(name="North Sales")
    client = site.client(channel.id)
    site.suspend(channel.id, HoldReason.FRAUD)
    found = entitlements.account_entitlements(site.uow(), caller=site.admin, account_id=client.id)
    assert found.status is Status.SUSPENDED and found.billed
    assert {c: d.allowed for c, d in found.decisions.items()} == {
        C.OUTBOUND_CALLS: False,
        C.INBOUND_CALLS: True,
        C.INTERNET: False,
        C.LOCAL_NETWORK: True,
        C.PORTAL_LOGIN: True,
    }
    assert "fraud hold on channel North Sales" in found.decisions[C.OUTBOUND_CALLS].because


def test_on_postgresql_every_read_of_the_lookup_is_indexed(pg_site: Installation) -> None:
    """With a few thousand clients and real statistics, the plan finds the number by its partial
    unique index and touches every other table by index too: the cost cannot grow with the tree.

    (The query names the index's WHERE clause with literals, not parameters, so the planner can
    see that it implies the partial index's predicate.)
    """
    channel = pg_site.channel()
    client = pg_site.client(channel.id)
    number = add(pg_site, client.id).label
    pg_site.suspend(channel.id)
    _bulk_clients(pg_site, channel.id, 3000)
    with pg_site.engine.connect() as conn:
        conn.execute(text("ANALYZE"))
        compiled = (
            number_query(pg_site.admin).params(number=number).compile(conn, compile_kwargs={"literal_binds": True})
        )
        plan = "\n".join(conn.execute(text(f"EXPLAIN {compiled}")).scalars())
    # the held-number unique index, or the prefix index on held numbers (search), both partial on held ones
    assert re.search(r"Index Scan using (uq_services_number_held|ix_services_number_prefix) on services", plan), plan
    for table in ("services", "accounts", "account_ancestors", "holds"):
        assert f"Seq Scan on {table}" not in plan, plan
    assert entitlements.number_entitlement(
        pg_site.uow(),
        caller=pg_site.admin,
        number=number,
        capability=C.INBOUND_CALLS,
        numbers=E164Numbers(),
        now=pg_site.now,
    ).allowed


def _bulk_clients(site: Installation, parent_id: str, count: int) -> None:
    """Many clients with a number each (a third on hold), written directly: the plan is under test."""
    now, today = site.now, site.now.date()
    ids = [new_id() for _ in range(count)]
    with site.engine.begin() as conn:
        conn.execute(
            insert(A),
            [
                {
                    "id": i,
                    "kind": "client",
                    "parent_id": parent_id,
                    "name": f"Bulk {n}",
                    "sort_key": f"1bulk {n}",
                    "billing_ref": f"BULK-{n}",
                    "stage": "active",
                    "activated_on": today,
                    "client_type": "residential",
                    "start_date": today,
                    "created_at": now,
                    "updated_at": now,
                }
                for n, i in enumerate(ids)
            ],
        )
        above = conn.execute(select(AA.c.ancestor_id, AA.c.depth).where(AA.c.account_id == parent_id)).all()
        conn.execute(
            insert(AA),
            [
                {"account_id": i, "ancestor_id": ancestor, "depth": depth}
                for i in ids
                for ancestor, depth in [(i, 0), *((a, d + 1) for a, d in above)]
            ],
        )
        conn.execute(
            insert(S),
            [
                {
                    "id": new_id(),
                    "account_id": i,
                    "kind": "phone_number",
                    "label": f"+44207946{n:04d}",
                    "monthly_price_cents": 1200,
                    "start_date": today,
                    "created_at": now,
                }
                for n, i in enumerate(ids, start=1000)
            ],
        )
        conn.execute(  # a third of them suspended, so holds is no one-row table either
            insert(H),
            [
                {
                    "id": new_id(),
                    "account_id": i,
                    "reason": "non_payment",
                    "placed_at": now,
                    "placed_by": "ops",
                    "placed_by_account": site.operator_id,
                }
                for i in ids[::3]
            ],
        )


def test_on_sqlite_every_read_of_the_lookup_is_an_index_search(sqlite_site: Installation) -> None:
    """SQLite must probe, never scan or materialise (a nested "ancestors JOIN holds" once
    materialised every descendant of every held ancestor). PostgreSQL has its own plan test."""
    site = sqlite_site
    reseller = site.reseller()
    client = site.client(site.channel(reseller.id).id)
    number = add(site, client.id).label
    site.suspend(reseller.id)
    partner = site.user(reseller.id, Role.VIEWER, "viewer@northwind.example")
    for caller in (site.admin, partner):
        query = number_query(caller).params(number=number)
        with site.engine.connect() as conn:
            compiled = query.compile(conn, compile_kwargs={"literal_binds": True})
            plan = [row[3] for row in conn.execute(text(f"EXPLAIN QUERY PLAN {compiled}"))]
        assert not [step for step in plan if step.startswith(("SCAN", "MATERIALIZE"))], plan
        assert any("uq_services_number_held" in step for step in plan), plan
