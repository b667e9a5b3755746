"""The worker never loses a change or a notice: kill -9 mid-way, and two workers at once on PostgreSQL.

Workers run as separate processes (`python -m tenure worker --once --as-of …`)
against a real SMTP server and a real webhook receiver in this process. The
data is inserted set-based (tests/bulk.py); every change is applied by the
worker through the use cases.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from tenure.adapters.db.tables import accounts, events, outbox, webhook_deliveries
from tenure.adapters.destinations import DestinationGuard
from tenure.domain.ids import cascade_message_id
from tenure.services import scheduler
from tenure.services import webhooks as webhook_service
from tests.bulk import due_clients
from tests.receivers import MailSink, Receiver, http_receiver, smtp_server
from tests.support import Installation

# Generous limits: these run thousands of changes through real processes, on a machine shared with other tests.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]
PATIENCE_SECONDS = 600.0


@contextmanager
def receivers() -> Iterator[tuple[MailSink, str, Receiver]]:
    with smtp_server() as (sink, smtp_url), http_receiver() as receiver:
        yield sink, smtp_url, receiver


def _prepare(site: Installation, count: int, hook_url: str) -> tuple[list[str], str]:
    """`count` clients due for decommission tomorrow, a subscription to their events, and the --as-of instant."""
    webhook_service.create_webhook(
        site.uow(),
        caller=site.admin,
        request=webhook_service.CreateWebhook(url=hook_url, events=["account.decommissioned"]),
        now=site.now,
        destinations=DestinationGuard(),
    )
    tomorrow = site.now.date() + timedelta(days=1)
    ids = due_clients(site.engine, parent_id=site.operator_id, count=count, decommission_on=tomorrow, now=site.now)
    as_of = (site.now + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")  # 10:00 London the next day
    return ids, as_of


def _worker(engine: Engine, smtp_url: str, as_of: str, log: Path, **extra: str) -> subprocess.Popen[bytes]:
    env = {
        **extra,
        **os.environ,
        "TENURE_DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "TENURE_SMTP_URL": smtp_url,
        "TENURE_MAIL_FROM": "tenure@meridian.example",
        "TENURE_LOG_FORMAT": "json",
    }
    command = [sys.executable, "-m", "tenure", "worker", "--once", "--as-of", as_of]
    return subprocess.Popen(command, cwd=log.parent, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT)


def _until(condition: Callable[[], bool], process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + PATIENCE_SECONDS
    while not condition():
        assert process.poll() is None, "the worker finished before it could be killed mid-way"
        assert time.monotonic() < deadline, "the worker made no progress"
        time.sleep(0.02)


def _kill(process: subprocess.Popen[bytes]) -> None:
    os.kill(process.pid, signal.SIGKILL)
    process.wait()


def _finish(process: subprocess.Popen[bytes], log: Path) -> None:
    assert process.wait(timeout=PATIENCE_SECONDS) == 0, log.read_text()[-3000:]


def _decommissioned_events(engine: Engine) -> dict[str, int]:
    query = (
        select(events.c.account_id, func.count())
        .where(events.c.action == "decommissioned")
        .group_by(events.c.account_id)
    )
    with engine.connect() as connection:
        return {row[0]: int(row[1]) for row in connection.execute(query)}


def _statuses(engine: Engine) -> tuple[dict[str, int], dict[str, int]]:
    with engine.connect() as connection:
        notices = connection.execute(select(outbox.c.status, func.count()).group_by(outbox.c.status))
        deliveries = connection.execute(
            select(webhook_deliveries.c.status, func.count()).group_by(webhook_deliveries.c.status)
        )
        return {r[0]: int(r[1]) for r in notices}, {r[0]: int(r[1]) for r in deliveries}


def _hooks_by_account(receiver: Receiver) -> dict[str, set[str]]:
    ids: dict[str, set[str]] = defaultdict(set)
    for hit in receiver.all():
        ids[hit.json["data"]["account_id"]].add(hit.headers["webhook-id"])
    return ids


def test_a_worker_killed_mid_way_loses_nothing_and_applies_nothing_twice(site: Installation, tmp_path: Path) -> None:
    log = tmp_path / "worker.log"
    with receivers() as (sink, smtp_url, receiver):
        ids, as_of = _prepare(site, 2000, receiver.url + "/hooks")
        first = _worker(site.engine, smtp_url, as_of, log)
        _until(lambda: len(_decommissioned_events(site.engine)) >= 400, first)  # killed while applying changes
        _kill(first)
        applied_before_crash = len(_decommissioned_events(site.engine))
        _assert_whole_batches(site.engine, ids)
        second = _worker(site.engine, smtp_url, as_of, log)
        _until(lambda: sink.count >= 300, second)  # killed while delivering
        _kill(second)
        _finish(_worker(site.engine, smtp_url, as_of, log), log)
        hooks = _hooks_by_account(receiver)
        mailed = {r.recipients[0] for r in sink.received if r.subject.endswith(": services decommissioned")}
    assert 400 <= applied_before_crash < 2000
    assert _decommissioned_events(site.engine) == dict.fromkeys(ids, 1)  # every change exactly once
    assert mailed == {f"client{i:05d}@bulk.example" for i in range(2000)}  # every email at least once
    assert set(hooks) == set(ids)  # every webhook at least once ...
    assert all(len(message_ids) == 1 for message_ids in hooks.values())  # ... each under one webhook-id
    notices, deliveries = _statuses(site.engine)
    assert set(notices) <= {"sent", "dispatched"} and set(deliveries) == {"delivered"}  # nothing stuck


def _assert_whole_batches(engine: Engine, ids: list[str]) -> None:
    """Killed mid-batch: every batch committed is whole (account, event, notices) and the next is absent.

    Batches walk the due ids in order, so what is applied is a prefix of them,
    a multiple of the batch size long, and each applied account has its row,
    its one event and its email and webhook, while the others have none.
    """
    with engine.connect() as connection:
        gone = set(connection.execute(select(accounts.c.id).where(accounts.c.stage == "decommissioned")).scalars())
        notices = Counter(
            (r.account_id, r.kind)
            for r in connection.execute(
                select(outbox.c.account_id, outbox.c.kind).where(outbox.c.topic.in_(DECOMMISSION_TOPICS))
            )
        )
    applied = _decommissioned_events(engine)
    assert set(applied) == gone and set(applied.values()) == {1}
    assert len(gone) % scheduler.BATCH == 0 and gone == set(sorted(ids)[: len(gone)])
    assert notices == Counter({(a, kind): 1 for a in gone for kind in ("email", "webhook")})


DECOMMISSION_TOPICS = ("decommissioned", "account.decommissioned")


def _cascade_state(engine: Engine) -> tuple[Counter[str], str]:
    """Per account, how many "suspended" emails are queued; and the cascade job's status."""
    with engine.connect() as connection:
        rows = connection.execute(
            select(outbox.c.account_id).where(outbox.c.kind == "email", outbox.c.topic == "suspended")
        )
        emails = Counter(r.account_id for r in rows)
        job = connection.execute(select(outbox.c.status).where(outbox.c.kind == "cascade")).scalar_one()
    return emails, str(job)


