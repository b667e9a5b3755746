"""`/metrics` labels are route templates only: anyone can send any URL, and must not grow the series."""

from __future__ import annotations

import secrets

from tests.e2e.api.conftest import API, World, bearer


def _route_labels(world: World) -> set[str]:
    text = world.client.get("/metrics").text
    return {
        line.split('route="', 1)[1].split('"', 1)[0]
        for line in text.splitlines()
        if line.startswith("tenure_http_requests_total{")
    }


def test_unmatched_and_unauthenticated_urls_add_no_series(world: World) -> None:
    noise = [secrets.token_hex(6) for _ in range(5)]
    for word in noise:
        world.client.get(f"/billing/x{word}.csv")  # a console route, no session: sent to sign in
        world.client.get(f"{API}/no-such-thing/{word}")
        world.client.get(f"/{word}")
    labels = _route_labels(world)
    assert not any(word in label for word in noise for label in labels)
    assert {"/billing/{month}.csv", "unmatched"} <= labels


def test_a_route_with_two_ids_is_labelled_by_its_template(world: World) -> None:
    same = world.own_client.id  # both path values equal: the old label said {office_id} twice
    world.client.delete(f"{API}/accounts/{same}/offices/{same}", headers=bearer(world.operator_admin))
    labels = _route_labels(world)
    assert "/api/v1/accounts/{account_id}/offices/{office_id}" in labels
    assert not any("{office_id}/offices" in label for label in labels)
