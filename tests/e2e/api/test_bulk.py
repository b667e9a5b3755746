"""`POST /api/v1/accounts/bulk` over HTTP, on SQLite and PostgreSQL.

The yardstick is the single endpoint: the same accounts put through the
single calls one by one must end with the same answers, the same audit events
and the same outbox rows (emails, webhooks) as through one bulk call.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select

from tenure.adapters.db.tables import events, outbox
from tenure.domain.model import Account, ActivateMode, HoldReason
from tests.e2e.api.conftest import World

FUTURE = date(2027, 3, 1)


def _bulk(world: World, body: dict[str, Any], token: str | None = None, **kwargs: Any) -> Any:
    return world.post("/accounts/bulk", token, json=body, **kwargs)


def test_a_mixed_batch_answers_every_item_in_order(world: World) -> None:
    site = world.site
    fresh = site.client(world.own_channel.id, "Fresh Start", activate=ActivateMode.MANUAL)
    ids = [world.own_client.id, fresh.id, world.other_client.id, "01nosuchaccount", world.own_client.id]
    response = _bulk(world, {"action": "suspend", "ids": ids, "reason": "non_payment"}, world.reseller_admin)
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r["id"] for r in results] == ids
    assert [r["ok"] for r in results] == [True, False, False, False, False]
    assert results[0]["account"]["status"] == "suspended"
    assert [h["reason"] for h in results[0]["account"]["holds"]] == ["non_payment"]
    codes = [r["problem"]["code"] for r in results[1:]]
    assert codes == ["invalid-transition", "not-found", "not-found", "already-suspended"]
    # A refused item answers exactly what its single endpoint answers.
    single = world.post(f"/accounts/{fresh.id}/suspend", world.reseller_admin, json={"reason": "non_payment"})
    assert results[1]["problem"] == single.json()
    unseen = world.post(f"/accounts/{world.other_client.id}/suspend", world.reseller_admin, json={"reason": "fraud"})
    assert results[2]["problem"] == unseen.json()
    assert site.get(world.other_client.id).holds == []  # never reached, though the operator could


def test_a_read_only_caller_gets_forbidden_items_and_changes_nothing(world: World) -> None:
    before = world.event_count(world.own_client.id)
    body = {"action": "suspend", "ids": [world.own_client.id], "reason": "fraud"}
    response = _bulk(world, body, world.reseller_viewer)
    assert response.status_code == 200
    assert response.json()["results"][0]["problem"]["code"] == "forbidden"
    assert world.event_count(world.own_client.id) == before


@dataclass
class Side:
    """A channel with two clients, built the same way twice (names and emails alike)."""

    channel: Account
    clients: list[Account]

    @property
    def order(self) -> list[str]:
        """Client, then its channel, then the other client: tests the channel's cascade between them."""
        return [self.clients[0].id, self.channel.id, self.clients[1].id]

    def placeholders(self) -> dict[str, str]:
        """Ids and billing refs, the only things that differ between two sides built alike."""
        roles = {"CHANNEL": self.channel, "CLIENT0": self.clients[0], "CLIENT1": self.clients[1]}
        found = {account.id: role for role, account in roles.items()}
        return found | {account.billing_ref: f"{role}-REF" for role, account in roles.items()}


@dataclass(frozen=True)
class Case:
    body: dict[str, Any]  # the bulk body without ids; the single call's body is the rest
    method: str
    path: str
    prepare: str = ""
    order: str = "mixed"  # client, channel, client: nested, so nothing is gathered; or "children-first", "clients"