def test_a_cascade_survives_kill_9_mid_expansion_each_notice_once(site: Installation, tmp_path: Path) -> None:
    """The suspension commits only its job; a worker killed mid-expansion loses nothing and repeats nothing."""
    log = tmp_path / "worker.log"
    with receivers() as (sink, smtp_url, receiver):
        webhook_service.create_webhook(
            site.uow(),
            caller=site.admin,
            request=webhook_service.CreateWebhook(url=receiver.url + "/hooks", events=["entitlements.changed"]),
            now=site.now,
            destinations=DestinationGuard(),
        )
        channel = site.channel()
        ids = due_clients(
            site.engine, parent_id=channel.id, count=2000, decommission_on=None, now=site.now, above=(site.operator_id,)
        )
        site.suspend(channel.id)  # commits the hold, the event and one job: nothing per client yet
        assert _cascade_state(site.engine) == (Counter(), "pending")
        as_of = site.now.strftime("%Y-%m-%dT%H:%M:%SZ")
        first = _worker(site.engine, smtp_url, as_of, log, TENURE_CASCADE_BATCH="50")
        _until(lambda: sum(_cascade_state(site.engine)[0].values()) >= 50, first)  # killed while expanding
        _kill(first)
        queued_before_crash, status_at_crash = _cascade_state(site.engine)
        _finish(_worker(site.engine, smtp_url, as_of, log, TENURE_CASCADE_BATCH="50"), log)
        hooks = _hooks_by_account(receiver)
        mailed = {r.recipients[0] for r in sink.received if r.subject.endswith(": services suspended")}
    assert status_at_crash == "pending" and 50 <= sum(queued_before_crash.values()) < 2001
    emails, status = _cascade_state(site.engine)
    assert status == "expanded" and emails == Counter([*ids, channel.id])  # every notice queued exactly once
    assert {f"client{i:05d}@bulk.example" for i in range(2000)} <= mailed  # every email sent at least once
    assert set(ids) <= set(hooks)  # every webhook at least once, each under one derived webhook-id
    with site.engine.connect() as connection:
        job_id = connection.execute(select(outbox.c.id).where(outbox.c.kind == "cascade")).scalar_one()
    assert all(hooks[a] == {cascade_message_id(job_id, a)} for a in ids)


@pytest.mark.postgres_only
def test_two_workers_at_once_on_postgresql_share_the_work_without_doing_anything_twice(
    pg_site: Installation, tmp_path: Path
) -> None:
    site = pg_site
    with receivers() as (sink, smtp_url, receiver):
        ids, as_of = _prepare(site, 5000, receiver.url + "/hooks")
        logs = [tmp_path / "one.log", tmp_path / "two.log"]
        workers = [_worker(site.engine, smtp_url, as_of, log) for log in logs]
        for worker, log in zip(workers, logs, strict=True):
            _finish(worker, log)
        hooks = receiver.all()
        recipients = [r.recipients[0] for r in sink.received]
    assert _decommissioned_events(site.engine) == dict.fromkeys(ids, 1)
    assert len(recipients) == 5000 and len(set(recipients)) == 5000  # no email sent twice
    assert len(hooks) == 5000 and len({h.headers["webhook-id"] for h in hooks}) == 5000  # no webhook twice
    assert {h.json["data"]["account_id"] for h in hooks} == set(ids)
    notices, deliveries = _statuses(site.engine)
    assert set(notices) <= {"sent", "dispatched"} and deliveries == {"delivered": 5000}
