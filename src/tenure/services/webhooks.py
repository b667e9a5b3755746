"""Webhook subscriptions (api.md "Webhooks"): operator and partner admins, each within its own tree.

A subscription is held by an account (the caller's own unless another in its
tree is named) and receives the events of that account and everything below
it. The secret is a Standard Webhooks secret, generated when not given, and
shown only in the answer to its creation.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from tenure.domain.access import Caller
from tenure.domain.errors import Forbidden, InvalidTransition, NotFound, ValidationFailed
from tenure.domain.ids import new_id
from tenure.domain.model import Kind
from tenure.domain.notifications import WEBHOOK_EVENT_TYPES
from tenure.services.ports import Destinations, UnresolvedHost
from tenure.services.read_models import DeliveryRecord, WebhookSubscription
from tenure.services.unit_of_work import UnitOfWork

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32
DELIVERY_STATUSES = ("pending", "delivered", "failed")


@dataclass(frozen=True)
class CreateWebhook:
    url: str
    events: Sequence[str]
    secret: str | None = None
    account_id: str | None = None


def create_webhook(
    uow: UnitOfWork,
    *,
    caller: Caller,
    request: CreateWebhook,
    now: datetime,
    destinations: Destinations,
) -> WebhookSubscription:
    """The operator's admins may target any address; a partner's admins only public ones (422 otherwise).

    A host name that does not resolve yet is accepted: every delivery resolves
    and checks it again, which is the check that counts.
    """
    _require_partner_or_operator(caller)
    caller.require_admin()
    public_only = caller.account_kind is not Kind.OPERATOR
    url = check_url(request.url)
    if public_only:
        with suppress(UnresolvedHost):
            destinations.addresses_for(url)
    subscription = WebhookSubscription(
        id=new_id(),
        account_id=request.account_id or caller.account_id,
        url=url,
        events=check_events(request.events),
        secret=check_secret(request.secret) if request.secret is not None else generate_secret(),
        created_at=now,
        created_by=caller.email,
        public_only=public_only,
    )
    with uow:
        uow.accounts.get(subscription.account_id, caller=caller)  # 404 outside the caller's tree
        uow.webhooks.add(subscription)
        uow.commit()
    return subscription


def list_webhooks(
    uow: UnitOfWork, *, caller: Caller, limit: int, cursor: str | None
) -> tuple[list[WebhookSubscription], str | None]:
    _require_partner_or_operator(caller)
    with uow.reading():
        return uow.webhooks.page(caller, limit=limit, cursor=cursor)


def get_webhook(uow: UnitOfWork, *, caller: Caller, webhook_id: str) -> WebhookSubscription:
    _require_partner_or_operator(caller)
    with uow.reading():
        return uow.webhooks.get(webhook_id, caller=caller)


def delete_webhook(uow: UnitOfWork, *, caller: Caller, webhook_id: str) -> None:
    _require_partner_or_operator(caller)
    with uow:
        repository = uow.webhooks
        repository.get(webhook_id, caller=caller)
        caller.require_admin()
        repository.delete(webhook_id)
        uow.commit()


def list_deliveries(
    uow: UnitOfWork, *, caller: Caller, webhook_id: str, statuses: Sequence[str], limit: int, cursor: str | None
) -> tuple[list[DeliveryRecord], str | None]:
    _require_partner_or_operator(caller)
    unknown = set(statuses) - set(DELIVERY_STATUSES)
    if unknown:
        raise ValidationFailed(f"status must be among {', '.join(DELIVERY_STATUSES)}", field="status")
    with uow.reading():
        repository = uow.webhooks
        repository.get(webhook_id, caller=caller)
        return repository.deliveries(webhook_id, statuses=statuses, limit=limit, cursor=cursor)


def redeliver(uow: UnitOfWork, *, caller: Caller, webhook_id: str, delivery_id: str, now: datetime) -> DeliveryRecord:
    """Send a failed (or already delivered) delivery again; one still pending is refused, it is on its way."""
    _require_partner_or_operator(caller)
    with uow:
        repository = uow.webhooks
        repository.get(webhook_id, caller=caller)
        caller.require_admin()
        numeric = delivery_id.isascii() and delivery_id.isdigit() and len(delivery_id) <= 18
        record = repository.delivery(webhook_id, int(delivery_id)) if numeric else None
        if record is None:
            raise NotFound(f"delivery {delivery_id} not found")
        if record.status == "pending":
            raise InvalidTransition("the delivery is still pending: it will be retried on its own")
        repository.requeue(record.id, now)
        uow.commit()
        found = repository.delivery(webhook_id, record.id)
    assert found is not None
    return found


def _require_partner_or_operator(caller: Caller) -> None:
    """Clients' portal users never see integrations; viewers read, only admins change."""
    if caller.account_kind is Kind.CLIENT or not caller.sees_subtree:
        raise Forbidden("webhooks belong to the operator's and partners' admins")


def check_url(url: str) -> str:
    try:
        parts = urlsplit(url.strip())
        port_ok = parts.port is None or parts.port > 0
    except ValueError:  # "http://[::1" and ports out of range
        parts, port_ok = urlsplit(""), False
    clean = url.isprintable() and not any(c.isspace() for c in url)
    if parts.scheme not in ("http", "https") or not parts.hostname or not port_ok or not clean:
        raise ValidationFailed("url must be an http:// or https:// URL with a host", field="url")
    return url.strip()


def check_events(events: Sequence[str]) -> list[str]:
    unknown = [e for e in events if e not in WEBHOOK_EVENT_TYPES]
    if unknown or not events:
        raise ValidationFailed(f"events must be a non-empty list of: {', '.join(WEBHOOK_EVENT_TYPES)}", field="events")
    return list(dict.fromkeys(events))


def check_secret(secret: str) -> str:
    """`whsec_` and the base64 of 24 to 64 random bytes (the Standard Webhooks format)."""
    encoded = secret.removeprefix(SECRET_PREFIX)
    try:
        raw = base64.b64decode(encoded, validate=True) if secret.startswith(SECRET_PREFIX) else b""
    except (binascii.Error, ValueError):
        raw = b""
    if not 24 <= len(raw) <= 64:
        raise ValidationFailed("secret must be 'whsec_' followed by the base64 of 24 to 64 bytes", field="secret")
    return secret


def generate_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()
