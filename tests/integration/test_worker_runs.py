"""How the worker runs: one at a time on SQLite, inside `serve`, and what it shows on /metrics."""

from __future__ import annotations

import threading
import time
import warnings
from datetime import timedelta

from sqlalchemy import Engine

from tenure.adapters.worker_lock import WorkerLock
from tenure.config import Settings
from tenure.domain.model import Stage
from tenure.entrypoints.app import create_app
from tenure.entrypoints.worker import start_background_worker
from tests.receivers import smtp_server
from tests.support import Installation, MutableClock
from tests.worker_support import outbox_rows, worker_for

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


def test_on_sqlite_a_second_worker_waits_for_the_first_ones_pass(sqlite_site: Installation) -> None:
    """SQLite's one-pass-at-a-time guard (PostgreSQL workers share work through row locks instead)."""
    site = sqlite_site
    client = site.client()
    site.decommission(client.id, on=site.now.date() + timedelta(days=1))
    site.clock.set(site.now + timedelta(days=1))
    with WorkerLock(site.engine).held() as mine:
        assert mine
        with WorkerLock(site.engine).held(wait=False) as theirs:
            assert not theirs  # a worker that will not wait learns at once
        waiting = threading.Thread(target=worker_for(site).one_pass)
        waiting.start()
        waiting.join(timeout=1.0)
        assert waiting.is_alive() and site.get(client.id).stage is Stage.ACTIVE  # still waiting for the lock
    waiting.join(timeout=60)
    assert not waiting.is_alive() and site.get(client.id).stage is Stage.DECOMMISSIONED


def test_the_worker_inside_serve_delivers_on_its_own(site: Installation) -> None:
    """`tenure serve --with-worker`: a background thread running passes on the real clock."""
    client = site.client(email="ops@acme.example")
    site.suspend(client.id)  # queued at the test clock's instant, which is not in the future
    with smtp_server() as (sink, url):
        stop = threading.Event()
        thread = start_background_worker(site.engine, Settings(smtp_url=url), stop=stop)
        deadline = time.monotonic() + 60
        while not sink.to("ops@acme.example") and time.monotonic() < deadline:
            time.sleep(0.05)
        stop.set()
        thread.join(timeout=60)
    assert [r.subject for r in sink.to("ops@acme.example")] == ["Acme Ltd: services suspended"]


def test_metrics_show_the_backlog_and_what_the_worker_did(engine: Engine, clock: MutableClock) -> None:
    site = Installation.start(engine, clock)
    channel = site.channel()
    for i in range(3):
        site.client(channel.id, f"Client {i}")
    site.suspend(channel.id)
    site.fan_out()  # the worker's first step: the channel's cascade job becomes its notices
    with TestClient(create_app(Settings(database_url=str(engine.url)), engine=engine, clock=clock)) as http:
        before = http.get("/metrics").text
        assert 'tenure_outbox_depth{queue="email"} 4.0' in before  # three clients and the channel
        assert 'tenure_outbox_oldest_undelivered_seconds{queue="email"}' in before
        worker_for(site).one_pass()
        after = http.get("/metrics").text
    assert 'tenure_outbox_depth{queue="email"} 0.0' in after
    assert 'tenure_outbox_depth{queue="webhook_event"} 0.0' in after
    assert 'tenure_notice_attempts_total{channel="email",outcome="logged"}' in after
    assert "tenure_worker_changes_applied_total" in after
    assert len(outbox_rows(site, status="logged")) == 4
