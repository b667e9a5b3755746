"""What the use cases need from the outside besides the unit of work: a clock, the hot path's statement, senders.

Protocols (and the plain values that cross them); `adapters/` implements them
and the entry points hand the implementations in: the composition root
(`entrypoints/context.py`) and the worker, which builds the senders.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import date, datetime
from email.message import Message
from typing import Any, Protocol

from tenure.domain.access import Caller
from tenure.domain.destinations import IPAddress
from tenure.services.read_models import By, Lookup, Settings


class Clock(Protocol):
    """Time comes from a clock passed in, never from `datetime.now()` deep inside."""

    def now(self) -> datetime: ...


class EntitlementStatements(Protocol):
    """The one entitlement statement, run without a unit of work (psycopg async on PostgreSQL)."""

    async def run(self, caller: Caller, known: Settings | None, by: By, **key: str) -> Lookup:
        """The statement's answer; `known` is the settings this process already parsed."""

    async def close(self) -> None: ...


class Outcome(enum.StrEnum):
    """What became of one email."""

    SENT = "sent"
    LOGGED = "logged"  # no SMTP configured: written to the log, kept in the outbox
    RETRY = "retry"
    REFUSED = "refused"  # permanent: the server said no with a 5xx
    DEFERRED = "deferred"  # not attempted in this batch (out of time): still due, no attempt counted


@dataclass(frozen=True)
class SendResult:
    outcome: Outcome
    detail: str = ""


class Mailer(Protocol):
    """Sends emails (adapters/smtp.py: SMTP, or the log when none is configured)."""

    async def send_all(self, messages: Sequence[Message]) -> list[SendResult]:
        """One result per message, in order; nothing raised for a server's failure."""


@dataclass(frozen=True)
class WebhookMessage:
    url: str
    secret: str
    message_id: str
    body: str  # the exact JSON text that is signed
    public_only: bool = False  # a partner's: only to addresses the destination rule allows


@dataclass(frozen=True)
class PostResult:
    ok: bool
    detail: str
    status_code: int | None = None

    @property
    def unreachable(self) -> bool:
        """No answer at all (timeout, refused connection): the endpoint, not the message, is the trouble."""
        return not self.ok and self.status_code is None


class WebhookSender(Protocol):
    """Posts signed webhooks (adapters/webhooks.py)."""

    def session(self) -> AbstractAsyncContextManager[None]:
        """Keep one connection pool for every batch of a pass."""

    async def post_all(self, messages: Sequence[WebhookMessage]) -> list[PostResult]:
        """One result per message, in order; nothing raised for an endpoint's failure."""


@dataclass(frozen=True)
class DisconnectTarget:
    nas_ip: str
    coa_port: int
    secret: str
    user_name: str
    acct_session_id: str
    event_time: datetime


@dataclass(frozen=True)
class DisconnectAnswer:
    """`acked` True: Disconnect-ACK; False with `answered`: a NAK; `answered` False: silence or a socket error."""

    acked: bool
    answered: bool
    error_cause: int | None = None
    detail: str | None = None


class DisconnectSender(Protocol):
    """Sends RFC 5176 Disconnect-Requests (adapters/radius/disconnect.py); blocks until every answer is in."""

    def send_all(self, targets: Sequence[DisconnectTarget]) -> list[DisconnectAnswer]:
        """One answer per target, in order."""


class SecretUnreadable(Exception):
    """The stored secret was written under another TENURE_SECRET_KEY (or was tampered with)."""


class SecretBox(Protocol):
    """Seals secrets Tenure must give back later (a NAS's RADIUS secret); adapters/secret_box.py."""

    def seal(self, plain: str) -> str: ...

    def open(self, sealed: str) -> str:
        """The plain secret; `SecretUnreadable` when it was sealed under another key."""


SecretBoxes = Callable[[str], SecretBox]
"""A box for an installation's secret key: TENURE_SECRET_KEY, else the key `tenure init` stored."""


class UnresolvedHost(Exception):
    """The host name has no address now (it may have one at the next attempt)."""


class Destinations(Protocol):
    """The partner destination rule on what DNS says now (adapters/destinations.py)."""

    def addresses_for(self, url: str) -> list[IPAddress]:
        """The addresses of `url`'s host when the rule allows them all.

        Raises `UnresolvedHost` when the host has no address, a `ValidationFailed` on `url` when one is refused.
        """


class PhoneNumbers(Protocol):
    """Phone numbers to E.164 (adapters/phone.py, with the `phonenumbers` library: not stdlib, so not domain)."""

    def to_e164(self, raw: str, *, field: str = "label") -> str:
        """The number in E.164 ("+442079460000"); a `ValidationFailed` on `field` naming what is wrong."""


@dataclass(frozen=True)
class Recipient:
    """The account an email is about, as it is when the email leaves."""

    account_id: str
    name: str
    kind: str
    billing_ref: str
    contact_name: str
    email: str


class EmailWriter(Protocol):
    """Writes a notice's email from its template (adapters/emails.py: Jinja2, plain text and HTML)."""

    def message(
        self,
        template: str,
        recipient: Recipient,
        payload: dict[str, Any],
        *,
        queued_on: date,
        sender: str,
        message_id: str,
    ) -> Message:
        """The email ready to send; raises when this notice can never be written."""
