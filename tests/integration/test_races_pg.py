"""On PostgreSQL: two clients racing for one room or one number — exactly one gets it.

The deterministic tests hold the winner's transaction open until the loser
is seen waiting on the unique index (so the loser has already passed every
Python check), then commit: only the database's partial unique index can
refuse the loser, and it must come out as `office-taken` / `number-taken`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import Engine, text

from tenure.adapters.db.lines import LineRepository
from tenure.adapters.db.uow import UnitOfWork
from tenure.domain.catalog import Line, LineKind
from tenure.domain.errors import DomainError, NumberTaken, OfficeTaken
from tenure.domain.ids import new_id
from tests.integration.catalog_kit import add, assign, office
from tests.support import Installation

pytestmark = pytest.mark.postgres_only
WAIT_FOR_LOCK_SECONDS = 30  # a deadline for a condition, not a timing threshold


def _wait_until_someone_waits_on_a_lock(engine: Engine) -> None:
    deadline = time.monotonic() + WAIT_FOR_LOCK_SECONDS
    query = text(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    while time.monotonic() < deadline:
        with engine.connect() as conn:
            if conn.execute(query).scalar_one() > 0:
                return
        time.sleep(0.02)
    raise AssertionError("the second transaction never waited on the first")


def _race_behind_open_insert(
    engine: Engine, hold_open: Callable[[UnitOfWork], None], loser: Callable[[], object]
) -> BaseException | None:
    with ThreadPoolExecutor(max_workers=1) as pool, UnitOfWork(engine) as uow:
        hold_open(uow)
        second = pool.submit(loser)
        _wait_until_someone_waits_on_a_lock(engine)
        uow.commit()
        return second.exception(timeout=WAIT_FOR_LOCK_SECONDS)


def test_the_unique_index_refuses_the_second_holder_of_a_room(pg_site: Installation) -> None:
    room = office(pg_site)
    first, second = pg_site.client(name="First"), pg_site.client(name="Second")
    error = _race_behind_open_insert(
        pg_site.engine,
        lambda uow: uow.offices.assign(room.id, first.id, now=pg_site.now),
        lambda: assign(pg_site, second.id, room.id),
    )
    assert isinstance(error, OfficeTaken)
    with pg_site.uow().reading() as uow:
        assert uow.offices.holder(room.id) == first.id
        assert uow.offices.held_by([second.id]) == {}


def test_the_unique_index_refuses_the_second_holder_of_a_number(pg_site: Installation) -> None:
    first, second = pg_site.client(name="First"), pg_site.client(name="Second")
    number = "+442079460000"
    held = Line(new_id(), first.id, LineKind.PHONE_NUMBER, number, 1200, pg_site.now.date())
    error = _race_behind_open_insert(
        pg_site.engine,
        lambda uow: LineRepository(uow.connection).add(held, now=pg_site.now),
        lambda: add(pg_site, second.id, "+44 20 7946 0000"),
    )
    assert isinstance(error, NumberTaken)
    with pg_site.uow().reading() as uow:
        assert LineRepository(uow.connection).number_holder(number) == first.id


@pytest.mark.parametrize("thing", ["room", "number"])
def test_two_clients_racing_through_the_service_layer_exactly_one_wins(pg_site: Installation, thing: str) -> None:
    clients = [pg_site.client(name=f"Client {i}") for i in range(2)]
    room = office(pg_site)
    start = threading.Barrier(2)

    def take(account_id: str) -> str:
        start.wait()
        try:
            if thing == "room":
                assign(pg_site, account_id, room.id)
            else:
                add(pg_site, account_id, "+44 20 7946 0000")
        except DomainError as error:
            return error.code
        return "won"

    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = sorted(pool.map(take, [c.id for c in clients]))
    assert outcomes == sorted(["won", "office-taken" if thing == "room" else "number-taken"])
