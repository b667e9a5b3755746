"""Webhook deliveries over real HTTP (receivers on 127.0.0.1): signatures, scope, retries, timeouts, giving up."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from standardwebhooks.webhooks import Webhook

from tests.e2e.api.conftest import World, token_for
from tests.receivers import Hit, Receiver, always, http_receiver
from tests.support import ADMIN_EMAIL
from tests.worker_support import worker_for


def _subscribe(world: World, token: str, url: str, events: list[str], **extra: Any) -> dict[str, Any]:
    answer = world.post("/webhooks", token, json={"url": url, "events": events, **extra})
    assert answer.status_code == 201, answer.text
    created: dict[str, Any] = answer.json()
    return created


def _suspend(world: World, account_id: str, token: str | None = None) -> None:
    answer = world.post(f"/accounts/{account_id}/suspend", token, json={"reason": "non_payment"})
    assert answer.status_code == 200, answer.text


def _verified(hit: Hit, secret: str) -> dict[str, Any]:
    payload: dict[str, Any] = Webhook(secret).verify(hit.body, hit.headers)
    return payload


def _deliveries(world: World, webhook_id: str, **params: str) -> list[dict[str, Any]]:
    fresh = token_for(world.site, ADMIN_EMAIL)  # the tests move the clock by days; tokens expire
    answer = world.get(f"/webhooks/{webhook_id}/deliveries", fresh, params=params)
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


def test_events_are_signed_and_reach_only_subscriptions_above_the_account(world: World) -> None:
    with http_receiver() as receiver:
        events = ["account.suspended", "entitlements.changed"]
        top = _subscribe(world, world.operator_admin, receiver.url + "/operator", events)
        # held by Northwind; made by the operator, whose admins may target the loopback receiver
        mine = _subscribe(
            world, world.operator_admin, receiver.url + "/northwind", events, account_id=world.own_reseller.id
        )
        _suspend(world, world.own_channel.id)
        _suspend(world, world.other_channel.id)
        worker_for(world.site).one_pass()
        operator_hits = [_verified(h, top["secret"]) for h in receiver.on("/operator")]
        reseller_hits = [_verified(h, mine["secret"]) for h in receiver.on("/northwind")]
    north = {world.own_channel.id, world.own_client.id}
    south = {world.other_channel.id, world.other_client.id}
    assert {(p["type"], p["data"]["account_id"]) for p in reseller_hits} == {
        ("account.suspended", world.own_channel.id),
        ("entitlements.changed", world.own_channel.id),
        ("entitlements.changed", world.own_client.id),
    }
    assert len(reseller_hits) == 3  # one entitlements.changed per account whose capabilities changed
    assert {p["data"]["account_id"] for p in operator_hits} == north | south
    suspended = next(p for p in reseller_hits if p["type"] == "account.suspended")
    assert suspended["data"]["reason"] == "non_payment"
    assert suspended["timestamp"].endswith("Z")
    datetime.fromisoformat(suspended["timestamp"].replace("Z", "+00:00"))
    assert {d["status"] for d in _deliveries(world, mine["id"])} == {"delivered"}


def test_a_failing_endpoint_is_retried_with_the_same_webhook_id_until_it_answers(world: World) -> None:
    third_time_lucky = lambda n, path: (500 if n < 3 else 204, 0.0)  # noqa: E731
    with http_receiver(third_time_lucky) as receiver:
        hook = _subscribe(world, world.operator_admin, receiver.url + "/flaky", ["account.suspended"])
        _suspend(world, world.own_client.id)
        worker = worker_for(world.site)
        for _ in range(3):
            worker.one_pass()
            (pending,) = _deliveries(world, hook["id"])
            if pending["status"] == "pending":
                assert pending["last_error"] == "HTTP 500"
                world.site.clock.set(datetime.fromisoformat(pending["next_attempt_at"].replace("Z", "+00:00")))
        hits = receiver.on("/flaky")
    assert len(hits) == 3
    assert len({h.headers["webhook-id"] for h in hits}) == 1
    assert len({h.body for h in hits}) == 1
    for hit in hits:
        _verified(hit, hook["secret"])
    (delivered,) = _deliveries(world, hook["id"])
    assert (delivered["status"], delivered["attempts"], delivered["message_id"]) == (
        "delivered",
        3,
        hits[0].headers["webhook-id"],
    )


def test_a_slow_endpoint_does_not_hold_up_the_others(world: World) -> None:
    slow = lambda n, path: (200, 3.0 if path == "/slow" else 0.0)  # noqa: E731
    with http_receiver(slow) as receiver:
        sleepy = _subscribe(world, world.operator_admin, receiver.url + "/slow", ["account.suspended"])
        quick = _subscribe(world, world.operator_admin, receiver.url + "/quick", ["account.suspended"])
        _suspend(world, world.own_client.id)
        worker_for(world.site, webhook_timeout=0.5).one_pass()
        assert len(receiver.on("/quick")) == 1
    (fast,) = _deliveries(world, quick["id"])
    (late,) = _deliveries(world, sleepy["id"])
    assert fast["status"] == "delivered"
    assert late["status"] == "pending" and "no answer within 0.5 s" in late["last_error"]


def test_after_24_hours_of_backoff_a_delivery_is_failed_and_shown_as_such(world: World) -> None:
    with http_receiver(always(503)) as receiver:
        hook = _subscribe(world, world.operator_admin, receiver.url + "/down", ["account.suspended"])
        _suspend(world, world.own_client.id)
        started = world.site.now
        worker = worker_for(world.site)
        waits: list[timedelta] = []
        for _ in range(60):
            worker.one_pass()
            (delivery,) = _deliveries(world, hook["id"])
            if delivery["status"] != "pending":
                break
            following = datetime.fromisoformat(delivery["next_attempt_at"].replace("Z", "+00:00"))
            waits.append(following - world.site.now)
            world.site.clock.set(following)
        attempts = len(receiver.on("/down"))
    assert delivery["status"] == "failed" and delivery["last_error"] == "HTTP 503"
    assert delivery["attempts"] == attempts and 10 <= attempts < 60
    assert world.site.now == started + timedelta(hours=24)  # the last try is on the 24-hour mark
    assert waits[3] > waits[0] and max(waits) <= timedelta(hours=3)  # backoff grows, then is capped
    assert [d["id"] for d in _deliveries(world, hook["id"], status="failed")] == [delivery["id"]]
    assert _deliveries(world, hook["id"], status="pending,delivered") == []


def test_a_failed_delivery_can_be_sent_again_with_the_same_webhook_id(world: World) -> None:
    with http_receiver(always(503)) as receiver:
        hook = _subscribe(world, world.operator_admin, receiver.url + "/back", ["account.suspended"])
        _suspend(world, world.own_client.id)
        worker = worker_for(world.site)
        worker.one_pass()
        (delivery,) = _deliveries(world, hook["id"])
        retry = f"/webhooks/{hook['id']}/deliveries/{delivery['id']}/retry"
        assert world.post(retry).json()["code"] == "invalid-transition"  # still pending: on its way already
        world.site.clock.set(world.site.now + timedelta(hours=25))
        worker.one_pass()
        assert _deliveries(world, hook["id"])[0]["status"] == "failed"
        receiver.behaviour = always(200)
        fresh = token_for(world.site, ADMIN_EMAIL)
        partner = token_for(world.site, "admin@northwind.example")
        assert world.post(retry, partner).status_code == 404  # not in its tree
        again = world.post(retry, fresh)
        assert again.status_code == 200 and again.json()["status"] == "pending"
        worker.one_pass()
        ids = {h.headers["webhook-id"] for h in receiver.on("/back")}
    assert _deliveries(world, hook["id"])[0]["status"] == "delivered" and ids == {delivery["message_id"]}
    assert world.post(f"/webhooks/{hook['id']}/deliveries/99999999999999999999/retry", fresh).status_code == 404


def test_events_before_a_subscription_existed_are_not_sent_to_it(world: World) -> None:
    with http_receiver() as receiver:
        _suspend(world, world.own_client.id)
        world.site.clock.set(world.site.now + timedelta(seconds=1))
        _subscribe(world, world.operator_admin, receiver.url + "/late", ["account.suspended", "account.unsuspended"])
        world.post(f"/accounts/{world.own_client.id}/unsuspend", json={})
        worker_for(world.site).one_pass()
        assert [h.json["type"] for h in receiver.on("/late")] == ["account.unsuspended"]


def test_deleting_a_subscription_stops_its_deliveries(world: World) -> None:
    receiver: Receiver
    with http_receiver(always(500)) as receiver:
        hook = _subscribe(world, world.operator_admin, receiver.url + "/gone", ["account.suspended"])
        _suspend(world, world.own_client.id)
        worker = worker_for(world.site)
        worker.one_pass()
        assert world.call("DELETE", f"/webhooks/{hook['id']}", world.operator_admin).status_code == 204
        world.site.clock.set(world.site.now + timedelta(days=1))
        worker.one_pass()
        assert len(receiver.on("/gone")) == 1


def test_an_endpoint_that_does_not_answer_costs_one_timeout_per_pass_not_one_per_delivery(world: World) -> None:
    for i in range(70):  # more than one batch of deliveries
        world.site.client(world.own_channel.id, f"Client {i:02d}")
    # The dead end sleeps well past the timeout, and the timeout leaves the quick receiver room
    # on a loaded CI machine (at 1 s it once missed it there).
    with http_receiver(lambda n, path: (200, 8.0)) as dead, http_receiver() as alive:
        sleepy = _subscribe(world, world.operator_admin, dead.url + "/slow", ["entitlements.changed"])
        quick = _subscribe(world, world.operator_admin, alive.url + "/quick", ["entitlements.changed"])
        _suspend(world, world.own_channel.id)
        worker_for(world.site, webhook_timeout=3.0).one_pass()
        tried = len(dead.on("/slow"))
    assert {d["status"] for d in _deliveries(world, quick["id"], limit="500")} == {"delivered"}
    waiting = _deliveries(world, sleepy["id"], limit="500")
    assert len(waiting) == 72 and {d["status"] for d in waiting} == {"pending"}  # channel, Acme and 70 new
    not_sent = [d for d in waiting if d["last_error"].startswith("not sent")]
    assert tried < 72 and len(not_sent) == 72 - tried
