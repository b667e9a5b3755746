"""Issue 12 §3: losing `internet` queues one `radius.disconnect` per open session, and the worker cuts them.

On SQLite and PostgreSQL. A pyrad NAS double on 127.0.0.1 answers ACK, NAK or nothing.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine

from tenure.adapters.db.batch import BatchUnitOfWork
from tenure.config import Settings
from tenure.domain.catalog import LineKind
from tenure.domain.model import HoldReason
from tenure.domain.radius import AcctStatus
from tenure.entrypoints.app import create_app
from tenure.services import auth, lines
from tenure.services.bulk import BulkAction, BulkRequest, run_bulk
from tenure.services.policy import set_policy
from tests.e2e.api.conftest import TestClient
from tests.nas_double import NasDouble
from tests.radius_kit import NAS_SECRET, account, internet, notices, radius_worker, register_nas, sessions, start
from tests.support import ADMIN_EMAIL, Installation, MutableClock


def test_a_client_suspended_under_connect_gets_one_disconnect_and_the_nas_cuts_it(site: Installation) -> None:
    client = site.client(name="Acme Ltd")
    internet(site, client.id, "acme-ppp1")
    start(site, "S-1", "acme-ppp1")
    start(site, "S-1", "acme-ppp1")  # a retransmitted Start changes nothing
    with NasDouble(secret=NAS_SECRET) as nas:
        register_nas(site, nas.port)
        site.suspend(client.id, HoldReason.FRAUD)
        assert [n.acct_session_id for n in notices(site)] == ["S-1"]
        assert sessions(site)["S-1"].state == "disconnecting"
        radius_worker(site).one_pass()
        received = nas.received()
    assert [(r.user_name, r.acct_session_id, r.authentic) for r in received] == [("acme-ppp1", "S-1", True)]
    assert received[0].event_timestamp == int(site.now.timestamp())
    assert sessions(site)["S-1"].state == "disconnected"
    assert [n.status for n in notices(site)] == ["sent"]


def test_a_suspended_channel_cuts_every_open_session_below_it_once(site: Installation) -> None:
    channel = site.channel()
    acme, zenith = site.client(channel.id, "Acme Ltd"), site.client(channel.id, "Zenith Ltd")
    elsewhere = site.client(name="Outside Ltd")
    for client, user in ((acme, "acme-ppp1"), (zenith, "zenith-ppp1"), (elsewhere, "outside-ppp1")):
        internet(site, client.id, user)
    internet(site, acme.id, "acme-wifi", LineKind.WIFI)
    start(site, "A-1", "acme-ppp1")
    start(site, "A-2", "acme-wifi")
    start(site, "Z-1", "zenith-ppp1")
    start(site, "Z-0", "zenith-ppp1")
    account(site, AcctStatus.STOP, "Z-0", "zenith-ppp1")  # already over: nothing to cut
    start(site, "O-1", "outside-ppp1")
    site.suspend(zenith.id, HoldReason.NON_PAYMENT)  # Z-1 is cut by this first hold …
    site.suspend(channel.id, HoldReason.NON_PAYMENT)  # … and not queued a second time by the channel's
    site.fan_out()  # the channel's cascade is expanded by the worker after the commit
    assert sorted(n.acct_session_id for n in notices(site)) == ["A-1", "A-2", "Z-1"]
    with NasDouble(secret=NAS_SECRET) as nas:
        register_nas(site, nas.port)
        radius_worker(site).one_pass()
        assert sorted(r.acct_session_id or "" for r in nas.received()) == ["A-1", "A-2", "Z-1"]
    states = {sid: row.state for sid, row in sessions(site).items()}
    assert states == {
        "A-1": "disconnected",
        "A-2": "disconnected",
        "Z-1": "disconnected",
        "Z-0": "stopped",
        "O-1": "open",
    }


def test_a_channel_suspension_commits_no_disconnect_and_the_next_worker_pass_cuts_the_sessions(
    site: Installation,
) -> None:
    """The deferred fan-out: the commit writes one job; the worker expands it and sends in one pass."""
    channel = site.channel()
    client = site.client(channel.id, "Acme Ltd")
    internet(site, client.id, "acme-ppp1")
    start(site, "A-1", "acme-ppp1")
    site.suspend(channel.id, HoldReason.NON_PAYMENT)
    assert notices(site) == [] and sessions(site)["A-1"].state == "open"  # nothing written at the commit
    with NasDouble(secret=NAS_SECRET) as nas:
        register_nas(site, nas.port)
        radius_worker(site).one_pass()
        assert [r.acct_session_id for r in nas.received()] == ["A-1"]
    assert sessions(site)["A-1"].state == "disconnected"


def test_a_channel_lifted_before_its_cascade_is_expanded_cuts_nobody(site: Installation) -> None:
    """Status is derived: once the hold is lifted the client is served again, so the old job cuts nothing."""
    channel = site.channel()
    client = site.client(channel.id, "Acme Ltd")
    internet(site, client.id, "acme-ppp1")
    start(site, "A-1", "acme-ppp1")
    site.suspend(channel.id, HoldReason.NON_PAYMENT)
    site.unsuspend(channel.id)
    site.fan_out()
    assert notices(site) == [] and sessions(site)["A-1"].state == "open"


def test_a_channel_suspended_in_a_bulk_batch_cuts_the_sessions_below_it(site: Installation) -> None:
    channel = site.channel()
    client = site.client(channel.id, "Acme Ltd")
    internet(site, client.id, "acme-ppp1")
    start(site, "A-1", "acme-ppp1")
    request = BulkRequest(BulkAction.SUSPEND, HoldReason.NON_PAYMENT)
    results = run_bulk(BatchUnitOfWork(site.engine), caller=site.admin, request=request, ids=[channel.id], now=site.now)
    assert [r.ok for r in results] == [True]
    site.fan_out()
    assert [n.acct_session_id for n in notices(site)] == ["A-1"]
    assert sessions(site)["A-1"].state == "disconnecting"


def test_clients_suspended_in_one_bulk_batch_each_cut_their_own_sessions_once(site: Installation) -> None:
    """A gathered batch decides every client's flip in one query: a client already held by its channel flips not."""
    channel = site.channel()
    acme, zenith = site.client(name="Acme Ltd"), site.client(name="Zenith Ltd")
    under_held = site.client(channel.id, "Under Ltd")
    for client, user in ((acme, "acme-ppp1"), (zenith, "zenith-ppp1"), (under_held, "under-ppp1")):
        internet(site, client.id, user)
    start(site, "A-1", "acme-ppp1")
    start(site, "Z-1", "zenith-ppp1")
    site.suspend(channel.id, HoldReason.NON_PAYMENT)
    site.fan_out()
    start(site, "U-2", "under-ppp1")  # a session the NAS kept open although its channel is held
    already = {n.acct_session_id for n in notices(site)}
    request = BulkRequest(BulkAction.SUSPEND, HoldReason.FRAUD)
    ids = [acme.id, zenith.id, under_held.id]
    results = run_bulk(BatchUnitOfWork(site.engine), caller=site.admin, request=request, ids=ids, now=site.now)
    assert [r.ok for r in results] == [True, True, True]
    cut = sorted(n.acct_session_id or "" for n in notices(site) if n.acct_session_id not in already)
    assert cut == ["A-1", "Z-1"]  # Under Ltd's status did not flip (its channel's hold), so nothing of it


