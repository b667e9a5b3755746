"""Counts that do not scan (issue 13 §5): client_counts follows every creation and stage move,
suspension comes from the holds, and `tenure check counts` finds (and fixes) drift. SQLite and PostgreSQL."""

from __future__ import annotations

import io
import threading
from collections import Counter
from datetime import timedelta

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import delete, select, update
from typer.testing import CliRunner, Result

from tenure.adapters.db import counts, migrate
from tenure.adapters.db.batch import BatchUnitOfWork
from tenure.adapters.db.listing import AccountFilter, count_by_status
from tenure.adapters.db.tables import account_ancestors as AA
from tenure.adapters.db.tables import accounts as A
from tenure.adapters.db.tables import client_counts as C
from tenure.adapters.db.uow import UnitOfWork
from tenure.domain.access import Caller, Role
from tenure.domain.errors import InvalidTransition
from tenure.domain.model import Account, ActivateMode, HoldReason, Kind, Stage, Status
from tenure.entrypoints.cli import app
from tenure.services import accounts as svc
from tenure.services import clients_csv
from tenure.services.bulk import BulkAction, BulkRequest, run_bulk
from tenure.services.counts import check_counts
from tenure.services.scheduler import apply_due_changes
from tests.support import Installation


def _expected(site: Installation, root: str) -> dict[Status, int]:
    """Clients below `root` by status, each derived on its own (the definition, not the counters)."""
    with site.uow().reading() as uow:
        below = select(AA.c.account_id).where(AA.c.ancestor_id == root, AA.c.depth > 0)
        rows = list(uow.connection.execute(select(A).where(A.c.kind == "client", A.c.id.in_(below))))
        found = Counter(account.status for account in uow.accounts.hydrate(rows))
    return {status: found[status] for status in Status}


def _counted(site: Installation, caller: Caller, within: str | None = None) -> dict[Status, int]:
    with site.uow().reading() as uow:
        return count_by_status(uow.connection, caller, AccountFilter(kind=Kind.CLIENT, within=within))


def _agree(site: Installation, *roots: str) -> None:
    for root in roots:
        assert _counted(site, site.admin, root) == _expected(site, root), root
    assert check_counts(site.uow()) == []


def _tree(site: Installation) -> tuple[Account, Account, list[Account]]:
    reseller = site.reseller()
    channel = site.channel(reseller.id)
    later = site.now.date() + timedelta(days=30)
    clients = [
        site.client(channel.id, "Active One"),
        site.client(channel.id, "Scheduled", start_date=later),
        site.client(reseller.id, "New", activate=ActivateMode.MANUAL),
        site.client(None, "Under Operator"),
    ]
    return reseller, channel, clients


def test_counters_follow_creations_stage_moves_and_holds(site: Installation) -> None:
    reseller, channel, clients = _tree(site)
    roots = (site.operator_id, reseller.id, channel.id)
    _agree(site, *roots)
    site.suspend(channel.id)  # one hold suspends every client below the channel
    site.suspend(clients[0].id, HoldReason.FRAUD)  # nested under the held channel: counted once
    site.suspend(clients[3].id)
    _agree(site, *roots)
    assert _counted(site, site.admin, channel.id)[Status.SUSPENDED] == 2
    site.decommission(clients[3].id)  # held, but decommissioned wins: inactive
    svc.activate(site.uow(), caller=site.admin, account_id=clients[2].id, on=None, expected_version=None, now=site.now)
    _agree(site, *roots)
    site.suspend(reseller.id)  # above a held channel: every client below the reseller once
    _agree(site, *roots)
    site.unsuspend(reseller.id)
    site.unsuspend(channel.id)
    late = site.client(channel.id, "Born Later")  # under a channel no longer held
    site.suspend(channel.id)
    born = site.client(channel.id, "Born Suspended")
    assert site.get(born.id).status is Status.SUSPENDED and site.get(late.id).status is Status.SUSPENDED
    _agree(site, *roots)
    assert _counted(site, site.admin) == _expected(site, site.operator_id)  # no `within`: the caller's tree


def test_a_partners_admin_counts_its_own_tree_only(site: Installation) -> None:
    reseller, channel, _ = _tree(site)
    other = site.reseller("Southwind")
    site.client(other.id, "Elsewhere")
    admin = site.user(reseller.id, Role.ADMIN, "admin@northwind.example")
    assert _counted(site, admin) == _expected(site, reseller.id)
    assert _counted(site, admin, channel.id) == _expected(site, channel.id)
    assert sum(_counted(site, admin, other.id).values()) == 0  # not visible: nothing
    client = site.client(channel.id, "Leaf")
    assert _counted(site, admin, client.id) == {s: int(s is Status.ACTIVE) for s in Status}  # a client: itself


def test_bulk_moves_are_counted_gathered_or_at_once_and_a_refused_item_is_not(site: Installation) -> None:
    channel = site.channel()
    clients = [site.client(channel.id, f"Client {i}") for i in range(5)]
    decommission = BulkRequest(BulkAction.DECOMMISSION)
    gathered = BatchUnitOfWork(site.engine)
    run_bulk(gathered, caller=site.admin, request=decommission, ids=[c.id for c in clients[:2]], now=site.now)
    assert gathered.accounts.independent
    at_once = BatchUnitOfWork(site.engine)
    ids = [clients[2].id, clients[2].id, clients[3].id]  # an id twice: not independent
    run_bulk(at_once, caller=site.admin, request=decommission, ids=ids, now=site.now)
    assert not at_once.accounts.independent
    _agree(site, site.operator_id, channel.id)
    assert _counted(site, site.admin, channel.id)[Status.INACTIVE] == 4
    with BatchUnitOfWork(site.engine) as batch:
        batch.accounts.preload([clients[4].id], site.admin)
        with pytest.raises(InvalidTransition), batch.item() as uow:
            _move_then_refuse(site, uow, clients[4])
        batch.commit()
    _agree(site, site.operator_id, channel.id)


