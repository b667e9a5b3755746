"""The console's multi-change steps are one transaction each (issue 15 §3), on both databases.

A wizard step that changes dates, type and rooms, a confirmed decommission and
a look as the client either happen whole or leave no trace.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from tenure.adapters.db.tables import accounts as accounts_table
from tenure.adapters.db.tables import events, office_assignments, outbox
from tenure.domain.errors import OfficeTaken, ValidationFailed
from tenure.domain.model import Account, ClientType, Contact, Kind, Stage
from tenure.services import accounts, confirmed, viewing, wizard
from tenure.services.wizard import TypeAndOffices, WizardStep
from tests.integration.catalog_kit import assign, office
from tests.support import Installation


def _state(site: Installation, account_id: str) -> dict[str, Any]:
    """Everything a step could write: the account row, the rooms, the trail and the outbox."""
    with site.uow().reading() as uow:
        connection = uow.connection
        row = connection.execute(select(accounts_table).where(accounts_table.c.id == account_id)).one()
        rooms = connection.execute(select(office_assignments).order_by(office_assignments.c.id)).all()
        trail = connection.execute(select(func.count()).select_from(events)).scalar_one()
        queued = connection.execute(select(func.count()).select_from(outbox)).scalar_one()
    return {"account": row._asdict(), "rooms": rooms, "events": trail, "outbox": queued}


def _virtual_draft(site: Installation) -> Account:
    request = accounts.CreateAccount(
        Kind.CLIENT, site.operator_id, "Draft Ltd", Contact("D", "d@example.com"), client_type=ClientType.VIRTUAL
    )
    return wizard.start(site.uow(), caller=site.admin, request=request, now=site.now)


def _save_type(site: Installation, draft: Account, *office_ids: str) -> Account:
    start = site.now.date() + timedelta(days=3)
    choice = TypeAndOffices(ClientType.RESIDENTIAL, start, start + timedelta(days=100), frozenset(office_ids))
    return wizard.save_type(site.uow(), caller=site.admin, account_id=draft.id, choice=choice, now=site.now)


def test_an_office_taken_since_the_form_was_loaded_leaves_the_draft_untouched(site: Installation) -> None:
    """Dates and the conversion come before the rooms; the taken room refuses all of them."""
    draft = _virtual_draft(site)
    free, taken = office(site, "2.14"), office(site, "2.15")
    assign(site, site.client(name="Quicker Ltd").id, taken.id)  # between loading the form and submitting it
    before = _state(site, draft.id)

    with pytest.raises(OfficeTaken):
        _save_type(site, draft, free.id, taken.id)

    assert _state(site, draft.id) == before
    after = site.get(draft.id)
    assert after.client_type is ClientType.VIRTUAL and after.start_date == draft.start_date
    assert wizard.resume_step(site.uow(), caller=site.admin, account_id=draft.id) is WizardStep.TYPE


def test_the_type_step_saves_dates_type_rooms_and_the_next_step_together(site: Installation) -> None:
    draft = _virtual_draft(site)
    room = office(site, "2.14")
    saved = _save_type(site, draft, room.id)
    assert saved.client_type is ClientType.RESIDENTIAL
    assert saved.start_date == site.now.date() + timedelta(days=3)
    with site.uow().reading() as uow:
        assert uow.offices.held_by([draft.id]) == {draft.id: [(room.id, "2.14")]}
    assert wizard.resume_step(site.uow(), caller=site.admin, account_id=draft.id) is WizardStep.SERVICES


def test_dates_out_of_order_refuse_the_whole_type_step(site: Installation) -> None:
    draft = _virtual_draft(site)
    room = office(site, "2.14")
    before = _state(site, draft.id)
    start = site.now.date() + timedelta(days=3)
    choice = TypeAndOffices(ClientType.RESIDENTIAL, start, start - timedelta(days=1), frozenset({room.id}))
    with pytest.raises(ValidationFailed):
        wizard.save_type(site.uow(), caller=site.admin, account_id=draft.id, choice=choice, now=site.now)
    assert _state(site, draft.id) == before


def _decommission(site: Installation, account_id: str, *, on: date | None = None, name: str = "") -> Account:
    return confirmed.decommission(
        site.uow(),
        caller=site.admin,
        account_id=account_id,
        on=on,
        confirm_name=name,
        expected_version=None,
        now=site.now,
    )


def test_a_confirmed_decommission_checks_the_name_and_date_in_its_own_transaction(site: Installation) -> None:
    client = site.client(name="Acme Ltd")
    before = _state(site, client.id)
    with pytest.raises(ValidationFailed, match="type the client's name, Acme Ltd"):
        _decommission(site, client.id, name="acme ltd")
    with pytest.raises(ValidationFailed, match="date after today"):
        _decommission(site, client.id, on=site.now.date())
    assert _state(site, client.id) == before

    later = site.now.date() + timedelta(days=5)
    assert _decommission(site, client.id, on=later).decommission_on == later
    assert _decommission(site, client.id, name=" Acme Ltd ").stage is Stage.DECOMMISSIONED


def test_view_as_client_returns_the_page_that_records_the_look(site: Installation) -> None:
    client = site.client(name="Watched Ltd")
    detail = viewing.view_as_client(site.uow(), caller=site.admin, account_id=client.id, now=site.now)
    assert detail.view.account.id == client.id
    assert detail.events[0].action == "viewed_as_client"
