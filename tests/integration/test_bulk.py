"""The bulk use case and its batch transaction, on SQLite and PostgreSQL, and `tenure bulk` end to end."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Table, func, insert, select
from typer.testing import CliRunner, Result

from tenure.adapters.db.batch import BatchUnitOfWork, ItemUnitOfWork
from tenure.adapters.db.tables import events, holds, outbox
from tenure.domain.errors import AlreadySuspended, InvalidTransition
from tenure.domain.events import Action, Event
from tenure.domain.ids import new_id
from tenure.domain.model import Account, AccountRef, Hold, HoldReason, Status
from tenure.entrypoints.cli import app
from tenure.services import accounts as svc
from tenure.services.bulk import BulkAction, BulkRequest, run_bulk
from tests.support import Installation


def _count(site: Installation, table: Table, account_id: str) -> int:
    with site.engine.connect() as connection:
        query = select(func.count()).select_from(table).where(table.c.account_id == account_id)
        return int(connection.execute(query).scalar_one())


def _suspend(site: Installation, uow: ItemUnitOfWork, account: Account) -> Account:
    return svc.suspend(
        uow,
        caller=site.admin,
        account_id=account.id,
        reason=HoldReason.FRAUD,
        note="",
        expected_version=None,
        now=site.now,
    )


def _write_then_refuse(site: Installation, uow: ItemUnitOfWork, account: Account) -> None:
    """A use case that writes a hold, the account, an event and a webhook, then is refused."""
    with uow:
        loaded = uow.accounts.get(account.id, caller=site.admin, lock=True)
        placer = AccountRef(site.operator_id, "Operator")
        hold = Hold(
            new_id(),
            loaded.id,
            HoldReason.FRAUD,
            "",
            placed_at=site.now,
            placed_by=site.admin.email,
            placed_by_account=placer,
        )
        uow.accounts.add_hold(hold)
        loaded.notes = "changed"
        uow.accounts.save(loaded, now=site.now)
        uow.audit.append(Event(loaded.id, Action.SUSPENDED), actor=site.admin.email, at=site.now)
        uow.outbox.webhook("account.suspended", loaded.id, {}, now=site.now)
        raise InvalidTransition("refused after writing")


def test_an_item_refused_after_it_wrote_is_undone_alone(site: Installation) -> None:
    first, middle, last = (site.client(name=f"Client {i}") for i in range(3))
    events_before = _count(site, events, middle.id)
    with BatchUnitOfWork(site.engine) as batch:
        batch.accounts.preload([first.id, middle.id, last.id], site.admin)
        with batch.item() as uow:
            _suspend(site, uow, first)
        with pytest.raises(InvalidTransition), batch.item() as uow:
            _write_then_refuse(site, uow, middle)
        with batch.item() as uow:
            _suspend(site, uow, last)
        batch.commit()
    assert site.get(first.id).status is Status.SUSPENDED
    assert site.get(last.id).status is Status.SUSPENDED
    undone = site.get(middle.id)
    assert (undone.status, undone.notes, undone.version) == (Status.ACTIVE, "", middle.version)
    assert _count(site, holds, middle.id) == 0
    assert _count(site, events, middle.id) == events_before
    assert _count(site, outbox, middle.id) == 0
    assert _count(site, outbox, last.id) > 0


def _sneak_hold(batch: BatchUnitOfWork, site: Installation, account: Account) -> None:
    """A hold the loaded account does not know of, as only a writer skipping the row lock could place."""
    sneaked = {"id": new_id(), "account_id": account.id, "reason": "fraud", "note": "", "placed_by": "x"}
    sneaked["placed_by_account"] = site.operator_id
    batch.connection.execute(insert(holds).values(**sneaked, placed_at=site.now))


def test_a_database_refusal_inside_an_item_spares_the_rest_of_the_batch(site: Installation) -> None:
    """The unique index refuses the hold at once (the channel makes the batch nested, so nothing is
    gathered); on PostgreSQL the failed INSERT would abort the whole transaction without the item's savepoint."""
    channel = site.channel()
    refused, spared = site.client(channel.id, "Refused"), site.client(channel.id, "Spared")
    with BatchUnitOfWork(site.engine) as batch:
        batch.accounts.preload([refused.id, spared.id, channel.id], site.admin)
        assert not batch.accounts.independent
        _sneak_hold(batch, site, refused)
        with pytest.raises(AlreadySuspended), batch.item() as uow:
            _suspend(site, uow, refused)
        with batch.item() as uow:
            _suspend(site, uow, spared)
        batch.commit()
    assert site.get(spared.id).status is Status.SUSPENDED
    assert [h.placed_by for h in site.get(refused.id).holds] == ["x"]
    assert _count(site, events, refused.id) == 1  # only its creation


