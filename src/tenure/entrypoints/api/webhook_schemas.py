"""Bodies of the webhook endpoints (api.md "Webhooks")."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field, StringConstraints, WithJsonSchema

from tenure.domain.destinations import redact
from tenure.domain.notifications import WEBHOOK_EVENT_TYPES
from tenure.entrypoints.api.schemas import Input
from tenure.services.read_models import DeliveryRecord, WebhookSubscription

EventName = Annotated[
    str,
    StringConstraints(min_length=1, max_length=64),
    WithJsonSchema({"type": "string", "enum": list(WEBHOOK_EVENT_TYPES)}),
]


class WebhookCreate(Input):
    url: Annotated[str, StringConstraints(min_length=1, max_length=2000)] = Field(
        description=(
            "an http:// or https:// URL: any for the operator's admins; for partners' admins only"
            " public addresses (or TENURE_WEBHOOK_ALLOWED_NETWORKS), checked again on every delivery"
        )
    )
    events: Annotated[list[EventName], Field(min_length=1, max_length=32)]
    secret: Annotated[str, StringConstraints(max_length=200)] | None = Field(
        None, description="`whsec_` + base64 of 24-64 bytes; generated when omitted"
    )
    account_id: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = Field(
        None, description="the account whose tree the endpoint hears; the caller's own by default"
    )


class WebhookOut(BaseModel):
    id: str
    account_id: str
    url: str
    events: list[str]
    created_at: datetime
    created_by: str


class WebhookCreated(WebhookOut):
    secret: str = Field(description="shown only in this answer")


class DeliveryOut(BaseModel):
    id: str
    event_type: str
    account_id: str
    message_id: str = Field(description="the `webhook-id` header, the same on every attempt")
    status: str = Field(description="pending, delivered or failed (after 24 hours of retries)")
    attempts: int
    last_error: str | None
    created_at: datetime
    next_attempt_at: datetime | None
    delivered_at: datetime | None


def webhook_out(subscription: WebhookSubscription, *, with_secret: bool = False) -> dict[str, Any]:
    """Only the creation answer shows the secret and the URL's credentials; later answers redact them."""
    model = WebhookCreated if with_secret else WebhookOut
    fields = {k: v for k, v in subscription.__dict__.items() if (with_secret or k != "secret") and k != "public_only"}
    if not with_secret:
        fields["url"] = redact(subscription.url)
    return _z(model(**fields).model_dump(mode="json"))


def delivery_out(record: DeliveryRecord) -> dict[str, Any]:
    return _z(DeliveryOut(**{**record.__dict__, "id": str(record.id)}).model_dump(mode="json"))


def _z(body: dict[str, Any]) -> dict[str, Any]:
    """Timestamps as RFC 3339 UTC with a Z, like every other answer."""
    return {k: v.replace("+00:00", "Z") if isinstance(v, str) and v.endswith("+00:00") else v for k, v in body.items()}
