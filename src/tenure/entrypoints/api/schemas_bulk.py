"""Bodies of `POST /api/v1/accounts/bulk` (api.md "Bulk actions")."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from tenure.domain.model import HoldReason
from tenure.entrypoints.api.schemas import AccountOut, Input, Problem
from tenure.services.bulk import MAX_ITEMS, BulkAction

# Ids are opaque but printable: a control character (NUL above all) is refused here, not by the database.
BulkId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f\x7f]+$")]
BulkNote = Annotated[str, StringConstraints(max_length=10_000, pattern=r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$")]


class BulkIn(Input):
    action: BulkAction
    ids: list[BulkId] = Field(min_length=1, max_length=MAX_ITEMS, description=f"1-{MAX_ITEMS:,} account ids")
    reason: HoldReason | None = Field(None, description="suspend (required), unsuspend (optional)")
    note: BulkNote = Field("", description="suspend only")
    on: date | None = Field(None, description="activate and decommission only")


class BulkItemOut(BaseModel):
    id: str
    ok: bool
    account: AccountOut | None = Field(None, description="when ok: the account as this item left it")
    problem: Problem | None = Field(None, description="when not ok: the single endpoint's problem+json")


class BulkOut(BaseModel):
    results: list[BulkItemOut] = Field(description="one per id, in the order given")
