"""The repositories of a batch (adapters/db/batch.py): accounts from memory, writes gathered.

Every gathered write is kept per item (`Buffer.mark`/`undo`), so an item
refused half-way leaves nothing behind, and is written at the end of the batch
as one statement per table, in the order the items made them: events, outbox
rows and holds as one JSON parameter (`rows.insert_rows`), account rows as one
`UPDATE … FROM json_populate_recordset(…)` per set of changed columns on
PostgreSQL, service endings and room releases as one `UPDATE … WHERE account_id
= ANY(…)` (why not an `executemany`: adapters/db/rows.py).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    TextClause,
    select,
    text,
)
from sqlalchemy.exc import IntegrityError

from tenure.adapters.db import sql
from tenure.adapters.db.accounts import LIFT, AccountRepository, hold_row, lift_row, save_statement
from tenure.adapters.db.audit import AuditRepository
from tenure.adapters.db.buffer import Buffer
from tenure.adapters.db.cascades import Cascades
from tenure.adapters.db.lines import END_ALL, LineEnding
from tenure.adapters.db.offices import RELEASE_ALL, OfficeRepository
from tenure.adapters.db.outbox import OutboxRepository
from tenure.adapters.db.radius import RadiusSessions
from tenure.adapters.db.rows import RECORDS, as_json, chunks, insert_rows
from tenure.adapters.db.tables import account_ancestors as AA
from tenure.adapters.db.tables import accounts as A
from tenure.adapters.db.tables import events as E
from tenure.adapters.db.tables import holds as H
from tenure.adapters.db.tables import outbox as O
from tenure.domain.access import Caller
from tenure.domain.errors import AlreadySuspended, NotFound, VersionConflict
from tenure.domain.events import Event
from tenure.domain.model import Account, Hold, Kind
from tenure.services.read_models import Cascade


class PreloadedAccounts(AccountRepository):
    """Accounts answered from a batch-wide load; anything else goes to the database as usual.

    Only a load by the same caller is answered from memory, so scoping is the
    one of `preload` (the same `sql.visible_to` as every other load). When the
    batch is `independent` (no account twice, none below another), no item can
    change what another reads, so holds and account rows are gathered too.
    """

    def __init__(self, connection: Connection) -> None:
        super().__init__(connection)
        self._caller: Caller | None = None
        self._preloaded = False
        self._loaded: dict[str, Account] = {}
        self._unseen: set[str] = set()
        self.touched: list[Account] = []
        self.independent = False
        self.holds_added, self.holds_lifted, self.saved = Buffer(), Buffer(), Buffer()

    @property
    def buffers(self) -> list[Buffer]:
        return [self.holds_added, self.holds_lifted, self.saved, self.count_changes]

    def preload(self, ids: Sequence[str], caller: Caller | None) -> None:
        """Load (and lock, in id order) every visible account among `ids`; the rest are not found.

        `caller` None: the worker's own changes, which see every account.
        """
        wanted = sorted(set(ids))
        rows = []
        for chunk in chunks(wanted):
            query = select(A).where(sql.among(self.dialect, A.c.id, "ids", chunk)).order_by(A.c.id)
            if caller is not None:
                query = query.where(sql.visible_to(caller))
            rows += list(self.conn.execute(query.with_for_update() if self._for_update else query))
        self._load(rows, caller, unique=len(wanted) == len(ids))
        self._unseen = set(wanted) - set(self._loaded)

    def claim(self, due: ColumnElement[bool], limit: int) -> list[str]:
        """Claim and load the first `limit` accounts matching `due` (id order) in one query: the worker's batch.

        On PostgreSQL the rows are locked `FOR UPDATE SKIP LOCKED`, so rows another
        worker holds are passed over. Answers the claimed ids, in order.
        """
        query = select(A).where(due).order_by(A.c.id).limit(limit)
        if self._for_update:
            query = query.with_for_update(skip_locked=True)
        rows = list(self.conn.execute(query))
        self._load(rows, None, unique=True)
        self._unseen = set()
        return [row.id for row in rows]

    def _load(self, rows: Sequence[Any], caller: Caller | None, *, unique: bool) -> None:
        self._preloaded = True
        self._caller = caller
        self._loaded = {account.id: account for account in self.hydrate(rows)}
        self.independent = unique and not self._nested(list(self._loaded.values()))

    def _nested(self, accounts: list[Account]) -> bool:
        """Is any of `accounts` an ancestor of another? Never when all are clients (they have no children)."""
        if all(account.kind is Kind.CLIENT for account in accounts):
            return False
        ids = [account.id for account in accounts]
        present = set(ids)
        for chunk in chunks(ids):
            query = select(AA.c.ancestor_id).where(AA.c.account_id.in_(chunk), AA.c.depth > 0)
            if any(ancestor in present for ancestor in self.conn.execute(query).scalars()):
                return True
        return False

    def get(self, account_id: str, *, caller: Caller | None = None, lock: bool = False) -> Account:
        if self._preloaded and caller == self._caller:
            if account_id in self._unseen:
                raise NotFound(f"account {account_id} not found")
            account = self._loaded.get(account_id)
            if account is not None:
                self.touched.append(account)
                return account
        account = super().get(account_id, caller=caller, lock=lock)
        self.touched.append(account)
        return account

    def forget(self, accounts: Iterable[Account]) -> None:
        """Drop accounts whose in-memory state may be stale; the next `get` reads them again."""
        for account in accounts:
            self._loaded.pop(account.id, None)
            self._stages.pop(account.id, None)
            self._read.pop(account.id, None)  # read again, it is saved whole

    def forget_all(self) -> None:
        self._loaded.clear()
        self._stages.clear()
        self._read.clear()

    # -- writes: gathered when independent, else at once -------------------
    def save(self, account: Account, *, now: datetime) -> None:
        if not self.independent:
            return super().save(account, now=now)
        before = self.stage_as_read(account) if account.kind is Kind.CLIENT else None
        changed = self.changed_columns(account)
        self.saved.rows.append({**changed, "id": account.id, "version": account.version, "updated_at": now})
        account.version += 1
        if account.kind is Kind.CLIENT:
            self.counted(account, before=before)
        return None

    def add_hold(self, hold: Hold) -> None:
        if not self.independent:
            return super().add_hold(hold)
        self.holds_added.rows.append(hold_row(hold))
        return None

    def lift_holds(self, lifted: Iterable[Hold]) -> None:
        if not self.independent:
            return super().lift_holds(lifted)
        self.holds_lifted.rows += [lift_row(h) for h in lifted]
        return None

    def flush(self) -> None:
        """Holds, then account rows; a saved row must still be at the version it was read at."""
        if added := self.holds_added.take():
            try:
                insert_rows(self.conn, H, added)
            except IntegrityError as error:  # only a writer that skipped the account's row lock gets here
                raise AlreadySuspended("a hold of the batch was placed meanwhile; nothing was kept") from error
        if lifted := self.holds_lifted.take():
            self.conn.execute(LIFT, lifted)
        saved = self.saved.take()
        for names, rows in _by_columns(saved).items():  # a batch of one action: one group
            if self.conn.dialect.name == "postgresql":
                result = self.conn.execute(_save_from_json(names), {"rows": as_json(rows)})
            else:  # SQLite: an executemany runs in-process
                result = self.conn.execute(save_statement(names), [{f"b_{k}": v for k, v in r.items()} for r in rows])
            if result.rowcount != len(rows):
                raise VersionConflict("an account of the batch was changed by someone else; nothing was kept")


@functools.cache
def _save_from_json(names: tuple[str, ...]) -> TextClause:
    """`UPDATE accounts … FROM json_populate_recordset(…) AS saved`: a batch's account rows in one statement.

    Each saved row must still be at the version it was read at (`saved.version`).
    """
    sets = ", ".join(f'"{name}" = saved."{name}"' for name in names if name not in ("id", "version"))
    return text(
        f"UPDATE accounts SET {sets}, version = accounts.version + 1 FROM {RECORDS.format(table='accounts')} "
        "AS saved WHERE accounts.id = saved.id AND accounts.version = saved.version"
    )


def _by_columns(rows: Sequence[dict[str, Any]]) -> dict[tuple[str, ...], list[dict[str, Any]]]:
    """Saved rows grouped by the columns they write (only those the change altered, and id, version, updated_at)."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(row), []).append(row)
    return groups


