"""On PostgreSQL: the database decides RADIUS races — one holder per network id, one row per session.

As in test_races_pg.py, the first transaction is held open until the second is
seen waiting on the unique index, so the second has passed every Python check.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tenure.adapters.db.lines import LineRepository
from tenure.adapters.db.radius import Accounting
from tenure.adapters.db.tables import radius_sessions
from tenure.domain.catalog import Line, LineKind
from tenure.domain.errors import NetworkIdTaken
from tenure.domain.ids import new_id
from tenure.domain.radius import AcctStatus
from tests.integration.test_races_pg import _race_behind_open_insert
from tests.radius_kit import internet, start
from tests.support import Installation

pytestmark = pytest.mark.postgres_only


def test_the_unique_index_refuses_the_second_holder_of_a_network_id(pg_site: Installation) -> None:
    first, second = pg_site.client(name="First"), pg_site.client(name="Second")
    held = Line(new_id(), first.id, LineKind.INTERNET, "PPPoE", 3000, pg_site.now.date(), None, "acme-ppp1")
    error = _race_behind_open_insert(
        pg_site.engine,
        lambda uow: LineRepository(uow.connection).add(held, now=pg_site.now),
        lambda: internet(pg_site, second.id, "acme-ppp1"),
    )
    assert isinstance(error, NetworkIdTaken)
    with pg_site.uow().reading() as uow:
        assert LineRepository(uow.connection).network_id_holder(LineKind.INTERNET, "acme-ppp1") == held.id


def test_a_start_retransmitted_while_the_first_is_uncommitted_is_one_session(pg_site: Installation) -> None:
    client = pg_site.client()
    internet(pg_site, client.id, "acme-ppp1")
    first = Accounting(AcctStatus.START, "S-1", "127.0.0.1", "acme-ppp1", None, pg_site.now)
    error = _race_behind_open_insert(
        pg_site.engine,
        lambda uow: uow.radius.record(first, holder=None, now=pg_site.now),
        lambda: start(pg_site, "S-1", "acme-ppp1"),
    )
    assert error is None
    with pg_site.engine.connect() as connection:
        rows = list(connection.execute(select(radius_sessions)))
        assert connection.execute(select(func.count()).select_from(radius_sessions)).scalar_one() == 1
    assert rows[0].state == "open" and rows[0].account_id == client.id  # the retransmission linked it
