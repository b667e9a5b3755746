"""What the use cases need from the outside besides the unit of work: a clock, the hot path's statement.

Protocols only; `adapters/` implements them and the composition root
(`entrypoints/context.py`) hands the implementations in.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from tenure.domain.access import Caller
from tenure.services.read_models import By, Lookup, Settings


class Clock(Protocol):
    """Time comes from a clock passed in, never from `datetime.now()` deep inside."""

    def now(self) -> datetime: ...


class EntitlementStatements(Protocol):
    """The one entitlement statement, run without a unit of work (psycopg async on PostgreSQL)."""

    async def run(self, caller: Caller, known: Settings | None, by: By, **key: str) -> Lookup:
        """The statement's answer; `known` is the settings this process already parsed."""

    async def close(self) -> None: ...
