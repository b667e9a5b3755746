"""`tenure check counts`: the counters of the Clients page against a recount (operations.md)."""

from __future__ import annotations

from tenure.adapters.db import counts
from tenure.adapters.db.counts import Drift
from tenure.adapters.db.uow import UnitOfWork


def check_counts(uow: UnitOfWork, *, fix: bool = False) -> list[Drift]:
    """The counters that disagree with a recount; with `fix`, every counter set to the recount
    in the same transaction (no change can slip between the two)."""
    with uow:
        found = counts.drift(uow.connection, then_fix=fix)
        if fix and found:
            counts.rebuild(uow.connection)
        uow.commit()
    return found


__all__ = ["Drift", "check_counts"]