CASES = {
    "suspend": Case({"action": "suspend", "reason": "non_payment", "note": "invoice 7"}, "POST", "suspend"),
    "unsuspend": Case({"action": "unsuspend", "reason": "non_payment"}, "POST", "unsuspend", prepare="suspended"),
    "decommission now": Case({"action": "decommission"}, "POST", "decommission", order="children-first"),
    "decommission later": Case({"action": "decommission", "on": FUTURE.isoformat()}, "POST", "decommission"),
    "cancel decommission": Case(
        {"action": "cancel_decommission"}, "DELETE", "scheduled-decommission", prepare="scheduled"
    ),
    "activate": Case({"action": "activate"}, "POST", "activate", prepare="manual"),
    # Clients only: an independent batch, whose holds, rows and cascades are gathered.
    "suspend clients": Case({"action": "suspend", "reason": "fraud"}, "POST", "suspend", order="clients"),
    "unsuspend clients": Case({"action": "unsuspend"}, "POST", "unsuspend", prepare="suspended", order="clients"),
    "decommission clients": Case({"action": "decommission"}, "POST", "decommission", order="clients"),
    "activate clients": Case({"action": "activate"}, "POST", "activate", prepare="manual", order="clients"),
}


def _side(world: World, case: Case) -> Side:
    site = world.site
    manual = {"activate": ActivateMode.MANUAL} if case.prepare == "manual" else {}
    channel = site.channel(world.own_reseller.id, "Side", email="side@example.com")
    clients = [site.client(channel.id, f"Client {i}", email=f"c{i}@example.com", **manual) for i in range(2)]
    side = Side(channel, clients)
    if case.prepare == "suspended":
        site.suspend(clients[0].id, HoldReason.NON_PAYMENT)
        site.suspend(channel.id, HoldReason.NON_PAYMENT)
    if case.prepare == "scheduled":
        for account in [*clients, channel]:
            site.decommission(account.id, on=FUTURE)
    return side


def _ids(side: Side, case: Case) -> list[str]:
    ids = side.order
    if case.order == "clients":
        return ids[::2]
    return [*ids[::2], ids[1]] if case.order == "children-first" else ids


def _trail(world: World, side: Side) -> tuple[list[str], list[str]]:
    """Events and outbox rows of one side, account ids replaced by their role, as sorted JSON lines."""
    names = side.placeholders()
    ids = [side.channel.id, *(client.id for client in side.clients)]

    def anonymous(row: dict[str, Any]) -> str:
        if row.get("cascade_id") is not None:
            row["cascade_id"] = "JOB"  # the job's outbox id: differs between sides by design
        if row.get("kind") == "cascade" and row["payload"]["ignore_hold"]:
            row["payload"] = {**row["payload"], "ignore_hold": "HOLD"}  # the new hold's id, likewise
        text = json.dumps({k: v for k, v in row.items() if k != "id"}, sort_keys=True, default=str)
        for account_id, name in names.items():
            text = text.replace(account_id, name)
        return text

    world.site.fan_out()  # partners' cascade jobs expanded, so their notices are compared too
    with world.site.engine.connect() as connection:
        found = [
            sorted(
                anonymous(dict(r._mapping))
                for r in connection.execute(select(table).where(table.c.account_id.in_(ids)))
            )
            for table in (events, outbox)
        ]
    return found[0], found[1]


def _answer(item: dict[str, Any], names: dict[str, str]) -> str:
    """An item's account or problem, ids replaced, with what differs between sides by design left out."""
    account = item.get("account")
    if account is not None:
        account = {k: v for k, v in account.items() if k != "created_at"}
        account["holds"] = [{k: v for k, v in h.items() if k != "id"} for h in account["holds"]]
    text = json.dumps(account or item.get("problem"), sort_keys=True)
    for account_id, name in names.items():
        text = text.replace(account_id, name)
    return text