def test_imported_clients_and_the_workers_activations_are_counted(site: Installation) -> None:
    channel = site.channel(billing_ref="CH-1")
    start = (site.now + timedelta(days=2)).date()
    text = (
        "name,billing_ref,type,start,end,contact,parent_billing_ref\n"
        f"Acme,A-1,residential,{start},,ops@acme.example,CH-1\nBeta,B-1,virtual,2026-01-01,,ops@beta.example,\n"
    )
    parsed = clients_csv.read_rows(io.StringIO(text))
    clients_csv.import_clients(site.uow(), caller=site.admin, parsed=parsed, now=site.now)
    _agree(site, site.operator_id, channel.id)
    assert _counted(site, site.admin, channel.id)[Status.SCHEDULED] == 1
    site.clock.set(site.now + timedelta(days=3))
    apply_due_changes(site.uow, now=site.now)
    _agree(site, site.operator_id, channel.id)
    assert _counted(site, site.admin, channel.id)[Status.ACTIVE] == 1


def _move_then_refuse(site: Installation, uow: UnitOfWork, client: Account) -> None:
    """An item that saves a stage move, then is refused: its move must not be counted."""
    loaded = uow.accounts.get(client.id, caller=site.admin)
    loaded.stage = Stage.DECOMMISSIONED
    uow.accounts.save(loaded, now=site.now)
    raise InvalidTransition("refused after it saved")


def _cli(site: Installation, *args: str) -> Result:
    url = site.engine.url.render_as_string(hide_password=False)
    return CliRunner().invoke(app, list(args), env={"TENURE_DATABASE_URL": url})


def test_check_counts_reports_drift_and_fixes_it(site: Installation) -> None:
    reseller, channel, _ = _tree(site)
    assert _cli(site, "check", "counts").exit_code == 0
    with site.engine.begin() as connection:
        off_by_five = (C.c.ancestor_id == site.operator_id) & (C.c.stage == "active") & (C.c.slot == 3)
        connection.execute(update(C).where(off_by_five).values(n=C.c.n + 5))
        connection.execute(delete(C).where(C.c.ancestor_id == channel.id))
    found = _cli(site, "check", "counts")
    assert found.exit_code == 1
    actual = _expected(site, site.operator_id)[Status.ACTIVE]
    assert f"drift: {site.operator_id} active: counted {actual + 5}, actual {actual}" in found.stdout
    assert f"drift: {channel.id} active: counted no counters, actual 1" in found.stdout
    assert "5 counter(s) drifted (found)" in found.stderr  # the operator's one, the channel's four stages
    fixed = _cli(site, "check", "counts", "--fix")
    assert fixed.exit_code == 1 and "drifted (fixed)" in fixed.stderr
    again = _cli(site, "check", "counts")
    assert again.exit_code == 0 and "counts agree" in again.stdout
    _agree(site, site.operator_id, reseller.id, channel.id)


def test_the_migration_backfills_the_counters_from_existing_accounts(site: Installation) -> None:
    reseller, channel, clients = _tree(site)
    site.decommission(clients[3].id)
    config = migrate.alembic_config()
    with site.engine.connect() as connection:
        config.attributes["connection"] = connection
        before = ScriptDirectory.from_config(config).get_revision("0010_counts").down_revision
        command.downgrade(config, str(before))  # wherever 0010_counts is chained
        command.upgrade(config, "head")
        connection.commit()
    _agree(site, site.operator_id, reseller.id, channel.id)


@pytest.mark.postgres_only
def test_concurrent_changes_under_one_channel_keep_exact_counts(pg_site: Installation) -> None:
    """Many writers add to the same (ancestor, stage) rows at once: no lost update, no deadlock."""
    site = pg_site
    channel = site.channel()
    failures: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for i in range(4):
                client = site.client(channel.id, f"Client {n}-{i}", activate=ActivateMode.MANUAL)
                svc.activate(
                    site.uow(), caller=site.admin, account_id=client.id, on=None, expected_version=None, now=site.now
                )
                if i % 2:
                    site.decommission(client.id)
        except BaseException as error:  # handed to the test thread
            failures.append(error)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    _agree(site, site.operator_id, channel.id)
    assert _counted(site, site.admin, channel.id)[Status.INACTIVE] == 12
    assert counts.SLOTS > 1


def test_a_stage_move_undone_by_its_savepoint_is_not_counted(site: Installation) -> None:
    """A keyed API change runs in `uow.nested()` (entrypoints/api/idempotency.py): when it is refused
    after saving a stage move, the transaction still commits (to remember the refusal), and the
    undone move must not reach the counters."""
    channel = site.channel()
    client = site.client(channel.id, "Undone")
    with site.uow() as uow:
        with pytest.raises(InvalidTransition), uow.nested():
            _move_then_refuse(site, uow, client)
        uow.commit()
    _agree(site, site.operator_id, channel.id)
    assert _counted(site, site.admin, channel.id)[Status.ACTIVE] == 1
