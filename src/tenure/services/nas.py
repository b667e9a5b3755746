"""The NAS registry (`tenure nas add|list|remove`, `/api/v1/nas`): operator admins only.

The secret is sealed with the installation's secret key before it is stored
and is never returned. Each change is recorded as an `updated` event on the
operator, so the audit trail shows who registered which NAS.
"""

from __future__ import annotations

from datetime import datetime

from tenure.domain.access import Caller
from tenure.domain.events import Action, Event, JSONObject
from tenure.domain.ids import new_id
from tenure.domain.radius import NasSpec, check_nas
from tenure.services.ports import SecretBox, SecretBoxes
from tenure.services.read_models import NasEntry
from tenure.services.unit_of_work import UnitOfWork


def secret_box(uow: UnitOfWork, boxes: SecretBoxes, override: str | None) -> SecretBox:
    """TENURE_SECRET_KEY when set, else the key generated into the database at `tenure init` (as the console)."""
    return boxes(override or uow.site.secret_key)


def add_nas(
    uow: UnitOfWork, *, caller: Caller, spec: NasSpec, boxes: SecretBoxes, secret_key: str | None, now: datetime
) -> NasEntry:
    caller.require_operator_admin()
    spec = check_nas(spec)
    entry = NasEntry(new_id(), spec.name, spec.ip, spec.coa_port, now, caller.email)
    with uow:
        uow.nas.add(entry, sealed_secret=secret_box(uow, boxes, secret_key).seal(spec.secret))
        after: JSONObject = {"nas": entry.name, "ip": entry.ip, "coa_port": entry.coa_port}
        uow.audit.append(
            Event(uow.site.operator_id, Action.UPDATED, {}, after, reason="nas added"), actor=caller.email, at=now
        )
        uow.commit()
    return entry


def list_nas(uow: UnitOfWork, *, caller: Caller, limit: int, cursor: str | None) -> tuple[list[NasEntry], str | None]:
    caller.require_operator_admin()
    with uow.reading():
        return uow.nas.page(limit=limit, cursor=cursor)


def remove_nas(uow: UnitOfWork, *, caller: Caller, name_or_id: str, now: datetime) -> NasEntry:
    """Disconnects queued for its sessions then find no NAS and end `failed` after the retry window."""
    caller.require_operator_admin()
    with uow:
        repository = uow.nas
        entry = repository.find(name_or_id)
        repository.remove(entry.id)
        before: JSONObject = {"nas": entry.name, "ip": entry.ip, "coa_port": entry.coa_port}
        uow.audit.append(
            Event(uow.site.operator_id, Action.UPDATED, before, {}, reason="nas removed"), actor=caller.email, at=now
        )
        uow.commit()
    return entry
