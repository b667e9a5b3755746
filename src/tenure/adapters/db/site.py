"""The installation's settings: the operator, its time zone, policy and billing prefix."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, insert, select, update

from tenure.adapters.db.tables import site
from tenure.domain.policy import PRESETS, from_matrix
from tenure.services.read_models import NotInitialised, Site


class SiteRepository:
    def __init__(self, connection: Connection) -> None:
        self.conn = connection

    def load(self) -> Site:
        row = self.conn.execute(select(site).where(site.c.id == 1)).first()
        if row is None:
            raise NotInitialised("Tenure is not initialised: run `tenure init` (or `tenure demo`) first")
        policy = from_matrix(row.policy_matrix, row.policy_name) if row.policy_matrix else PRESETS[row.policy_name]
        return Site(row.operator_id, ZoneInfo(row.timezone), policy, row.billing_prefix, row.secret_key)

    def credentials_version(self) -> int:
        """Moves on every revocation of a token or key: each process's credential cache compares it."""
        return int(self.conn.execute(select(site.c.credentials_version)).scalar_one())

    def exists(self) -> bool:
        return self.conn.execute(select(site.c.id)).first() is not None

    def create(self, **values: Any) -> None:
        self.conn.execute(insert(site).values(id=1, **values))

    def set_operator(self, operator_id: str) -> None:
        self.conn.execute(update(site).where(site.c.id == 1).values(operator_id=operator_id))

    def set_policy(self, name: str, matrix: dict[str, Any] | None) -> None:
        self.conn.execute(
            update(site)
            .where(site.c.id == 1)
            .values(policy_name=name, policy_matrix=matrix, version=site.c.version + 1)
        )
