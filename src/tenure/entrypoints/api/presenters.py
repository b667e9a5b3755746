"""Domain objects as the API's JSON."""

from __future__ import annotations

from typing import Any

from tenure.adapters.db.audit import AuditEntry
from tenure.domain.access import Caller
from tenure.domain.model import Hold, Kind
from tenure.entrypoints.api.schemas import AccountOut, EventOut
from tenure.services.queries import AccountView


def account_out(view: AccountView, *, caller: Caller) -> dict[str, Any]:
    """The account object of api.md; client-only fields are left out for partners.

    What a hold shows depends on who asks: a client's own users see why and
    since when, never the staff note or who placed it (`Caller.sees_staff_details`).
    """
    a = view.account
    out: dict[str, Any] = {
        "id": a.id,
        "kind": a.kind.value,
        "parent_id": a.parent_id,
        "name": a.name,
        "status": a.status.value,
        "stage": a.stage.value,
        "is_management": a.is_management,
        "billing_ref": a.billing_ref,
        "main_contact": {"name": a.main_contact.name, "email": a.main_contact.email},
        "decommission_on": _iso(a.decommission_on),
        "decommissioned_on": _iso(a.decommissioned_on),
        "holds": [hold_out(h, staff=caller.sees_staff_details) for h in a.holds],
        "suspended_by": {"id": a.inherited.account_id, "name": a.inherited.account_name} if a.inherited else None,
        "notes": a.notes,
        "created_at": _ts(a.created_at),
        "version": a.version,
    }
    if a.kind is Kind.CLIENT:
        out.update(
            client_type=a.client_type.value if a.client_type else None,
            offices=[{"id": office_id, "name": name} for office_id, name in view.offices],
            start_date=_iso(a.start_date),
            end_date=_iso(a.end_date),
            contract_expired=view.contract_expired,
        )
    return out


def hold_out(hold: Hold, *, staff: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"id": hold.id, "reason": hold.reason.value, "placed_at": _ts(hold.placed_at)}
    if staff:
        ref = hold.placed_by_account
        out.update(
            note=hold.note,
            placed_by=hold.placed_by,
            placed_by_account={"id": ref.id, "name": ref.name} if ref else None,
        )
    return out


def event_out(entry: AuditEntry) -> dict[str, Any]:
    return EventOut.model_validate(entry, from_attributes=True).model_dump(mode="json")


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _ts(value: Any) -> str:
    """RFC 3339 UTC with a Z."""
    text: str = value.astimezone().isoformat() if value.tzinfo is None else value.isoformat()
    return text.replace("+00:00", "Z")


__all__ = ["AccountOut", "account_out", "event_out"]
