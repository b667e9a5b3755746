"""Real receivers for notices, in the test process: an SMTP server (aiosmtpd) and HTTP endpoints.

Both listen on 127.0.0.1 and record what they got, so tests assert on what
actually went over the wire: recipients, subjects, both MIME parts, headers,
signatures.
"""

from __future__ import annotations

import email
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import default
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Received:
    recipients: list[str]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    def part(self, subtype: str) -> str:
        body = self.message.get_body((subtype,))
        assert body is not None, f"no text/{subtype} part"
        return str(body.get_content())


@dataclass
class MailSink:
    """What an SMTP server accepted; addresses in `reject` are refused for good (550)."""

    reject: set[str] = field(default_factory=set)
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:  # noqa: N802
        if address in self.reject:
            return f"550 5.1.1 <{address}>: mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        message = email.message_from_bytes(envelope.content, policy=default)
        assert isinstance(message, EmailMessage)
        with self.lock:
            self.received.append(Received(list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[Received]:
        with self.lock:
            return [r for r in self.received if address in r.recipients]

    @property
    def count(self) -> int:
        with self.lock:
            return len(self.received)


@contextmanager
def smtp_server(
    sink: MailSink | None = None, *, port: int | None = None, login: tuple[str, str] | None = None
) -> Iterator[tuple[MailSink, str]]:
    """An SMTP server on 127.0.0.1; yields the sink and the TENURE_SMTP_URL that reaches it."""
    sink = sink or MailSink()
    port = port or free_port()
    extra: dict[str, Any] = {}
    if login is not None:

        def check(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
            ok = (data.login.decode(), data.password.decode()) == login
            return AuthResult(success=ok, handled=False)

        extra = {"authenticator": check, "auth_require_tls": False}
    controller = Controller(sink, hostname="127.0.0.1", port=port, **extra)
    controller.start()
    try:
        credentials = f"{login[0]}:{login[1]}@" if login else ""
        yield sink, f"smtp://{credentials}127.0.0.1:{port}"
    finally:
        controller.stop()


@dataclass
class Hit:
    path: str
    headers: dict[str, str]
    body: str

    @property
    def json(self) -> Any:
        return json.loads(self.body)


Behaviour = Callable[[int, str], tuple[int, float]]  # (nth hit on this path, path) -> (status, delay s)


def always(status: int = 200) -> Behaviour:
    return lambda n, path: (status, 0.0)


@dataclass
class Receiver:
    """An HTTP endpoint that records every POST and answers as `behaviour` says."""

    behaviour: Behaviour = field(default_factory=always)
    hits: list[Hit] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    def on(self, path: str) -> list[Hit]:
        with self.lock:
            return [h for h in self.hits if h.path == path]

    def all(self) -> list[Hit]:
        with self.lock:
            return list(self.hits)


@contextmanager
def http_receiver(behaviour: Behaviour | None = None) -> Iterator[Receiver]:
    receiver = Receiver(behaviour or always())

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as real receivers do

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0"))).decode()
            with receiver.lock:
                receiver.hits.append(Hit(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                nth = sum(1 for h in receiver.hits if h.path == self.path)
            status, delay = receiver.behaviour(nth, self.path)
            if delay:
                time.sleep(delay)
            try:
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()
            except OSError:
                pass  # the sender gave up waiting: that is the point of a slow endpoint

        def log_message(self, format: str, *args: Any) -> None:
            pass

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 256  # the sender opens many connections at once

    server = Server(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
