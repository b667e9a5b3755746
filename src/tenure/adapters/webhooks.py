"""Posting webhooks: Standard Webhooks headers and signature, sent concurrently with hard time limits.

Every attempt of one delivery carries the same `webhook-id` (the receiver's
key for de-duplicating retries) and a fresh `webhook-timestamp` from the wall
clock, because receivers reject signatures older than a few minutes. Each post
is cut off after `timeout` seconds in all, so a slow or dead endpoint costs
one timeout per batch and never holds up the deliveries beside it.

A partner's webhook (`public_only`) is resolved and checked before every
attempt, then sent to the address that was checked (the Host header and TLS
name stay the URL's), so a name that rebinds to an internal address between
the check and the connection gets nowhere. Results never carry the URL's
credentials.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from standardwebhooks.webhooks import Webhook

from tenure.adapters.clock import Clock, SystemClock
from tenure.adapters.destinations import DestinationGuard, DestinationRefused, UnresolvedHost
from tenure.domain.destinations import redact
from tenure.services.ports import PostResult, WebhookMessage

USER_AGENT = "Tenure-Webhooks/1"


@dataclass(frozen=True)
class Target:
    """One attempt's connection: the URL to open, extra headers, TLS name, and credentials."""

    url: httpx.URL
    headers: dict[str, str]
    extensions: dict[str, Any]
    auth: httpx.BasicAuth | None


def signed_headers(message: WebhookMessage, clock: Clock) -> dict[str, str]:
    moment = clock.now().replace(microsecond=0)
    return {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": message.message_id,
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": Webhook(message.secret).sign(message.message_id, moment, message.body),
    }


class WebhookSender:
    def __init__(
        self,
        *,
        timeout: float = 10.0,
        concurrency: int = 64,
        clock: Clock | None = None,
        destinations: DestinationGuard | None = None,
    ) -> None:
        self.timeout = timeout
        self.concurrency = concurrency
        self.clock = clock or SystemClock()
        self.destinations = destinations or DestinationGuard()
        self._client: httpx.AsyncClient | None = None
        self._tls: ssl.SSLContext | None = None

    @asynccontextmanager
    async def session(self) -> AsyncIterator[None]:
        """Keep one connection pool (and TLS context) for every batch of a pass."""
        limits = httpx.Limits(max_connections=self.concurrency, max_keepalive_connections=self.concurrency)
        if self._tls is None:
            self._tls = ssl.create_default_context()  # built once: it costs tens of milliseconds
        client = httpx.AsyncClient(timeout=self.timeout, limits=limits, follow_redirects=False, verify=self._tls)
        async with client:
            self._client = client
            try:
                yield
            finally:
                self._client = None

    async def post_all(self, messages: Sequence[WebhookMessage]) -> list[PostResult]:
        """One result per message, in order; nothing raised for an endpoint's failure."""
        if self._client is None:
            async with self.session():
                return await self.post_all(messages)
        client = self._client
        gate = asyncio.Semaphore(self.concurrency)

        async def post(message: WebhookMessage) -> PostResult:
            async with gate:
                return await self._post(client, message)

        return list(await asyncio.gather(*(post(m) for m in messages)))

    async def _post(self, client: httpx.AsyncClient, message: WebhookMessage) -> PostResult:
        try:
            async with asyncio.timeout(self.timeout):
                target = await self._target(message)
                headers = {**target.headers, **signed_headers(message, self.clock)}
                request = client.stream(
                    "POST",
                    target.url,
                    content=message.body,
                    headers=headers,
                    auth=target.auth,
                    extensions=target.extensions,
                )
                async with request as response:
                    status = response.status_code
        except TimeoutError:
            return PostResult(False, f"no answer within {self.timeout:g} s")
        except DestinationRefused as refused:
            return PostResult(False, f"not sent: {refused.detail}")
        except UnresolvedHost as error:
            return PostResult(False, str(error))
        except (httpx.HTTPError, httpx.InvalidURL) as error:
            detail = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
            return PostResult(False, detail.replace(message.url, redact(message.url)))
        except Exception as error:  # a delivery that cannot even be attempted fails alone; the batch goes on
            detail = f"cannot post: {type(error).__name__}: {error}"
            return PostResult(False, detail.replace(message.url, redact(message.url)))
        if 200 <= status < 300:
            return PostResult(True, f"HTTP {status}", status)
        return PostResult(False, f"HTTP {status}", status)

    async def _target(self, message: WebhookMessage) -> Target:
        """Where to connect and how; a partner's webhook goes to the address just checked, pinned.

        Credentials leave the URL for a Basic `Authorization` header, so no
        URL that a library might log carries them.
        """
        url = httpx.URL(message.url)
        auth = httpx.BasicAuth(url.username, url.password) if url.userinfo else None
        url = url.copy_with(userinfo=b"")
        if not message.public_only:
            return Target(url, {}, {}, auth)
        addresses = await asyncio.to_thread(self.destinations.addresses_for, message.url)
        extensions: dict[str, Any] = {"sni_hostname": url.host} if url.scheme == "https" else {}
        pinned = url.copy_with(host=str(addresses[0]))
        return Target(pinned, {"host": url.netloc.decode("ascii")}, extensions, auth)