@pytest.mark.parametrize("name", list(CASES))
def test_each_item_leaves_what_its_single_call_leaves(world: World, name: str) -> None:
    case = CASES[name]
    by_bulk, by_single = _side(world, case), _side(world, case)
    ids = _ids(by_bulk, case)
    response = _bulk(world, {**case.body, "ids": ids})
    assert response.status_code == 200, response.text
    bulk_answers = [_answer(item, by_bulk.placeholders()) for item in response.json()["results"]]
    single_body = {k: v for k, v in case.body.items() if k != "action"}
    single_answers = []
    for account_id in _ids(by_single, case):
        kwargs: dict[str, Any] = {"json": single_body} if case.method == "POST" else {}
        answer = world.call(case.method, f"/accounts/{account_id}/{case.path}", world.operator_admin, **kwargs)
        item = {"account": answer.json()} if answer.status_code == 200 else {"problem": answer.json()}
        single_answers.append(_answer(item, by_single.placeholders()))
    assert bulk_answers == single_answers
    assert _trail(world, by_bulk) == _trail(world, by_single)
    assert _trail(world, by_bulk)[0], "the comparison would be empty"


def test_a_repeat_with_the_same_idempotency_key_replays_the_batch(world: World) -> None:
    body = {"action": "suspend", "ids": [world.own_client.id, world.own_channel.id], "reason": "fraud"}
    key = {"Idempotency-Key": "dunning-2026-11-23"}
    first = _bulk(world, body, headers=key)
    events_after_first = world.event_count(world.own_client.id)
    again = _bulk(world, body, headers=key)
    assert again.status_code == 200
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert all(item["ok"] for item in again.json()["results"])
    assert world.event_count(world.own_client.id) == events_after_first
    other = _bulk(world, {**body, "reason": "non_payment"}, headers=key)
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency-key-reused"


@pytest.mark.parametrize(
    "body",
    [
        {"action": "suspend", "ids": [f"id{i}" for i in range(1001)], "reason": "fraud"},
        {"action": "suspend", "ids": [], "reason": "fraud"},
        {"action": "suspend", "ids": ["a"]},
        {"action": "suspend", "ids": ["a"], "reason": "fraud", "on": "2027-01-01"},
        {"action": "unsuspend", "ids": ["a"], "note": "n"},
        {"action": "cancel_decommission", "ids": ["a"], "reason": "fraud"},
        {"action": "explode", "ids": ["a"]},
        {"action": "suspend", "ids": ["a\x00b"], "reason": "fraud"},
        {"action": "suspend", "ids": ["x" * 65], "reason": "fraud"},
        {"action": "suspend", "ids": ["a"], "reason": "fraud", "note": "bad\x00note"},
        {"action": "suspend", "ids": "a", "reason": "fraud"},
        {"action": "suspend", "ids": ["a"], "reason": "fraud", "colour": "blue"},
    ],
    ids=[
        "1,001 ids",
        "no ids",
        "suspend without reason",
        "suspend with on",
        "unsuspend with note",
        "cancel with reason",
        "unknown action",
        "NUL in an id",
        "id too long",
        "NUL in the note",
        "ids not a list",
        "unknown field",
    ],
)
def test_bad_batches_are_refused_whole(world: World, body: dict[str, Any]) -> None:
    response = _bulk(world, body)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "validation-error"


def test_a_thousand_ids_are_accepted(world: World) -> None:
    ids = [world.own_client.id] + [f"01nosuch{i:04d}" for i in range(999)]
    response = _bulk(world, {"action": "suspend", "ids": ids, "reason": "fraud"})
    assert response.status_code == 200
    results = response.json()["results"]
    assert len(results) == 1000 and results[0]["ok"] and not any(r["ok"] for r in results[1:])


def test_no_token_is_unauthorized(world: World) -> None:
    response = world.call("POST", "/accounts/bulk", None, json={"action": "activate", "ids": ["a"]})
    assert response.status_code == 401


def test_the_channel_in_a_batch_cascades_to_clients_later_in_it(world: World) -> None:
    """After a partner's item, the clients below it are read again: their answer shows the inherited hold."""
    client = world.own_client
    response = _bulk(world, {"action": "suspend", "ids": [world.own_channel.id, client.id], "reason": "fraud"})
    later = response.json()["results"][1]["account"]
    assert later["suspended_by"] == {"id": world.own_channel.id, "name": world.own_channel.name}
