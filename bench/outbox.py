"""Outbox throughput: notices/s Tenure's worker delivers to a local SMTP server and a local webhook receiver.

    .venv/bin/python -m bench.outbox [--notices 2000] [--postgres-url URL]

Each figure is set beside a bare client doing the same sends in the same run
(aiosmtplib sending the same emails, built up front, over one connection;
httpx posting with the worker's concurrency and request style), so
the ratio means something on any machine: it is what the outbox costs on top
of the wire (claiming rows, rendering both MIME parts, signing, recording each
outcome). The receivers run in their own processes so they do not share the
worker's interpreter. SQLite always; PostgreSQL too when --postgres-url (or
TENURE_TEST_POSTGRES_URL) names a role that may create databases.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import socket
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiosmtplib
import httpx
from sqlalchemy import Engine, insert, text
from sqlalchemy.engine import make_url

from tenure.adapters.db.engine import make_engine
from tenure.adapters.db.migrate import upgrade
from tenure.adapters.db.tables import outbox
from tenure.adapters.db.uow import UnitOfWork
from tenure.adapters.destinations import DestinationGuard
from tenure.adapters.emails import JinjaEmails, Recipient, RenderedEmail, as_message, render
from tenure.adapters.radius.disconnect import DisconnectSender
from tenure.adapters.secret_box import SecretBox
from tenure.adapters.smtp import SmtpMailer
from tenure.adapters.webhooks import WebhookSender
from tenure.domain.access import Caller
from tenure.services import webhooks as webhook_service
from tenure.services.delivery import Channels, deliver_due
from tenure.services.setup import initialise

CONCURRENCY = 64  # the worker's default
_EMAIL_CONTEXT = {  # what services.accounts queues for a suspension under the connect preset
    "reason": "non_payment",
    "reason_label": "non-payment",
    "stops": ["outbound_calls", "internet"],
    "goes_on": ["inbound_calls", "local_network", "portal_login"],
    "action": "suspended",
}
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


# -- receivers, each in its own process -------------------------------------------
def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _smtp_receiver(port: int, count: Any) -> None:
    from aiosmtpd.controller import Controller

    class Counting:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
            with count.get_lock():
                count.value += 1
            return "250 OK"

    controller = Controller(Counting(), hostname="127.0.0.1", port=port)
    controller.start()
    while True:
        time.sleep(3600)


def _http_receiver(port: int, count: Any) -> None:
    import uvicorn

    async def app(scope: dict[str, Any], receive: Callable[[], Any], send: Callable[[Any], Any]) -> None:
        if scope["type"] != "http":
            return
        while (await receive()).get("more_body"):
            pass
        with count.get_lock():
            count.value += 1
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="error", access_log=False)


def _start(target: Callable[..., None]) -> tuple[multiprocessing.Process, int, Any]:
    port, count = _free_port(), multiprocessing.Value("i", 0)
    process = multiprocessing.Process(target=target, args=(port, count), daemon=True)
    process.start()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process, port, count
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("receiver did not start")


# -- the bare clients ----------------------------------------------------------
async def _bare_smtp(port: int, n: int) -> float:
    """The same email on the wire (both parts, same size), built once up front: no database, no templates."""
    recipient = Recipient("x" * 26, "Bench Client", "client", "TEN-000001", "", "")
    payload = {**_EMAIL_CONTEXT, "held_account": {"id": "y" * 26, "name": "Bench", "kind": "operator"}}
    rendered = render("suspended", recipient, payload, queued_on=NOW.date())
    messages = []
    for i in range(n):
        email = RenderedEmail(f"c{i}@bench.example", rendered.subject, rendered.text, rendered.html)
        messages.append(as_message(email, sender="bench@localhost", message_id=f"<bare.{i}@localhost>"))
    started = time.perf_counter()
    async with aiosmtplib.SMTP(hostname="127.0.0.1", port=port) as client:
        for message in messages:
            await client.send_message(message)
    return n / (time.perf_counter() - started)


async def _bare_http(url: str, n: int) -> float:
    body = json.dumps({"type": "account.suspended", "data": {"account_id": "x" * 26, "reason": "fraud"}})
    headers = {"content-type": "application/json"}
    gate = asyncio.Semaphore(CONCURRENCY)
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    async with httpx.AsyncClient(limits=limits) as client:

        async def post() -> None:
            # the same request style as the worker (httpx's post() slows down under concurrency; stream() does not)
            async with gate, client.stream("POST", url, content=body, headers=headers) as response:
                assert response.status_code == 204

        started = time.perf_counter()
        await asyncio.gather(*(post() for _ in range(n)))
        return n / (time.perf_counter() - started)


# -- Tenure ------------------------------------------------------------------
def _installation(engine: Engine, hook_url: str) -> str:
    upgrade(engine)
    operator_id = initialise(
        UnitOfWork(engine),
        operator_name="Bench",
        admin_email="admin@bench.example",
        admin_password="correct horse battery",
        timezone="Europe/London",
        policy="connect",
        now=NOW,
    )
    with UnitOfWork(engine) as uow:
        user = uow.users.by_email("admin@bench.example")
        assert user is not None
        caller: Caller = user.as_caller()
    request = webhook_service.CreateWebhook(url=hook_url, events=["account.suspended"])
    webhook_service.create_webhook(
        UnitOfWork(engine),
        caller=caller,
        request=request,
        now=NOW - timedelta(hours=1),
        destinations=DestinationGuard(),
    )
    return operator_id


def _queue(engine: Engine, account_id: str, kind: str, n: int) -> None:
    """n rows as the services write them (a suspension's email context, or a webhook's data)."""
    email = {**_EMAIL_CONTEXT, "held_account": {"id": account_id, "name": "Bench", "kind": "operator"}}
    webhook = {"account_id": account_id, "action": "suspended", "reason": "non_payment"}
    rows = [
        {
            "kind": kind,
            "topic": "suspended" if kind == "email" else "account.suspended",
            "account_id": account_id,
            "recipient": f"c{i}@bench.example" if kind == "email" else None,
            "payload": email if kind == "email" else webhook,
            "created_at": NOW,
            "next_attempt_at": NOW,
        }
        for i in range(n)
    ]
    with engine.begin() as connection:
        connection.execute(insert(outbox), rows)


def _ours(engine: Engine, channels: Channels, account_id: str, kind: str, n: int) -> float:
    _queue(engine, account_id, kind, n)
    started = time.perf_counter()
    report = asyncio.run(deliver_due(lambda: UnitOfWork(engine), channels, now=NOW + timedelta(seconds=1)))
    elapsed = time.perf_counter() - started
    done = report.emails["sent"] if kind == "email" else report.webhooks["delivered"]
    assert done == n, f"delivered {done} of {n}: {report}"
    return n / elapsed


def _postgres(url: str) -> Engine:
    admin = make_engine(url)
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text('DROP DATABASE IF EXISTS "tenure_bench_outbox" WITH (FORCE)'))
        connection.execute(text('CREATE DATABASE "tenure_bench_outbox"'))
    admin.dispose()
    return make_engine(make_url(url).set(database="tenure_bench_outbox").render_as_string(hide_password=False))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--notices", type=int, default=2000, help="emails, then webhooks, per backend")
    parser.add_argument("--postgres-url", default=os.environ.get("TENURE_TEST_POSTGRES_URL"))
    args = parser.parse_args()
    import logging

    import structlog

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    smtp, smtp_port, _ = _start(_smtp_receiver)
    http, http_port, _ = _start(_http_receiver)
    hook_url = f"http://127.0.0.1:{http_port}/hooks"
    channels = Channels(
        SmtpMailer("127.0.0.1", smtp_port, use_tls=False),
        WebhookSender(concurrency=CONCURRENCY),
        "bench@localhost",
        DisconnectSender(),
        SecretBox,
        JinjaEmails(),
    )
    n = args.notices
    rows = []
    try:
        asyncio.run(_bare_smtp(smtp_port, 50))  # warm up both receivers
        asyncio.run(_bare_http(hook_url, 50))
        backends: list[tuple[str, Callable[[], Engine]]] = []
        folder = Path(tempfile.mkdtemp(prefix="tenure-bench-outbox-"))
        backends.append(("sqlite", lambda: make_engine(f"sqlite:///{folder / 'outbox.db'}")))
        if args.postgres_url:
            backends.append(("postgresql", lambda: _postgres(args.postgres_url)))
        for name, make in backends:
            engine = make()
            operator_id = _installation(engine, hook_url)
            for kind, bare in (("email", _bare_smtp(smtp_port, n)), ("webhook", _bare_http(hook_url, n))):
                bare_rate = asyncio.run(bare)
                ours = _ours(engine, channels, operator_id, kind, n)
                rows.append((name, kind, n, ours, bare_rate))
            engine.dispose()
    finally:
        smtp.kill()
        http.kill()
    print(f"\nOutbox throughput, {n} notices per row ({os.cpu_count()} CPUs)")
    print(f"{'backend':<11} {'channel':<8} {'Tenure notices/s':>17} {'bare client/s':>14} {'ratio':>6}")
    for name, kind, _, ours, bare_rate in rows:
        print(f"{name:<11} {kind:<8} {ours:>17.0f} {bare_rate:>14.0f} {ours / bare_rate:>6.2f}")


if __name__ == "__main__":
    main()
