"""Set-based test data for the worker's reliability tests: thousands of due clients in a few statements.

The rows are what the service layer would write for clients created active and
then scheduled for decommission (accounts + closure rows + client_counts); applying the
changes is left to the worker, through the same use cases as always.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Engine, insert

from tenure.adapters.db import counts
from tenure.adapters.db.accounts import sort_key
from tenure.adapters.db.tables import account_ancestors, accounts
from tenure.domain.ids import new_id


def due_clients(
    engine: Engine,
    *,
    parent_id: str,
    count: int,
    decommission_on: date | None,
    now: datetime,
    above: tuple[str, ...] = (),
) -> list[str]:
    """`count` active clients under `parent_id`, due to go on `decommission_on` (None: not due).

    `above`: the parent's own ancestors, nearest first (none when the parent is the operator).
    """
    ids = [new_id() for _ in range(count)]
    rows = [
        {
            "id": account_id,
            "kind": "client",
            "parent_id": parent_id,
            "name": f"Bulk Client {i:05d}",
            "sort_key": sort_key(f"Bulk Client {i:05d}", False),
            "billing_ref": f"BULK-{i:06d}",
            "contact_name": f"Contact {i}",
            "contact_email": f"client{i:05d}@bulk.example",
            "notes": "",
            "stage": "active",
            "is_management": False,
            "client_type": "virtual",
            "start_date": now.date(),
            "activated_on": now.date(),
            "end_date": now.date().replace(year=now.year + 1),
            "decommission_on": decommission_on,
            "created_at": now,
            "updated_at": now,
            "version": 1,
        }
        for i, account_id in enumerate(ids)
    ]
    with engine.begin() as connection:
        connection.execute(insert(accounts), rows)
        closure = [{"account_id": a, "ancestor_id": a, "depth": 0} for a in ids]
        for depth, ancestor in enumerate((parent_id, *above), start=1):
            closure += [{"account_id": a, "ancestor_id": ancestor, "depth": depth} for a in ids]
        connection.execute(insert(account_ancestors), closure)
        counts.rebuild(connection)  # the clients per partner and stage, as creating them one by one keeps them
    return ids