def _grouped(rows: Iterable[dict[str, Any]], key: str) -> dict[Any, list[str]]:
    """{row[key]: [row["b_account"], …]}, in the rows' order."""
    groups: dict[Any, list[str]] = {}
    for row in rows:
        groups.setdefault(row[key], []).append(row["b_account"])
    return groups


class BufferedAudit(AuditRepository):
    """Audit events, which nothing reads back inside a change, written in one `executemany`."""

    def __init__(self, connection: Connection) -> None:
        super().__init__(connection)
        self.buffer = Buffer()

    def append(self, event: Event, *, actor: str, at: datetime) -> None:
        row = {"account_id": event.account_id, "at": at, "actor": actor, "action": event.action.value}
        self.buffer.rows.append({**row, "reason": event.reason, "before": event.before, "after": event.after})

    def flush(self) -> None:
        insert_rows(self.conn, E, self.buffer.take())


class BufferedOutbox(OutboxRepository):
    """Single outbox rows (a partner's cascade job among them), gathered always."""

    def __init__(self, connection: Connection) -> None:
        super().__init__(connection)
        self.buffer = Buffer()

    def _add(
        self, kind: str, topic: str, account_id: str, recipient: str | None, payload: dict[str, Any], now: datetime
    ) -> None:
        row = {"kind": kind, "topic": topic, "account_id": account_id, "recipient": recipient, "payload": payload}
        self.buffer.rows.append({**row, "created_at": now, "next_attempt_at": now})

    def flush(self) -> None:
        insert_rows(self.conn, O, self.buffer.take())


