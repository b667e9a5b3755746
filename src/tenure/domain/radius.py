"""RADIUS (issue 12): network ids, accounting, NAS entries and when a live session must be cut.

Pure rules. Tenure decides only whether `internet` is allowed; passwords stay in
FreeRADIUS. A session is cut when its account LOSES `internet` (a suspension
under a policy that denies it, decommissioning, removal of the service, a
policy change); regaining it reconnects nobody: the subscriber dials again.
"""

from __future__ import annotations

import enum
import functools
import ipaddress
from dataclasses import dataclass
from datetime import UTC, datetime

from tenure.domain.errors import ValidationFailed
from tenure.domain.model import Stage, Status
from tenure.domain.policy import Capability, Policy, effective

NETWORK_ID_MAX = 253  # RADIUS attributes carry at most 253 octets
NETWORK_KINDS = ("internet", "wifi")  # service kinds whose network id is a RADIUS User-Name, in lookup order
NAS_NAME_MAX = 64
SECRET_MAX = 128
DEFAULT_COA_PORT = 3799  # RFC 5176
DISCONNECT_NOTICE = "radius.disconnect"


class SessionState(enum.StrEnum):
    OPEN = "open"  # started (or updated) and not stopped
    STOPPED = "stopped"  # the NAS reported a Stop
    DISCONNECTING = "disconnecting"  # internet was lost: a Disconnect-Request is queued
    DISCONNECTED = "disconnected"  # the NAS answered Disconnect-ACK
    REFUSED = "refused"  # the NAS answered Disconnect-NAK (its Error-Cause is kept)
    FAILED = "failed"  # the NAS never answered within the retry window


class AcctStatus(enum.StrEnum):
    START = "Start"
    INTERIM = "Interim-Update"
    STOP = "Stop"
    ACCOUNTING_ON = "Accounting-On"  # NAS booted: nothing to record per session
    ACCOUNTING_OFF = "Accounting-Off"


_ACCT_ALIASES = {
    "1": AcctStatus.START,
    "2": AcctStatus.STOP,
    "3": AcctStatus.INTERIM,
    "alive": AcctStatus.INTERIM,
    "7": AcctStatus.ACCOUNTING_ON,
    "8": AcctStatus.ACCOUNTING_OFF,
}

# RFC 5176 §3.5, so a NAK reads as what the NAS meant.
ERROR_CAUSES = {
    201: "Residual Session Context Removed",
    202: "Invalid EAP Packet (Ignored)",
    401: "Unsupported Attribute",
    402: "Missing Attribute",
    403: "NAS Identification Mismatch",
    404: "Invalid Request",
    405: "Unsupported Service",
    406: "Unsupported Extension",
    407: "Invalid Attribute Value",
    501: "Administratively Prohibited",
    502: "Request Not Routable (Proxy)",
    503: "Session Context Not Found",
    504: "Session Context Not Removable",
    505: "Other Proxy Processing Error",
    506: "Resources Unavailable",
    507: "Request Initiated",
    508: "Multiple Session Selection Unsupported",
}


def printable_ascii(value: str) -> bool:
    """Every character in " " to "~" (ASCII without controls); two C loops, as every Access-Request asks it."""
    return value.isascii() and value.isprintable()


def clean_network_id(value: str, *, field: str = "network_id") -> str:
    """1-253 printable ASCII characters (no control character, no NUL, nothing beyond ASCII)."""
    if not 1 <= len(value) <= NETWORK_ID_MAX or not printable_ascii(value):
        raise ValidationFailed(f"{field} must be 1-{NETWORK_ID_MAX} printable ASCII characters", field=field)
    return value


def parse_acct_status(value: str) -> AcctStatus:
    """`Start`, `Interim-Update`, `Stop` (rlm_rest sends the names) or their numbers 1, 3, 2."""
    for status in AcctStatus:
        if value.lower() == status.value.lower():
            return status
    found = _ACCT_ALIASES.get(value.strip().lower())
    if found is None:
        raise ValidationFailed("Acct-Status-Type must be Start, Interim-Update or Stop", field="Acct-Status-Type")
    return found


def parse_event_timestamp(value: str) -> datetime:
    """Seconds since the epoch, RFC 3339, or FreeRADIUS's own rendering (`Nov 28 2026 07:49:23 UTC`)."""
    text = value.strip()
    try:
        if text.isdigit() and len(text) <= 12:
            return datetime.fromtimestamp(int(text), UTC)
        if text[:1].isdigit():
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
            return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        return datetime.strptime(" ".join(text.split()[:4]), "%b %d %Y %H:%M:%S").replace(tzinfo=UTC)
    except (ValueError, OverflowError, OSError) as error:
        raise ValidationFailed(
            "Event-Timestamp must be epoch seconds, RFC 3339 or `Nov 28 2026 07:49:23 UTC`", field="Event-Timestamp"
        ) from error


def clean_ip(value: str, *, field: str) -> str:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError as error:
        raise ValidationFailed(f"{field} must be an IPv4 or IPv6 address", field=field) from error


@dataclass(frozen=True)
class NasSpec:
    """A RADIUS client Tenure may send Disconnect-Requests to."""

    name: str
    ip: str
    secret: str
    coa_port: int = DEFAULT_COA_PORT


def check_nas(spec: NasSpec) -> NasSpec:
    name = spec.name.strip()
    if not 1 <= len(name) <= NAS_NAME_MAX or not printable_ascii(name):
        raise ValidationFailed(f"name must be 1-{NAS_NAME_MAX} printable ASCII characters", field="name")
    if not 1 <= len(spec.secret) <= SECRET_MAX or not printable_ascii(spec.secret):
        raise ValidationFailed(f"secret must be 1-{SECRET_MAX} printable ASCII characters", field="secret")
    if not 1 <= spec.coa_port <= 65535:
        raise ValidationFailed("coa_port must be 1-65535", field="coa_port")
    return NasSpec(name, clean_ip(spec.ip, field="ip"), spec.secret, spec.coa_port)


def _has_internet(policy: Policy, stage: Stage, status: Status) -> bool:
    return Capability.INTERNET in effective(policy, stage, status)


@functools.cache
def stages_losing_internet_on_suspension(policy: Policy) -> frozenset[Stage]:
    """Stages whose accounts lose `internet` when they become suspended (ACTIVE under `connect`, none under `metis`)."""
    stages = (Stage.NEW, Stage.SCHEDULED, Stage.ACTIVE)
    return frozenset(
        s
        for s in stages
        if _has_internet(policy, s, Status(s.value)) and not _has_internet(policy, s, Status.SUSPENDED)
    )


def states_losing_internet(old: Policy, new: Policy) -> frozenset[tuple[Stage, Status]]:
    """The (stage, status) pairs that had `internet` under the old policy and lack it under the new one."""
    stages = (Stage.NEW, Stage.SCHEDULED, Stage.ACTIVE)
    states = [(s, Status(s.value)) for s in stages] + [(s, Status.SUSPENDED) for s in stages]
    return frozenset(state for state in states if _has_internet(old, *state) and not _has_internet(new, *state))


def describe_error_cause(code: int | None) -> str:
    if code is None:
        return "Disconnect-NAK without an Error-Cause"
    return f"Disconnect-NAK: Error-Cause {code} ({ERROR_CAUSES.get(code, 'unknown')})"
