"""The console's own use cases on both databases: paging both ways, the wizard, view as client, sessions."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tenure.domain.access import Role
from tenure.domain.errors import Forbidden, InvalidTransition, LoginSuspended, Unauthorized
from tenure.domain.model import ActivateMode, Contact, HoldReason, Kind, Stage, Status
from tenure.services import accounts, auth, browse, queries, viewing, wizard
from tenure.services.read_models import AccountFilter
from tenure.services.wizard import Finish, WizardStep
from tests.support import Installation, MutableClock


def _names(page: browse.ClientsPage) -> list[str]:
    return [view.account.name for view in page.items]


def test_clients_pages_go_forward_and_back_by_keyset(site: Installation) -> None:
    for letter in "ABCDEFG":
        site.client(name=f"{letter} Client")
    flt = AccountFilter(kind=Kind.CLIENT)

    def page(cursor: str | None = None, before: str | None = None) -> browse.ClientsPage:
        return browse.clients_page(
            site.uow(), caller=site.admin, flt=flt, limit=3, cursor=cursor, before=before, now=site.now
        )

    first = page()
    assert _names(first) == ["Meridian (management)", "A Client", "B Client"]
    assert first.prev_cursor is None and first.next_cursor
    second = page(cursor=first.next_cursor)
    assert _names(second) == ["C Client", "D Client", "E Client"]
    assert second.prev_cursor
    back = page(before=second.prev_cursor)
    assert _names(back) == _names(first)
    assert back.prev_cursor is None  # nothing before the first page
    assert _names(page(cursor=back.next_cursor)) == _names(second)
    assert second.counts[Status.ACTIVE] == 8


def test_wizard_keeps_a_draft_new_and_resumes_where_it_stopped(site: Installation) -> None:
    request = accounts.CreateAccount(Kind.CLIENT, site.operator_id, "Draft Ltd", Contact("D", "d@example.com"))
    draft = wizard.start(site.uow(), caller=site.admin, request=request, now=site.now)
    assert draft.stage is Stage.NEW
    assert wizard.resume_step(site.uow(), caller=site.admin, account_id=draft.id) is WizardStep.TYPE

    wizard.advance(site.uow(), caller=site.admin, account_id=draft.id, to=WizardStep.SERVICES)
    assert wizard.resume_step(site.uow(), caller=site.admin, account_id=draft.id) is WizardStep.SERVICES
    kept = wizard.finish(
        site.uow(), caller=site.admin, account_id=draft.id, how=Finish.LATER, start_date=None, now=site.now
    )
    assert kept is None and site.get(draft.id).stage is Stage.NEW
    assert wizard.resume_step(site.uow(), caller=site.admin, account_id=draft.id) is WizardStep.REVIEW

    viewer = site.user(site.operator_id, Role.VIEWER, "viewer@operator.example")
    with pytest.raises(Forbidden):
        wizard.advance(site.uow(), caller=viewer, account_id=draft.id, to=WizardStep.REVIEW)

    done = wizard.finish(
        site.uow(), caller=site.admin, account_id=draft.id, how=Finish.NOW, start_date=None, now=site.now
    )
    assert done is not None and done.stage is Stage.ACTIVE
    with site.uow().reading() as uow:
        assert uow.accounts.wizard_step(draft.id) is None
    with pytest.raises(InvalidTransition):
        wizard.resume_step(site.uow(), caller=site.admin, account_id=draft.id)


def test_wizard_finishing_on_a_future_start_date_schedules(site: Installation) -> None:
    later = site.now.date() + timedelta(days=10)
    request = accounts.CreateAccount(
        Kind.CLIENT, site.operator_id, "Later Ltd", Contact("L", "l@example.com"), start_date=later
    )
    draft = wizard.start(site.uow(), caller=site.admin, request=request, now=site.now)
    done = wizard.finish(
        site.uow(), caller=site.admin, account_id=draft.id, how=Finish.ON_START_DATE, start_date=later, now=site.now
    )
    assert done is not None and done.stage is Stage.SCHEDULED and done.start_date == later


def test_a_new_client_made_elsewhere_resumes_at_review(site: Installation) -> None:
    client = site.client(name="Manual Ltd", activate=ActivateMode.MANUAL)
    assert wizard.resume_step(site.uow(), caller=site.admin, account_id=client.id) is WizardStep.REVIEW


def test_view_as_client_records_who_looked(site: Installation) -> None:
    client = site.client(name="Watched Ltd")
    viewing.view_as_client(site.uow(), caller=site.admin, account_id=client.id, now=site.now)
    entries, _ = queries.account_events(site.uow(), caller=site.admin, account_id=client.id, limit=5, cursor=None)
    assert entries[0].action == "viewed_as_client" and entries[0].actor == site.admin.email
    assert site.get(client.id).version == 1  # looking changes nothing

    portal = site.user(client.id, Role.PORTAL, "it@watched.example")
    with pytest.raises(Forbidden):
        viewing.view_as_client(site.uow(), caller=portal, account_id=client.id, now=site.now)


def test_a_session_ends_with_the_accounts_sign_in_rights(engine: object, clock: MutableClock) -> None:
    metis = Installation.start(engine, clock, policy="metis")  # type: ignore[arg-type]
    client = metis.client(name="Locked Ltd")
    portal = metis.user(client.id, Role.PORTAL, "it@locked.example")
    assert viewing.caller_for_session(metis.uow(), user_id=portal.user_id, generation=0) == portal
    metis.suspend(client.id, HoldReason.NON_PAYMENT)
    with pytest.raises(LoginSuspended):
        viewing.caller_for_session(metis.uow(), user_id=portal.user_id, generation=0)
    auth.delete_user(metis.uow(), caller=metis.admin, user_id=portal.user_id)
    with pytest.raises(Unauthorized):
        viewing.caller_for_session(metis.uow(), user_id=portal.user_id, generation=0)


def test_partner_tree_counts_clients_by_status_below_each_partner(site: Installation) -> None:
    reseller = site.reseller("Northwind")
    north = site.channel(reseller.id, "North Sales")
    site.channel(reseller.id, "South Sales")
    site.client(north.id, "Under North")
    held = site.client(north.id, "Held North")
    site.suspend(held.id, HoldReason.FRAUD)
    page = browse.partners_page(site.uow(), caller=site.admin)
    assert [(n.account.name, n.depth) for n in page.tree] == [
        ("Northwind", 0),
        ("North Sales", 1),
        ("South Sales", 1),
    ]
    north_node = page.tree[1]
    assert north_node.counts[Status.ACTIVE] == 1 and north_node.counts[Status.SUSPENDED] == 1
    assert north_node.clients == 2 and page.tree[0].clients == 2
    assert [c.name for c in page.held_clients] == ["Held North"]
    assert "Meridian (management)" not in [c.name for c in page.active_clients]
