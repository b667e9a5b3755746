"""Audit entries and decisions in words a support agent reads out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tenure.adapters.db.audit import AuditEntry
from tenure.domain.events import Action
from tenure.domain.model import HoldReason

FIELD_LABELS = {
    "name": "name",
    "billing_ref": "billing ref",
    "main_contact": "main contact",
    "notes": "notes",
    "stage": "stage",
    "status": "status",
    "client_type": "type",
    "start_date": "start date",
    "end_date": "end date",
    "decommission_on": "decommission date",
    "decommissioned_on": "decommissioned on",
    "holds": "holds",
}


@dataclass(frozen=True)
class Line:
    what: str
    details: list[str]


def _reason(raw: str | None) -> str:
    if not raw:
        return ""
    labels = []
    for part in raw.split(","):
        try:
            labels.append(HoldReason(part).label)
        except ValueError:
            labels.append(part)
    return ", ".join(labels)


def _value(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, dict):
        return " ".join(str(v) for v in value.values() if v)
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "none"
    return str(value)


def describe(entry: AuditEntry) -> Line:
    known = entry.action in set(Action)
    what = Action(entry.action).label if known else entry.action.replace("_", " ").capitalize()
    if entry.action in ("suspended", "unsuspended") and entry.reason:
        what += f": {_reason(entry.reason)}"
    details = []
    if entry.action == "viewed_as_client":
        return Line(what, [])
    if entry.action in ("service_added", "service_removed"):
        service = entry.after if entry.action == "service_added" else {**entry.before, **entry.after}
        price = service.get("monthly_price")
        return Line(what, [str(service.get("label", "")) + (f", {price} a month" if price else "")])
    if entry.action == "updated" and "network_id" in entry.after:
        change = f"{_value(entry.before.get('network_id'))} → {_value(entry.after['network_id'])}"
        return Line(what, [f"network ID of {entry.after.get('label', 'a service')}: {change}"])
    for key in entry.after:
        if key in ("stage", "status") and entry.action != "updated":
            continue
        if key == "holds":
            continue
        label = FIELD_LABELS.get(key, key.replace("_", " "))
        if key in entry.before:
            details.append(f"{label}: {_value(entry.before[key])} → {_value(entry.after[key])}")
        elif entry.action != "created":
            details.append(f"{label}: {_value(entry.after[key])}")
    if entry.action == "office_released" and "office" in entry.before:
        details = [f"office {_value(entry.before['office'])}"]
    return Line(what, details)