def test_metis_keeps_internet_so_a_suspension_cuts_nothing_and_lifting_a_hold_reconnects_nobody(
    engine: Engine, clock: MutableClock
) -> None:
    site = Installation.start(engine, clock, policy="metis")
    client = site.client()
    internet(site, client.id, "acme-ppp1")
    start(site, "S-1", "acme-ppp1")
    site.suspend(client.id, HoldReason.FRAUD)
    site.unsuspend(client.id)
    assert notices(site) == []
    assert sessions(site)["S-1"].state == "open"


def test_decommissioning_removing_the_service_and_a_policy_change_each_cut_sessions(site: Installation) -> None:
    acme, zenith, suspended = site.client(name="Acme Ltd"), site.client(name="Zenith Ltd"), site.client(name="Held")
    acme_service = internet(site, acme.id, "acme-ppp1")
    internet(site, zenith.id, "zenith-ppp1")
    internet(site, suspended.id, "held-ppp1")
    set_policy(site.uow(), caller=site.admin, preset="metis", matrix=None, now=site.now)
    site.suspend(suspended.id)  # metis: internet goes on
    for session, user in (("A-1", "acme-ppp1"), ("Z-1", "zenith-ppp1"), ("H-1", "held-ppp1")):
        start(site, session, user)
    lines.remove_service(site.uow(), caller=site.admin, account_id=acme.id, service_id=acme_service.id, now=site.now)
    assert [n.acct_session_id for n in notices(site)] == ["A-1"]
    set_policy(site.uow(), caller=site.admin, preset="connect", matrix=None, now=site.now)  # suspended lose it
    assert [n.acct_session_id for n in notices(site)] == ["A-1", "H-1"]
    site.decommission(zenith.id)
    assert [n.acct_session_id for n in notices(site)] == ["A-1", "H-1", "Z-1"]
    assert {row.state for row in sessions(site).values()} == {"disconnecting"}


