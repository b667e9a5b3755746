"""When a scheduled change is due (lifecycle.md §2, §4): one definition for Python and SQL.

A scheduled change is data on the account: a scheduled account's `start_date`,
any account's `decommission_on`. Each rule below says which stages it applies to
and which date decides; `Due.holds` asks it of an in-memory account, and
`adapters/db/status_sql.py` `due()` writes the same rule as a SQL predicate for the
worker's claim, so the two forms cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

from tenure.domain.model import Account, Stage

DateField = Literal["start_date", "decommission_on"]


@dataclass(frozen=True)
class Due:
    """A change is due when the account is in one of `stages` and its `date_field` is on or before today."""

    stages: frozenset[Stage]
    date_field: DateField

    def holds(self, account: Account, today: date) -> bool:
        day: date | None = getattr(account, self.date_field)
        return account.stage in self.stages and day is not None and day <= today


ACTIVATION_DUE = Due(frozenset({Stage.SCHEDULED}), "start_date")
"""The worker activates a scheduled account on its start date."""

DECOMMISSION_DUE = Due(frozenset(Stage) - {Stage.DECOMMISSIONED}, "decommission_on")
"""The worker decommissions an account on its `decommission_on` (decommissioned is final)."""
