"""Bodies of the API key endpoints (api.md "API keys")."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field, StringConstraints

from tenure.adapters.db.api_keys import ApiKey
from tenure.domain.access import Scope
from tenure.entrypoints.api.schemas import Input


class ApiKeyCreate(Input):
    name: Annotated[str, StringConstraints(min_length=1, max_length=100)] = Field(
        description="what the key is for, e.g. `kamailio`"
    )
    scopes: Annotated[list[Scope], Field(min_length=1, max_length=8)] = Field(
        description="`entitlements:read` (the entitlement endpoints only), `radius` (the RADIUS endpoints only), "
        "`read` (every GET the account's viewer may make)"
    )
    account_id: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = Field(
        None, description="the account whose subtree the key sees; the caller's own by default"
    )


class ApiKeyOut(BaseModel):
    id: str
    name: str
    account_id: str
    scopes: list[Scope]
    created_at: datetime
    created_by: str
    last_used_at: datetime | None = Field(description="to the minute: written at most once a minute")


class ApiKeyCreated(BaseModel):
    id: str
    name: str
    account_id: str
    scopes: list[Scope]
    key: str = Field(description="`tnk_…`, shown only in this answer; send it as `Authorization: Bearer tnk_…`")
    created_at: datetime


def api_key_out(key: ApiKey) -> dict[str, Any]:
    body = ApiKeyOut(**{**_fields(key), "created_by": key.created_by, "last_used_at": key.last_used_at})
    return _z(body.model_dump(mode="json"))


def api_key_created(key: ApiKey, secret: str) -> dict[str, Any]:
    return _z(ApiKeyCreated(**_fields(key), key=secret).model_dump(mode="json"))


def _fields(key: ApiKey) -> dict[str, Any]:
    return {
        "id": key.id,
        "name": key.name,
        "account_id": key.account_id,
        "scopes": sorted(key.scopes),
        "created_at": key.created_at,
    }


def _z(body: dict[str, Any]) -> dict[str, Any]:
    """Timestamps as RFC 3339 UTC with a Z, like every other answer."""
    return {k: v.replace("+00:00", "Z") if isinstance(v, str) and v.endswith("+00:00") else v for k, v in body.items()}