def test_a_gathered_hold_the_database_refuses_keeps_nothing_of_the_batch(site: Installation) -> None:
    refused, other = site.client(name="Refused"), site.client(name="Other")
    with BatchUnitOfWork(site.engine) as batch:
        batch.accounts.preload([refused.id, other.id], site.admin)
        assert batch.accounts.independent
        _sneak_hold(batch, site, refused)
        for account in (refused, other):
            with batch.item() as uow:
                _suspend(site, uow, account)
        with pytest.raises(AlreadySuspended):
            batch.commit()
    assert site.get(refused.id).holds == [] and site.get(other.id).holds == []
    assert _count(site, outbox, other.id) == 0


def _run(site: Installation, ids: list[str]) -> tuple[list[bool], int, bool]:
    batch = BatchUnitOfWork(site.engine)
    request = BulkRequest(BulkAction.SUSPEND, HoldReason.FRAUD)
    results = run_bulk(batch, caller=site.admin, request=request, ids=ids, now=site.now)
    return [r.ok for r in results], batch.savepoints, batch.accounts.independent


def test_savepoints_only_where_an_item_writes_at_once(site: Installation) -> None:
    channel = site.channel()
    clients = [site.client(channel.id, f"Client {i}") for i in range(4)]
    site.suspend(clients[1].id, HoldReason.FRAUD)
    ids = [c.id for c in clients[:3]] + ["01nosuchaccount"]
    assert _run(site, ids) == ([True, False, True, False], 0, True)  # all gathered
    nested = [channel.id, clients[3].id, clients[1].id]
    assert _run(site, nested) == ([True, True, False], 2, False)  # refused: no savepoint


def test_a_gathered_batch_leaves_what_item_by_item_leaves(site: Installation) -> None:
    """The same suspensions, gathered (independent batch) and at once (an id given twice)."""
    gathered = [site.client(site.channel(name="A").id, f"Client {i}", email=f"c{i}@example.com") for i in range(3)]
    at_once_channel = site.channel(name="B")
    at_once = [site.client(at_once_channel.id, f"Client {i}", email=f"c{i}@example.com") for i in range(3)]
    site.suspend(gathered[1].id, HoldReason.NON_PAYMENT)
    site.suspend(at_once[1].id, HoldReason.NON_PAYMENT)
    assert _run(site, [c.id for c in gathered])[2]
    assert not _run(site, [*(c.id for c in at_once), at_once[0].id])[2]
    for mine, theirs in zip(gathered, at_once, strict=True):
        assert _trail(site, mine) == _trail(site, theirs)


def _trail(site: Installation, account: Account) -> list[tuple[object, ...]]:
    with site.engine.connect() as connection:
        query = select(events).where(events.c.account_id == account.id).order_by(events.c.id)
        found = [(r.action, r.reason, str(r.before), str(r.after)) for r in connection.execute(query)]
        query = select(outbox).where(outbox.c.account_id == account.id)
        found += sorted((r.kind, r.topic, r.recipient, str(r.payload)) for r in connection.execute(query))
    return [tuple(str(v).replace(account.id, "ID").replace(account.billing_ref, "REF") for v in row) for row in found]


