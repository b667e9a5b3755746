"""What a change leaves behind (lifecycle.md §6): one audit event per action.

The domain records events instead of doing I/O; the service layer stores each
one with its actor and time, and queues its notifications, in the same
transaction as the state it describes.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TypeAlias

JSONValue: TypeAlias = str | int | float | bool | list["JSONValue"] | dict[str, "JSONValue"] | None
JSONObject: TypeAlias = dict[str, JSONValue]


class Action(enum.StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    ACTIVATED = "activated"
    ACTIVATION_SCHEDULED = "activation_scheduled"
    SUSPENDED = "suspended"
    UNSUSPENDED = "unsuspended"
    DECOMMISSION_SCHEDULED = "decommission_scheduled"
    DECOMMISSION_CANCELLED = "decommission_cancelled"
    DECOMMISSIONED = "decommissioned"
    CONVERTED = "converted"
    OFFICE_ASSIGNED = "office_assigned"
    OFFICE_RELEASED = "office_released"
    SERVICE_ADDED = "service_added"
    SERVICE_REMOVED = "service_removed"
    VIEWED_AS_CLIENT = "viewed_as_client"
    API_KEY_CREATED = "api_key_created"
    API_KEY_REVOKED = "api_key_revoked"

    @property
    def label(self) -> str:
        """How the audit trail reads this action to a person (the console's history)."""
        return _ACTION_LABELS.get(self) or self.value.replace("_", " ").capitalize()


_ACTION_LABELS: dict[Action, str] = {
    Action.CREATED: "Created",
    Action.UPDATED: "Edited",
    Action.ACTIVATED: "Activated",
    Action.ACTIVATION_SCHEDULED: "Activation scheduled",
    Action.SUSPENDED: "Suspended",
    Action.UNSUSPENDED: "Unsuspended",
    Action.DECOMMISSION_SCHEDULED: "Decommission scheduled",
    Action.DECOMMISSION_CANCELLED: "Scheduled decommission cancelled",
    Action.DECOMMISSIONED: "Decommissioned",
    Action.CONVERTED: "Converted",
    Action.OFFICE_ASSIGNED: "Office assigned",
    Action.OFFICE_RELEASED: "Office released",
    Action.SERVICE_ADDED: "Service added",
    Action.SERVICE_REMOVED: "Service removed",
    Action.VIEWED_AS_CLIENT: "Viewed as client",
    Action.API_KEY_CREATED: "API key created",
    Action.API_KEY_REVOKED: "API key revoked",
}


@dataclass(frozen=True)
class Event:
    """One line of an account's audit trail, before actor and time are stamped."""

    account_id: str
    action: Action
    before: JSONObject = field(default_factory=dict)
    after: JSONObject = field(default_factory=dict)
    reason: str | None = None


def as_json(value: object) -> JSONValue:
    """Dates, enums and plain values as they appear in before/after snapshots."""
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, dict):
        return {str(k): as_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [as_json(v) for v in value]
    return str(value)


def diff(before: dict[str, object], after: dict[str, object]) -> tuple[JSONObject, JSONObject]:
    """Only the fields that changed, on both sides."""
    changed = [key for key in after if before.get(key) != after[key]]
    return (
        {key: as_json(before.get(key)) for key in changed},
        {key: as_json(after[key]) for key in changed},
    )
