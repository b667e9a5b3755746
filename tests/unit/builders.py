"""Plain in-memory accounts for the pure-domain tests: no database, no services."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from tenure.domain.access import Authority
from tenure.domain.model import Account, AncestorHold, ClientType, Contact, Hold, HoldReason, Kind, Stage

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
TODAY = date(2026, 11, 23)
_counter = iter(range(1, 1_000_000))
OPERATOR = Authority("operator", ("operator", "held"))  # the operator, over an account below it


def account(kind: Kind = Kind.CLIENT, *, stage: Stage = Stage.ACTIVE, name: str = "Acme Ltd", **fields: Any) -> Account:
    n = next(_counter)
    defaults: dict[str, Any] = {
        "id": f"acc{n:06d}",
        "parent_id": None if kind is Kind.OPERATOR else "parent",
        "billing_ref": f"TEN-{n:06d}",
        "main_contact": Contact(name, f"{name.lower().replace(' ', '.')}@example.com"),
        "created_at": NOW,
    }
    if kind is Kind.CLIENT:
        defaults.update(client_type=ClientType.RESIDENTIAL, start_date=TODAY, end_date=date(2027, 11, 23))
    defaults.update(fields)
    return Account(kind=kind, name=name, stage=stage, **defaults)


def client(stage: Stage = Stage.ACTIVE, **fields: Any) -> Account:
    return account(Kind.CLIENT, stage=stage, **fields)


def hold(target: Account, reason: HoldReason = HoldReason.NON_PAYMENT, *, days_ago: int = 0) -> Hold:
    n = next(_counter)
    return Hold(f"hold{n:06d}", target.id, reason, "", placed_at=NOW - timedelta(days=days_ago), placed_by="a@x")


def held(target: Account, *reasons: HoldReason) -> Account:
    """`target` with own holds in force for each reason."""
    target.holds = [hold(target, r) for r in reasons]
    return target


def through(
    ancestor_name: str = "North Sales",
    reason: HoldReason = HoldReason.FRAUD,
    *,
    kind: Kind = Kind.CHANNEL,
    since: datetime = NOW,
) -> AncestorHold:
    """What an account inherits when `ancestor_name` holds a hold."""
    return AncestorHold("anc000001", ancestor_name, kind, reason, since)