def test_an_id_given_twice_is_acted_on_twice_in_order(site: Installation) -> None:
    client = site.client()
    request = BulkRequest(BulkAction.SUSPEND, HoldReason.NON_PAYMENT)
    results = run_bulk(
        BatchUnitOfWork(site.engine), caller=site.admin, request=request, ids=[client.id] * 2, now=site.now
    )
    assert results[0].view is not None and results[0].view.account.version == client.version + 1
    assert results[1].error is not None and results[1].error.code == "already-suspended"
    unsuspend = BulkRequest(BulkAction.UNSUSPEND)
    again = run_bulk(
        BatchUnitOfWork(site.engine), caller=site.admin, request=unsuspend, ids=[client.id] * 2, now=site.now
    )
    assert [r.error.code if r.error else "ok" for r in again] == ["ok", "not-suspended"]
    assert site.get(client.id).status is Status.ACTIVE


def _cli(site: Installation, *args: str) -> Result:
    url = site.engine.url.render_as_string(hide_password=False)
    return CliRunner().invoke(app, list(args), env={"TENURE_DATABASE_URL": url})


def test_the_cli_suspends_by_billing_ref_and_reports_every_failure(site: Installation, tmp_path: Path) -> None:
    good = [site.client(name=f"Client {i}", billing_ref=f"ACME-{i}") for i in range(3)]
    by_id = site.client(name="By Id")
    listing = tmp_path / "dunning.txt"
    listing.write_text(
        "# nightly dunning run\nACME-0\n\nACME-1  # overdue\nNO-SUCH-REF\nACME-2\n" + by_id.id + "\nACME-0\nbad ref\n"
    )
    result = _cli(site, "bulk", "suspend", str(listing), "--reason", "non_payment", "--note", "invoice 7")
    assert result.exit_code == 1, result.output
    assert "suspended 4 of 7 accounts; 3 failed" in result.stdout
    errors = result.stderr
    assert "line 5: NO-SUCH-REF: not-found" in errors
    assert "line 8: ACME-0: already-suspended" in errors
    assert "line 9: 'bad ref' is not an account id or billing ref" in errors
    for account in [*good, by_id]:
        assert [(h.reason, h.note) for h in site.get(account.id).holds] == [(HoldReason.NON_PAYMENT, "invoice 7")]
    fine = tmp_path / "restore.txt"
    fine.write_text("ACME-0\nACME-1\n")
    restored = _cli(site, "bulk", "unsuspend", str(fine))
    assert restored.exit_code == 0, restored.output
    assert site.get(good[0].id).status is Status.ACTIVE


def test_the_cli_refuses_options_the_action_does_not_take(site: Installation, tmp_path: Path) -> None:
    listing = tmp_path / "ids.txt"
    listing.write_text("ACME-0\n")
    result = _cli(site, "bulk", "suspend", str(listing))
    assert result.exit_code == 2
    assert "suspend needs a reason" in result.output


def test_the_cli_sends_more_than_a_thousand_lines_in_chunks(site: Installation, tmp_path: Path) -> None:
    first, last = site.client(name="First", billing_ref="FIRST-1"), site.client(name="Last", billing_ref="LAST-1")
    lines = ["FIRST-1", *(f"NOPE-{i}" for i in range(1, 1149)), "LAST-1", *(f"NOPE-{i}" for i in range(1149, 1199))]
    listing = tmp_path / "big.txt"
    listing.write_text("\n".join(lines) + "\n")
    result = _cli(site, "bulk", "decommission", str(listing), "--on", "2027-01-31")
    assert result.exit_code == 1, result.output
    assert "decommissioned (or scheduled) 2 of 1,200 accounts; 1,198 failed" in result.stdout
    assert "line 1200: NOPE-1198: not-found" in result.stderr
    for account in (first, last):
        assert site.get(account.id).decommission_on == date(2027, 1, 31)
