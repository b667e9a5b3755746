"""Network ids in the clients CSV (issue 12 §1): one `kind:network_id` a line inside the quoted cell.

An id holds no newline and a kind no colon, so any id round-trips. On import each
line becomes a service of that kind holding the id, from the client's start date,
at 0.00 a month: the file carries no price.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from tenure.adapters.db.lines import LineRepository
from tenure.adapters.db.uow import UnitOfWork
from tenure.domain.catalog import LABEL_MAX, Line, LineKind, line_added
from tenure.domain.ids import new_id
from tenure.domain.model import Account
from tenure.domain.radius import clean_network_id
from tenure.services.common import today

# A phone number's label is the number itself: numbers are not created from a network-id line.
_KINDS = {k.value for k in LineKind} - {LineKind.PHONE_NUMBER.value}


def parse(text: str) -> tuple[tuple[LineKind, str], ...]:
    """`internet:acme-ppp1` lines (a quoted cell may hold several); the kind is any service kind."""
    found: list[tuple[LineKind, str]] = []
    for entry in (line.strip() for line in text.splitlines()):
        if not entry:
            continue
        kind, _, network_id = entry.partition(":")
        if kind not in _KINDS or not network_id:
            raise ValueError(f"network_ids lines are kind:network_id (internet:acme-ppp1), not {entry!r}")
        found.append((LineKind(kind), clean_network_id(network_id)))
    return tuple(found)


def add_services(
    uow: UnitOfWork, client: Account, network_ids: Iterable[tuple[LineKind, str]], *, actor: str, now: datetime
) -> None:
    """One service per imported network id, from the client's start, at 0.00 until someone prices it."""
    services = LineRepository(uow.connection)
    for kind, network_id in network_ids:
        start = client.start_date or today(uow, now)
        label = f"{kind.label} {network_id}"[:LABEL_MAX]
        service = Line(new_id(), client.id, kind, label, 0, start, None, network_id)
        services.add(service, now=now)
        uow.audit.append(line_added(service), actor=actor, at=now)


def cell(pairs: Iterable[tuple[str, str]]) -> str:
    return "\n".join(f"{kind}:{network_id}" for kind, network_id in pairs)
