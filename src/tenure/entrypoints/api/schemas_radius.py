"""Bodies of the RADIUS sessions list and the NAS registry."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Annotated, get_type_hints

from pydantic import BaseModel, Field, StringConstraints

from tenure.adapters.db.nas import NasEntry
from tenure.domain.radius import DEFAULT_COA_PORT, NAS_NAME_MAX, SECRET_MAX
from tenure.entrypoints.api.schemas import Input
from tenure.services.radius import SessionView


class SessionOut(BaseModel):
    """A session as the API shows it: `services.radius.SessionView`'s fields, the id as text."""

    __annotations__ = {**get_type_hints(SessionView), "id": str}


class NasCreate(Input):
    name: Annotated[str, StringConstraints(min_length=1, max_length=NAS_NAME_MAX)]
    ip: Annotated[str, StringConstraints(min_length=1, max_length=45)] = Field(examples=["192.0.2.1"])
    secret: Annotated[str, StringConstraints(min_length=1, max_length=SECRET_MAX)] = Field(
        description="the RADIUS shared secret; stored encrypted, never shown again"
    )
    coa_port: Annotated[int, Field(ge=1, le=65535)] = DEFAULT_COA_PORT


class NasOut(BaseModel):
    """A NAS as the API shows it: `NasEntry`'s fields (never its secret)."""

    __annotations__ = get_type_hints(NasEntry)


def _stamp(moment: datetime | None) -> str | None:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def session_out(item: SessionView) -> dict[str, object]:
    out = dataclasses.asdict(item)
    out["id"] = str(item.id)
    for name in ("started_at", "last_update_at", "stopped_at"):
        out[name] = _stamp(out[name])
    return out


def nas_out(entry: NasEntry) -> dict[str, object]:
    return {**dataclasses.asdict(entry), "created_at": _stamp(entry.created_at)}