def test_a_nak_records_the_error_cause_and_is_not_retried(site: Installation) -> None:
    client = site.client()
    internet(site, client.id, "acme-ppp1")
    start(site, "S-1", "acme-ppp1")
    site.suspend(client.id)
    worker = radius_worker(site)
    with NasDouble(secret=NAS_SECRET, answer="nak", error_cause=504) as nas:
        register_nas(site, nas.port)
        worker.one_pass()
        site.clock.set(site.now + timedelta(minutes=30))
        worker.one_pass()
        assert len(nas.received()) == 1
    session = sessions(site)["S-1"]
    assert session.state == "refused"
    assert session.disconnect_error == "Disconnect-NAK: Error-Cause 504 (Session Context Not Removable)"
    assert [(n.status, n.attempts) for n in notices(site)] == [("failed", 1)]


def test_a_silent_nas_is_retried_with_backoff_then_the_session_is_failed(site: Installation) -> None:
    client = site.client()
    internet(site, client.id, "acme-ppp1")
    start(site, "S-1", "acme-ppp1")
    queued_at = site.now
    site.suspend(client.id)
    worker = radius_worker(site)
    with NasDouble(secret=NAS_SECRET, answer="silent") as nas:
        register_nas(site, nas.port)
        worker.one_pass()
        worker.one_pass()  # not due again yet: backoff
        assert len(nas.received()) == 1
        assert sessions(site)["S-1"].state == "disconnecting"
        site.clock.set(queued_at + timedelta(minutes=5))
        worker.one_pass()
        assert len(nas.received()) == 2
        site.clock.set(queued_at + timedelta(minutes=10, seconds=1))
        worker.one_pass()
        site.clock.set(queued_at + timedelta(hours=2))
        worker.one_pass()
        assert len(nas.received()) == 3  # the last try, then nothing more
    session = sessions(site)["S-1"]
    assert session.state == "failed"
    assert "no answer from 127.0.0.1" in session.disconnect_error
    assert [n.status for n in notices(site)] == ["failed"]
    app = create_app(Settings(database_url=str(site.engine.url)), engine=site.engine, clock=site.clock)
    with TestClient(app) as http:
        shown = http.get("/metrics").text
        failed = http.get("/api/v1/radius/sessions", params={"state": "failed"}, headers=_bearer(site)).json()
    assert 'tenure_radius_sessions{state="failed"} 1.0' in shown
    assert 'tenure_outbox_depth{queue="radius_disconnect"} 0.0' in shown
    assert 'tenure_notice_failures_total{channel="radius"}' in shown
    assert [(s["acct_session_id"], s["state"]) for s in failed["items"]] == [("S-1", "failed")]


def _bearer(site: Installation) -> dict[str, str]:
    return {"Authorization": f"Bearer {auth.token_for_email(site.uow(), email=ADMIN_EMAIL, now=site.now)}"}


def test_a_session_without_a_registered_nas_fails_after_the_window(site: Installation) -> None:
    client = site.client()
    internet(site, client.id, "acme-ppp1")
    start(site, "S-1", "acme-ppp1", nas_ip="192.0.2.7")
    site.suspend(client.id)
    worker = radius_worker(site)
    worker.one_pass()
    assert "no NAS registered at 192.0.2.7" in sessions(site)["S-1"].disconnect_error
    site.clock.set(site.now + timedelta(minutes=11))
    worker.one_pass()
    assert sessions(site)["S-1"].state == "failed"


def test_a_stop_before_the_worker_sends_skips_the_request(site: Installation) -> None:
    client = site.client()
    internet(site, client.id, "acme-ppp1")
    start(site, "S-1", "acme-ppp1")
    site.suspend(client.id)
    account(site, AcctStatus.STOP, "S-1", "acme-ppp1")
    with NasDouble(secret=NAS_SECRET) as nas:
        register_nas(site, nas.port)
        radius_worker(site).one_pass()
        assert nas.received() == []
    assert sessions(site)["S-1"].state == "stopped"
    assert [n.status for n in notices(site)] == ["skipped"]


@pytest.mark.parametrize("status", [AcctStatus.STOP, AcctStatus.INTERIM])
def test_accounting_without_a_start_is_recorded(site: Installation, status: AcctStatus) -> None:
    client = site.client()
    internet(site, client.id, "acme-ppp1")
    account(site, status, "S-9", "acme-ppp1")
    account(site, status, "S-9", "acme-ppp1")
    session = sessions(site)["S-9"]
    assert session.account_id == client.id and session.started_at is None
    assert session.state == ("stopped" if status is AcctStatus.STOP else "open")
    account(site, AcctStatus.START, "S-9", "acme-ppp1")  # a late Start never reopens a stopped session
    assert sessions(site)["S-9"].state == session.state
