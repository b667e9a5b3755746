"""Bodies of the RADIUS sessions list and the NAS registry."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from tenure.domain.radius import DEFAULT_COA_PORT, NAS_NAME_MAX, SECRET_MAX
from tenure.entrypoints.api.schemas import Input
from tenure.services.read_models import NasEntry, SessionView


class SessionOut(BaseModel):
    id: str
    acct_session_id: str
    user_name: str
    nas_ip: str
    framed_ip: str | None
    service_id: str | None
    account_id: str | None
    state: str
    started_at: datetime | None
    last_update_at: datetime
    stopped_at: datetime | None
    disconnect_error: str | None


class NasCreate(Input):
    name: Annotated[str, StringConstraints(min_length=1, max_length=NAS_NAME_MAX)]
    ip: Annotated[str, StringConstraints(min_length=1, max_length=45)] = Field(examples=["192.0.2.1"])
    secret: Annotated[str, StringConstraints(min_length=1, max_length=SECRET_MAX)] = Field(
        description="the RADIUS shared secret; stored encrypted, never shown again"
    )
    coa_port: Annotated[int, Field(ge=1, le=65535)] = DEFAULT_COA_PORT


class NasOut(BaseModel):
    id: str
    name: str
    ip: str
    coa_port: int
    created_at: datetime
    created_by: str


def _stamp(moment: datetime | None) -> str | None:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def session_out(item: SessionView) -> dict[str, object]:
    return {
        "id": str(item.id),
        "acct_session_id": item.acct_session_id,
        "user_name": item.user_name,
        "nas_ip": item.nas_ip,
        "framed_ip": item.framed_ip,
        "service_id": item.service_id,
        "account_id": item.account_id,
        "state": item.state,
        "started_at": _stamp(item.started_at),
        "last_update_at": _stamp(item.last_update_at),
        "stopped_at": _stamp(item.stopped_at),
        "disconnect_error": item.disconnect_error,
    }


def nas_out(entry: NasEntry) -> dict[str, object]:
    return {
        "id": entry.id,
        "name": entry.name,
        "ip": entry.ip,
        "coa_port": entry.coa_port,
        "created_at": _stamp(entry.created_at),
        "created_by": entry.created_by,
    }