class BufferedCascades(Cascades):
    """A partner's job is one gathered outbox row; when independent, clients' notices are gathered too.

    The use case has decided each client's flip already, so the batch's notices
    go out together at flush: one INSERT and one read of who is online.
    """

    def __init__(self, connection: Connection, accounts: PreloadedAccounts, outbox: BufferedOutbox) -> None:
        super().__init__(connection)
        self.accounts = accounts
        self.outbox = outbox
        self.gathered = Buffer()

    def enqueue(self, cascade: Cascade) -> None:
        self.outbox.buffer.rows.append(self.job_row(cascade))

    def write_now(self, cascade: Cascade, root: Account) -> None:
        if self.accounts.independent:
            self.gathered.rows.append((cascade, root))
        else:
            super().write_now(cascade, root)

    def flush(self) -> None:
        """Every gathered client's notices, as `write_now` writes one client's."""
        self.write_many(self.gathered.take())


class BufferedLineEnding(LineEnding):
    """Decommissions' service endings, gathered when independent: one `executemany` at the end."""

    def __init__(self, connection: Connection, accounts: PreloadedAccounts) -> None:
        super().__init__(connection)
        self.accounts = accounts
        self.buffer = Buffer()

    def end_all(self, account_id: str, *, on: date) -> None:
        if not self.accounts.independent:
            return super().end_all(account_id, on=on)
        self.buffer.rows.append({"b_account": account_id, "b_on": on})
        return None

    def flush(self) -> None:
        """`LineEnding.end_all` for every gathered account: one statement per day (a batch has one)."""
        for on, ids in _grouped(self.buffer.take(), "b_on").items():
            for chunk in chunks(ids):
                self.conn.execute(END_ALL, {"b_accounts": list(chunk), "b_on": on})


class BufferedOffices(OfficeRepository):
    """Rooms released by decommissions: who holds what read for the whole batch, releases gathered.

    Only for accounts whose rooms `preload_held` read (the worker's batches);
    anything else goes to the database as usual.
    """

    def __init__(self, connection: Connection, accounts: PreloadedAccounts) -> None:
        super().__init__(connection)
        self.accounts = accounts
        self.buffer = Buffer()
        self._held: dict[str, list[tuple[str, str]]] | None = None

    def preload_held(self, account_ids: Sequence[str]) -> None:
        held: dict[str, list[tuple[str, str]]] = {}
        for chunk in chunks(sorted(set(account_ids))):
            held |= self.held_by(chunk)
        self._held = {account_id: held.get(account_id, []) for account_id in account_ids}

    def release_all(self, account_id: str, *, now: datetime) -> list[tuple[str, str]]:
        if self._held is None or account_id not in self._held or not self.accounts.independent:
            return super().release_all(account_id, now=now)
        held = self._held.pop(account_id)  # released: a second release in this batch reads again
        if held:
            self.buffer.rows.append({"b_account": account_id, "b_at": now})
        return held

    def flush(self) -> None:
        """`OfficeRepository.release_all` for every gathered account: one statement per instant."""
        for at, ids in _grouped(self.buffer.take(), "b_at").items():
            for chunk in chunks(ids):
                self.conn.execute(RELEASE_ALL, {"b_accounts": list(chunk), "b_at": at})


class BufferedRadius(RadiusSessions):
    """An account's sessions cut (a decommission), gathered when independent: one statement per reason."""

    def __init__(self, connection: Connection, accounts: PreloadedAccounts) -> None:
        super().__init__(connection)
        self.accounts = accounts
        self.buffer = Buffer()

    def disconnect_account(self, account_id: str, reason: str, *, now: datetime) -> None:
        if not self.accounts.independent:
            return super().disconnect_account(account_id, reason, now=now)
        self.buffer.rows.append((account_id, reason, now))
        return None

    def flush(self) -> None:
        groups: dict[tuple[str, datetime], list[str]] = {}
        for account_id, reason, now in self.buffer.take():
            groups.setdefault((reason, now), []).append(account_id)
        for (reason, now), ids in groups.items():
            for chunk in chunks(ids):
                self.disconnect_accounts(sql.among(self.conn.dialect.name, A.c.id, "ids", chunk), reason, now=now)
