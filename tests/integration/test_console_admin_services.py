"""The use cases behind the console's Users and Policy pages, on SQLite and PostgreSQL.

The policy preview must count exactly the accounts `set_policy` then notifies;
a set-password link must work once (also when two uses race, on PostgreSQL),
expire, and end the user's sessions.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tenure.adapters.db.tables import outbox
from tenure.adapters.db.uow import UnitOfWork
from tenure.adapters.passwords import hash_password
from tenure.domain.access import Role
from tenure.domain.errors import Forbidden, NotFound, ValidationFailed
from tenure.domain.model import HoldReason, Kind, Status
from tenure.domain.policy import Capability
from tenure.services import auth, policy, users
from tests.integration.test_races_pg import _race_behind_open_insert
from tests.support import PASSWORD, Installation

KEY = "a test signing key that is long enough"
NEW_PASSWORD = "a brand new passphrase"


def _notified(site: Installation) -> int:
    query = select(func.count()).where(outbox.c.topic == "entitlements.changed")
    with site.uow().reading() as uow:
        return int(uow.connection.execute(query).scalar_one())


def _suspended_tree(site: Installation) -> None:
    channel = site.channel()
    site.client(channel.id, "Through channel")
    site.suspend(site.client(name="Own hold").id, HoldReason.FRAUD)
    site.suspend(channel.id)
    site.client(name="Still active")


def test_the_preview_counts_exactly_the_accounts_the_change_then_notifies(site: Installation) -> None:
    _suspended_tree(site)
    preview = policy.preview_policy(site.uow(), caller=site.admin, preset="metis", matrix=None)
    before = _notified(site)
    policy.set_policy(site.uow(), caller=site.admin, preset="metis", matrix=None, now=site.now)
    assert preview.accounts_changed == _notified(site) - before == 3  # channel, its client, the own hold
    assert policy.get_policy(site.uow(), caller=site.admin).name == "metis"


def test_a_custom_matrix_preview_counts_active_accounts_when_active_changes(site: Installation) -> None:
    _suspended_tree(site)
    matrix = policy.get_policy(site.uow(), caller=site.admin).as_matrix()
    matrix[Capability.INTERNET.value][Status.ACTIVE.value] = False
    preview = policy.preview_policy(site.uow(), caller=site.admin, preset=None, matrix=matrix)
    before = _notified(site)
    policy.set_policy(site.uow(), caller=site.admin, preset=None, matrix=matrix, now=site.now)
    assert preview.accounts_changed == _notified(site) - before
    assert preview.accounts_changed >= 2  # at least the operator's management client and "Still active"


def test_previewing_the_policy_in_force_counts_nobody_and_changes_nothing(site: Installation) -> None:
    _suspended_tree(site)
    before = _notified(site)
    assert policy.preview_policy(site.uow(), caller=site.admin, preset="connect", matrix=None).accounts_changed == 0
    assert policy.preview_policy(site.uow(), caller=site.admin, preset="metis", matrix=None).accounts_changed == 3
    assert _notified(site) == before
    assert policy.get_policy(site.uow(), caller=site.admin).name == "connect"


def test_only_operator_admins_preview(site: Installation) -> None:
    viewer = site.user(site.operator_id, Role.VIEWER, "viewer@operator.example")
    partner_admin = site.user(site.reseller().id, Role.ADMIN, "admin@reseller.example")
    for caller in (viewer, partner_admin):
        with pytest.raises(Forbidden):
            policy.preview_policy(site.uow(), caller=caller, preset="metis", matrix=None)


def _link_user(site: Installation) -> tuple[users.AddedUser, int]:
    added = users.add_user(
        site.uow(),
        caller=site.admin,
        account_id=site.operator_id,
        email="new.admin@operator.example",
        role=Role.ADMIN,
        password=None,
        secret_key=KEY,
        now=site.now,
    )
    assert added.link_token is not None
    return added, added.user.session_generation


def test_a_set_password_link_works_once(site: Installation) -> None:
    added, generation = _link_user(site)
    token = added.link_token
    assert token is not None
    assert users.link_holder(site.uow(), token=token, secret_key=KEY, now=site.now).id == added.user.id
    user = users.set_password_with_link(site.uow(), token=token, password=NEW_PASSWORD, secret_key=KEY, now=site.now)
    assert auth.sign_in(site.uow(), email=user.email, password=NEW_PASSWORD, now=site.now).id == user.id
    with site.uow().reading() as uow:
        assert uow.users.get(user.id).session_generation == generation + 1  # its sessions ended
    with pytest.raises(ValidationFailed, match="already been used"):
        users.set_password_with_link(
            site.uow(), token=token, password="another passphrase", secret_key=KEY, now=site.now
        )
    with pytest.raises(ValidationFailed):
        users.link_holder(site.uow(), token=token, secret_key=KEY, now=site.now)
    assert auth.sign_in(site.uow(), email=user.email, password=NEW_PASSWORD, now=site.now).id == user.id


def test_a_set_password_link_expires_and_cannot_be_forged(site: Installation) -> None:
    added, _ = _link_user(site)
    token = added.link_token
    assert token is not None
    later = site.now + users.PASSWORD_LINK_TTL + timedelta(seconds=1)
    with pytest.raises(ValidationFailed):
        users.set_password_with_link(site.uow(), token=token, password=NEW_PASSWORD, secret_key=KEY, now=later)
    with pytest.raises(ValidationFailed):
        users.link_holder(site.uow(), token=token, secret_key="another key entirely", now=site.now)
    with pytest.raises(ValidationFailed):
        users.link_holder(site.uow(), token=token[:-2] + "xx", secret_key=KEY, now=site.now)


def test_any_other_password_change_spends_an_outstanding_link(site: Installation) -> None:
    target = site.user(site.operator_id, Role.VIEWER, "viewer@operator.example")
    token = users.password_link(site.uow(), caller=site.admin, user_id=target.user_id, secret_key=KEY, now=site.now)
    users.reset_password(site.uow(), caller=site.admin, user_id=target.user_id, password=NEW_PASSWORD, now=site.now)
    with pytest.raises(ValidationFailed):
        users.set_password_with_link(site.uow(), token=token, password="yet another one", secret_key=KEY, now=site.now)


def test_links_and_resets_stay_within_the_admins_tree(site: Installation) -> None:
    reseller = site.reseller()
    partner_admin = site.user(reseller.id, Role.ADMIN, "admin@reseller.example")
    viewer = site.user(reseller.id, Role.VIEWER, "viewer@reseller.example")
    operator_viewer = site.user(site.operator_id, Role.VIEWER, "viewer@operator.example")
    with pytest.raises(NotFound):
        users.password_link(site.uow(), caller=partner_admin, user_id=site.admin.user_id, secret_key=KEY, now=site.now)
    with pytest.raises(NotFound):
        users.reset_password(
            site.uow(), caller=partner_admin, user_id=operator_viewer.user_id, password=NEW_PASSWORD, now=site.now
        )
    with pytest.raises(Forbidden):
        users.reset_password(
            site.uow(), caller=viewer, user_id=partner_admin.user_id, password=NEW_PASSWORD, now=site.now
        )
    users.reset_password(site.uow(), caller=partner_admin, user_id=viewer.user_id, password=NEW_PASSWORD, now=site.now)
    assert auth.sign_in(site.uow(), email=viewer.email, password=NEW_PASSWORD, now=site.now).id == viewer.user_id


def test_add_user_checks_the_role_fits_the_account(site: Installation) -> None:
    client = site.client()
    with pytest.raises(ValidationFailed, match="portal"):
        users.add_user(
            site.uow(),
            caller=site.admin,
            account_id=client.id,
            email="boss@acme.example",
            role=Role.ADMIN,
            password=PASSWORD,
            secret_key=KEY,
            now=site.now,
        )
    added = users.add_user(
        site.uow(),
        caller=site.admin,
        account_id=client.id,
        email="it@acme.example",
        role=Role.PORTAL,
        password=PASSWORD,
        secret_key=KEY,
        now=site.now,
    )
    assert added.link_token is None and added.user.account_kind is Kind.CLIENT


def test_changing_the_own_password_needs_the_current_one_and_moves_the_generation(site: Installation) -> None:
    with pytest.raises(ValidationFailed, match="current password"):
        users.change_own_password(
            site.uow(), caller=site.admin, current="not my password", new=NEW_PASSWORD, now=site.now
        )
    before = users.get_user(site.uow(), caller=site.admin, user_id=site.admin.user_id).session_generation
    changed = users.change_own_password(site.uow(), caller=site.admin, current=PASSWORD, new=NEW_PASSWORD, now=site.now)
    assert changed.session_generation == before + 1
    assert auth.sign_in(site.uow(), email=site.admin.email, password=NEW_PASSWORD, now=site.now).id == changed.id


@pytest.mark.postgres_only
def test_two_uses_of_one_link_at_the_same_moment_set_one_password(pg_site: Installation) -> None:
    """The first use holds the user's row after replacing the hash; the second waits, then finds it gone."""
    added, _ = _link_user(pg_site)
    token = added.link_token
    assert token is not None

    def first_use(uow: UnitOfWork) -> None:
        user = uow.users.by_id(added.user.id)
        assert user is not None
        assert uow.users.replace_password_hash(
            user.id, old_hash=user.password_hash, new_hash=hash_password(NEW_PASSWORD)
        )

    error = _race_behind_open_insert(
        pg_site.engine,
        first_use,
        lambda: users.set_password_with_link(
            pg_site.uow(), token=token, password="the second passphrase", secret_key=KEY, now=pg_site.now
        ),
    )
    assert isinstance(error, ValidationFailed)
    signed_in = auth.sign_in(pg_site.uow(), email=added.user.email, password=NEW_PASSWORD, now=pg_site.now)
    assert signed_in.id == added.user.id
