"""`tenure check counts`: the counters of the Clients page against a recount (operations.md)."""

from __future__ import annotations

from tenure.services.read_models import Drift
from tenure.services.unit_of_work import UnitOfWork


def check_counts(uow: UnitOfWork, *, fix: bool = False) -> list[Drift]:
    """The counters that disagree with a recount; with `fix`, every counter set to the recount
    in the same transaction (no change can slip between the two)."""
    with uow:
        found = uow.client_counts.drift(then_fix=fix)
        if fix and found:
            uow.client_counts.rebuild()
        uow.commit()
    return found


__all__ = ["Drift", "check_counts"]
