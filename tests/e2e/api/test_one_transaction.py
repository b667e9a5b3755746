"""One change request, one transaction: the token check, the change, the answer and the Idempotency-Key
record share one pooled connection and one transaction, and the account is read once (issue 13 §1)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import Engine, event

from tests.e2e.api.conftest import World


@dataclass
class Tally:
    """What reached the database while it was open: connections checked out, transactions, statements."""

    connections: int = 0
    transactions: int = 0
    statements: list[str] = field(default_factory=list)

    def reads_of(self, table: str) -> int:
        """Statements that read `table` itself (`SELECT <table>.…`), joins from other tables aside."""
        return sum(1 for s in self.statements if s.lstrip().startswith(f"SELECT {table}."))


@contextmanager
def tally(engine: Engine) -> Iterator[Tally]:
    seen = Tally()

    def checkout(*_: Any) -> None:
        seen.connections += 1

    def begin(*_: Any) -> None:
        seen.transactions += 1

    def statement(_conn: Any, _cursor: Any, text: str, *_: Any) -> None:
        seen.statements.append(text)

    hooks = [
        (engine.pool, "checkout", checkout),
        (engine, "begin", begin),
        (engine, "before_cursor_execute", statement),
    ]
    for target, name, hook in hooks:
        event.listen(target, name, hook)
    try:
        yield seen
    finally:
        for target, name, hook in hooks:
            event.remove(target, name, hook)


CHANGES = [
    ("POST", "/suspend", {"reason": "fraud", "note": "n"}),
    ("POST", "/unsuspend", {}),
    ("POST", "/decommission", {"on": "2099-06-01"}),
    ("DELETE", "/scheduled-decommission", None),
    ("PATCH", "", {"notes": "one transaction"}),
    ("POST", "/convert", {"to": "virtual"}),
]


def test_each_change_request_is_one_transaction_that_reads_the_account_once(world: World) -> None:
    account_id = world.own_client.id
    for method, path, body in CHANGES:
        with tally(world.site.engine) as seen:
            response = world.call(method, f"/accounts/{account_id}{path}", world.operator_admin, json=body)
        assert response.status_code == 200, (path, response.text)
        assert response.headers["etag"] == f'"{response.json()["version"]}"'
        assert (seen.connections, seen.transactions) == (1, 1), (path, seen)
        whole_rows = [s for s in seen.statements if s.lstrip().startswith("SELECT accounts.id, accounts.kind")]
        assert len(whole_rows) == 1, (path, seen.statements)  # loaded (and locked) once; answered from memory


def test_the_answer_is_the_changed_account_as_get_shows_it(world: World) -> None:
    account_id = world.own_client.id
    changed = world.post(f"/accounts/{account_id}/suspend", json={"reason": "fraud", "note": "n"})
    assert changed.status_code == 200
    read = world.get(f"/accounts/{account_id}")
    assert changed.json() == read.json()
    assert changed.headers["etag"] == read.headers["etag"]


def test_site_settings_are_parsed_again_only_when_site_version_moves(world: World) -> None:
    account_id = world.own_client.id
    world.post(f"/accounts/{account_id}/suspend", json={"reason": "fraud", "note": "n"})  # warms the cache
    with tally(world.site.engine) as seen:
        assert world.post(f"/accounts/{account_id}/unsuspend").status_code == 200
    assert seen.reads_of("site") == 0  # its version came with the token check; the parsed settings are the process's
    assert any("site_version" in s for s in seen.statements)
    assert world.call("PUT", "/policy", world.operator_admin, json={"preset": "metis"}).status_code == 200
    with tally(world.site.engine) as seen:
        assert world.post(f"/accounts/{account_id}/suspend", json={"reason": "fraud"}).status_code == 200
    assert seen.reads_of("site") == 1  # the version moved: the row read and parsed again
    assert world.get("/policy").json()["name"] == "metis"


@pytest.mark.parametrize("first_status", [200, 409])
def test_an_idempotent_change_and_its_replay_are_one_transaction_each(world: World, first_status: int) -> None:
    account_id = world.own_client.id
    if first_status == 409:  # the first answer is a refusal: remembered, and nothing of the change kept
        world.post(f"/accounts/{account_id}/suspend", json={"reason": "fraud"})
    headers = {"Idempotency-Key": f"once-{first_status}"}
    before = world.event_count(account_id)
    answers = []
    for _ in range(2):
        with tally(world.site.engine) as seen:
            answers.append(world.post(f"/accounts/{account_id}/suspend", json={"reason": "fraud"}, headers=headers))
        assert (seen.connections, seen.transactions) == (1, 1), seen
    assert [a.status_code for a in answers] == [first_status, first_status]
    assert answers[0].json() == answers[1].json()
    assert answers[1].headers["idempotent-replayed"] == "true"
    assert world.event_count(account_id) == before + (1 if first_status == 200 else 0)


def test_a_refused_token_opens_no_change(world: World) -> None:
    account_id = world.own_client.id
    before = world.event_count(account_id)
    with tally(world.site.engine) as seen:
        response = world.call("POST", f"/accounts/{account_id}/suspend", "not-a-token", json={"reason": "fraud"})
    assert response.status_code == 401
    assert not any(s.lstrip().upper().startswith(("INSERT", "UPDATE")) for s in seen.statements)
    assert world.event_count(account_id) == before


def test_identical_requests_racing_with_one_key_change_once_and_answer_alike(world: World) -> None:
    account_id = world.own_client.id
    before = world.event_count(account_id)
    headers = {"Idempotency-Key": "racing"}
    start = threading.Barrier(4)

    def send() -> Any:
        start.wait()
        return world.post(f"/accounts/{account_id}/suspend", json={"reason": "fraud"}, headers=headers)

    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda _: send(), range(4)))
    assert {a.status_code for a in answers} == {200}, [(a.status_code, a.text[:60]) for a in answers]
    assert len({a.text for a in answers}) == 1  # the winner's answer, replayed to the others
    assert world.event_count(account_id) == before + 1
    holds = world.get(f"/accounts/{account_id}").json()["holds"]
    assert len(holds) == 1
