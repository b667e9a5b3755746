"""Sending email: SMTP through aiosmtplib (TENURE_SMTP_URL), or the log when none is configured.

`smtp://[user:pass@]host[:port]` speaks plain SMTP (STARTTLS when the server
offers it), `smtps://` TLS from the first byte. A batch goes over one
connection. Each message comes back as an outcome: sent, refused for good
(a 5xx answer: the notice is failed with the server's reason) or worth
retrying (4xx, timeouts, a server that is down).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from email.errors import MessageError
from email.message import Message
from urllib.parse import unquote, urlsplit

import aiosmtplib
import structlog

from tenure.services.ports import Mailer, Outcome, SendResult

log = structlog.get_logger()


class LogMailer:
    """No SMTP configured: every email is written to the log and counts as `logged`."""

    async def send_all(self, messages: Sequence[Message]) -> list[SendResult]:
        return [self._log(message) for message in messages]

    @staticmethod
    def _log(message: Message) -> SendResult:
        try:
            message.as_string()  # written out as SMTP would: a message that cannot be fails the same way
            log.info(
                "email (no SMTP configured)", to=message["To"], subject=message["Subject"], text=plain_text(message)
            )
        except Exception as error:
            return SendResult(Outcome.REFUSED, f"cannot write this email: {type(error).__name__}: {error}")
        return SendResult(Outcome.LOGGED)


@dataclass(frozen=True)
class SmtpMailer:
    hostname: str
    port: int
    use_tls: bool
    username: str | None = None
    password: str | None = None
    timeout: float = 30.0
    budget: float = 120.0  # a batch stops starting new sends after this long; the rest stay due
    connections: int = 4  # sent side by side per batch

    @classmethod
    def from_url(cls, url: str, *, timeout: float = 30.0) -> SmtpMailer:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError(f"TENURE_SMTP_URL must look like smtp://[user:pass@]host:port or smtps://…, not {url!r}")
        tls = parts.scheme == "smtps"
        return cls(
            hostname=parts.hostname,
            port=parts.port or (465 if tls else 25),
            use_tls=tls,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            timeout=timeout,
        )

    async def send_all(self, messages: Sequence[Message]) -> list[SendResult]:
        """Send over a few connections at once (one server round trip overlaps the next message's work)."""
        lanes = max(1, min(self.connections, len(messages)))
        chunks = [list(messages[lane::lanes]) for lane in range(lanes)]
        answers = await asyncio.gather(*(self._send_over_one(chunk) for chunk in chunks))
        results: list[SendResult] = [SendResult(Outcome.DEFERRED)] * len(messages)
        for lane, answer in enumerate(answers):
            results[lane::lanes] = answer
        return results

    async def _send_over_one(self, messages: Sequence[Message]) -> list[SendResult]:
        """One connection; if the server cannot be reached every message is `retry`."""
        results: list[SendResult] = []
        client = aiosmtplib.SMTP(
            hostname=self.hostname,
            port=self.port,
            username=self.username,
            password=self.password,
            use_tls=self.use_tls,
            timeout=self.timeout,
        )
        try:
            await client.connect()
        except (aiosmtplib.SMTPException, OSError) as error:
            return [SendResult(Outcome.RETRY, f"SMTP server unreachable: {error}")] * len(messages)
        started = time.monotonic()
        try:
            for message in messages:
                if time.monotonic() - started > self.budget:
                    break
                result = await self._send_one(client, message)
                results.append(result)
                if result.outcome is Outcome.RETRY and not client.is_connected:
                    break  # the connection is gone: the rest wait for the next attempt
        finally:
            if client.is_connected:
                try:
                    await client.quit()
                except (aiosmtplib.SMTPException, OSError):
                    client.close()
        missing = len(messages) - len(results)
        return results + [SendResult(Outcome.DEFERRED, "not attempted in this batch")] * missing

    @staticmethod
    async def _send_one(client: aiosmtplib.SMTP, message: Message) -> SendResult:
        try:
            await client.send_message(message)
        except aiosmtplib.SMTPRecipientsRefused as error:
            codes = [r.code for r in error.recipients]
            reason = "; ".join(f"{r.code} {r.message}" for r in error.recipients)
            return SendResult(Outcome.REFUSED if all(c >= 500 for c in codes) else Outcome.RETRY, reason)
        except aiosmtplib.SMTPResponseException as error:
            outcome = Outcome.REFUSED if error.code >= 500 else Outcome.RETRY
            return SendResult(outcome, f"{error.code} {error.message}")
        except (ValueError, MessageError, UnicodeError) as error:
            # an address that cannot be sent to at all, or a message that cannot be written out
            # (a header with a line break): this one fails for good, the others go on
            return SendResult(Outcome.REFUSED, f"cannot send this email: {type(error).__name__}: {error}")
        except (aiosmtplib.SMTPException, OSError) as error:
            return SendResult(Outcome.RETRY, str(error) or type(error).__name__)
        except Exception as error:  # never let one message end the batch: it is retried on schedule
            return SendResult(Outcome.RETRY, f"{type(error).__name__}: {error}")
        return SendResult(Outcome.SENT)


def plain_text(message: Message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True)
            return payload.decode(part.get_content_charset() or "utf-8") if isinstance(payload, bytes) else ""
    return ""


def mailer_for(smtp_url: str | None) -> Mailer:
    return SmtpMailer.from_url(smtp_url) if smtp_url else LogMailer()
