"""The installation's settings: the operator, its time zone, policy and billing prefix."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, insert, select, update

from tenure.adapters.db.tables import site
from tenure.domain.policy import PRESETS, from_matrix
from tenure.services.read_models import NotInitialised, Site

# Built once: asked in every transaction that needs the settings. The operator's id rides along so a
# database made again from scratch (same version number, new installation) is never taken for the old one.
_VERSION = select(site.c.version, site.c.operator_id).where(site.c.id == 1)
_ROW = select(site).where(site.c.id == 1)


class SiteCache:
    """The parsed settings of one process, kept while `site.version` stays the same.

    Every settings change moves `site.version` in its own transaction, and each
    transaction that needs the settings reads the version first (one small
    statement): the same version means the parsed settings still hold; another
    one means they are read and parsed again. A transaction never sees settings
    older than its own snapshot of the row.
    """

    def __init__(self) -> None:
        self._held: tuple[tuple[int, str | None], Site] | None = None

    def current(self, repository: SiteRepository, *, seen: tuple[int, str | None] | None = None) -> Site:
        """`seen`: the version this transaction already read with another statement (the token check's)."""
        version = seen if seen is not None else repository.version()
        held = self._held
        if held is not None and held[0] == version:
            return held[1]
        found, number = repository.load_with_version()
        self._held = ((number, found.operator_id), found)
        return found


class SiteRepository:
    def __init__(self, connection: Connection) -> None:
        self.conn = connection

    def load(self) -> Site:
        return self.load_with_version()[0]

    def load_with_version(self) -> tuple[Site, int]:
        row = self.conn.execute(_ROW).first()
        if row is None:
            raise _not_initialised()
        policy = from_matrix(row.policy_matrix, row.policy_name) if row.policy_matrix else PRESETS[row.policy_name]
        return Site(row.operator_id, ZoneInfo(row.timezone), policy, row.billing_prefix, row.secret_key), row.version

    def version(self) -> tuple[int, str | None]:
        """`site.version` (moved by every change of what `load` returns) and the operator's id."""
        row = self.conn.execute(_VERSION).first()
        if row is None:
            raise _not_initialised()
        return int(row.version), row.operator_id

    def credentials_version(self) -> int:
        """Moves on every revocation of a token or key: each process's credential cache compares it."""
        return int(self.conn.execute(select(site.c.credentials_version)).scalar_one())

    def exists(self) -> bool:
        return self.conn.execute(select(site.c.id)).first() is not None

    def create(self, **values: Any) -> None:
        self.conn.execute(insert(site).values(id=1, **values))

    def set_operator(self, operator_id: str) -> None:
        self.conn.execute(
            update(site).where(site.c.id == 1).values(operator_id=operator_id, version=site.c.version + 1)
        )

    def set_policy(self, name: str, matrix: dict[str, Any] | None) -> None:
        self.conn.execute(
            update(site)
            .where(site.c.id == 1)
            .values(policy_name=name, policy_matrix=matrix, version=site.c.version + 1)
        )


def _not_initialised() -> NotInitialised:
    return NotInitialised("Tenure is not initialised: run `tenure init` (or `tenure demo`) first")
