"""Suspend and unsuspend on the lean path (`entrypoints/api/lean_changes.py`) answer as the FastAPI route does.

The FastAPI route is reached with a chunked body (no `Content-Length`), which the
lean path leaves alone; every other test of these two routes goes the lean way.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tenure.entrypoints.api import lean_changes
from tests.e2e.api.conftest import API, World, bearer


def _chunked(body: dict[str, Any]) -> Iterator[bytes]:
    yield json.dumps(body).encode()


def _post(world: World, path: str, body: dict[str, Any] | None, *, lean: bool, **headers: str) -> Any:
    headers = {**bearer(world.operator_admin), "Content-Type": "application/json", **headers}
    if body is None:
        return world.client.post(API + path, headers=headers)
    content: Any = json.dumps(body).encode() if lean else _chunked(body)
    return world.client.post(API + path, headers=headers, content=content)


def _shown(answer: Any) -> tuple[Any, ...]:
    """What a change's answer says, less what differs between two accounts by design (ids, names, times)."""
    body = answer.json()
    holds = [(h["reason"], h["note"], h["placed_by"], h["placed_by_account"]["name"]) for h in body["holds"]]
    fields = ("kind", "stage", "status", "version", "client_type", "notes", "offices", "contract_expired")
    return (answer.status_code, answer.headers["ETag"], holds, sorted(body), *(body[f] for f in fields))


def test_a_suspension_and_its_lifting_answer_alike_on_both_paths(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    served = []  # which requests the lean path ran: it must be the two sent with a length, not the chunked ones
    run = lean_changes.run
    monkeypatch.setattr(lean_changes, "run", lambda ctx, change: served.append(change.account_id) or run(ctx, change))
    lean_one = world.site.client(world.own_channel.id, "Lean Ltd")
    route_one = world.site.client(world.own_channel.id, "Route Ltd")
    answers = []
    for account, lean in ((lean_one, True), (route_one, False)):
        suspended = _post(world, f"/accounts/{account.id}/suspend", {"reason": "fraud", "note": "n"}, lean=lean)
        lifted = _post(world, f"/accounts/{account.id}/unsuspend", {"reason": "fraud"}, lean=lean)
        assert suspended.status_code == lifted.status_code == 200, (suspended.text, lifted.text)
        answers.append([_shown(suspended), _shown(lifted)])
    assert answers[0] == answers[1]
    assert answers[0][0][2] == [("fraud", "n", "admin@operator.example", "Meridian")]
    assert world.event_count(lean_one.id) == world.event_count(route_one.id)
    assert served == [lean_one.id, lean_one.id]


@pytest.mark.parametrize(
    ("body", "headers", "status", "code"),
    [
        ({"reason": "fraud", "extra": 1}, {}, 422, "validation-error"),  # not the route's body: FastAPI says why
        ({"reason": "no-such-reason"}, {}, 422, "validation-error"),
        ({"reason": "fraud"}, {"If-Match": "seven"}, 422, "validation-error"),
        ({"reason": "fraud"}, {"If-Match": '"999"'}, 412, "version-conflict"),
        ({"reason": "fraud"}, {"Idempotency-Key": "k" * 256}, 422, "validation-error"),
        ({"reason": "fraud"}, {"Authorization": "Bearer "}, 401, "unauthorized"),
        ({"reason": "fraud"}, {"Authorization": "Bearer not-a-token"}, 401, "unauthorized"),
    ],
)
def test_requests_the_lean_path_does_not_take_or_refuses_answer_as_the_route_does(
    world: World, body: dict[str, Any], headers: dict[str, str], status: int, code: str
) -> None:
    for lean in (True, False):
        account = world.site.client(world.own_channel.id, f"Refused {lean}")
        events = world.event_count(account.id)
        answer = _post(world, f"/accounts/{account.id}/suspend", body, lean=lean, **headers)
        assert (answer.status_code, answer.json().get("code")) == (status, code), (lean, answer.text)
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert world.event_count(account.id) == events  # nothing half-done


def test_an_empty_body_is_no_reason_for_unsuspend_and_a_missing_one_for_suspend(world: World) -> None:
    account = world.site.client(world.own_channel.id, "Empty Ltd")
    refused = _post(world, f"/accounts/{account.id}/suspend", None, lean=True)
    assert refused.status_code == 422, refused.text
    world.site.suspend(account.id)
    lifted = _post(world, f"/accounts/{account.id}/unsuspend", None, lean=True)
    assert lifted.status_code == 200 and lifted.json()["status"] == "active", lifted.text


def test_a_repeat_with_the_same_key_replays_the_first_answer_on_the_lean_path(world: World) -> None:
    account = world.site.client(world.own_channel.id, "Keyed Ltd")
    events = world.event_count(account.id)
    path = f"/accounts/{account.id}/suspend"
    first = _post(world, path, {"reason": "fraud"}, lean=True, **{"Idempotency-Key": "dunning-1"})
    again = _post(world, path, {"reason": "fraud"}, lean=True, **{"Idempotency-Key": "dunning-1"})
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()
    assert world.event_count(account.id) == events + 1


def test_lean_changes_are_counted_under_their_route_template(world: World) -> None:
    account = world.site.client(world.own_channel.id, "Counted Ltd")
    assert _post(world, f"/accounts/{account.id}/suspend", {"reason": "fraud"}, lean=True).status_code == 200
    text = world.client.get("/metrics").text
    assert any(
        row.startswith("tenure_http_requests_total{")
        and 'route="/api/v1/accounts/{account_id}/suspend"' in row
        and 'status="200"' in row
        for row in text.splitlines()
    )
    assert account.id not in text


def test_an_account_the_caller_cannot_see_is_not_found_on_the_lean_path(world: World) -> None:
    events = world.event_count(world.other_client.id)
    path = f"{API}/accounts/{world.other_client.id}/suspend"
    answer = world.client.post(path, headers=bearer(world.reseller_admin), json={"reason": "fraud"})
    assert answer.status_code == 404, answer.text
    assert world.event_count(world.other_client.id) == events
