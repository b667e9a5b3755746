"""On PostgreSQL: two deletions of the operator's last two admins cannot both succeed.

The first deletion is held open after it has locked the operator's admins and
deleted one; the second must wait on that lock and then see one admin left.
"""

from __future__ import annotations

import pytest

from tenure.adapters.db.uow import UnitOfWork
from tenure.domain.access import Role
from tenure.domain.errors import LastAdmin
from tenure.services import auth
from tests.integration.test_races_pg import _race_behind_open_insert
from tests.support import Installation

pytestmark = pytest.mark.postgres_only


def test_the_second_of_two_racing_deletions_keeps_the_last_admin(pg_site: Installation) -> None:
    first = pg_site.admin
    second = pg_site.user(pg_site.operator_id, Role.ADMIN, "second@operator.example")

    def delete_first(uow: UnitOfWork) -> None:
        assert uow.users.admins_of(pg_site.operator_id, lock=True) == tuple(sorted((first.user_id, second.user_id)))
        uow.users.delete(first.user_id)

    error = _race_behind_open_insert(
        pg_site.engine,
        delete_first,
        lambda: auth.delete_user(pg_site.uow(), caller=second, user_id=second.user_id),
    )
    assert isinstance(error, LastAdmin)
    with pg_site.uow().reading() as uow:
        assert uow.users.admins_of(pg_site.operator_id, lock=False) == (second.user_id,)
