"""Importing and exporting clients as CSV (`tenure import clients`, `tenure export clients`).

Import is all or nothing: every row is checked first (format, then parents and
billing refs against the database) and every bad row is reported with its line
number; only a clean file is written, in one transaction, through the same
`create_in` as every other way of creating a client.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from email.utils import formataddr, parseaddr

from email_validator import EmailNotValidError, validate_email

from tenure.adapters.db import clients_csv as db
from tenure.adapters.db.uow import UnitOfWork
from tenure.domain import billing_refs
from tenure.domain.access import Caller
from tenure.domain.catalog import LineKind
from tenure.domain.checks import check_contact, check_dates, clean_name
from tenure.domain.errors import DomainError
from tenure.domain.model import Account, ClientType, Contact, Kind, Stage
from tenure.domain.text import from_spreadsheet, spreadsheet_safe
from tenure.services import network_ids_csv
from tenure.services.accounts import CreateAccount, create_in

COLUMNS = ("name", "billing_ref", "type", "start", "end", "contact", "parent_billing_ref")
# Optional on import, always written on export: the client's network ids, one `kind:network_id` a line.
NETWORK_IDS = "network_ids"
_ALIASES = {"parent billing ref": "parent_billing_ref", "parent": "parent_billing_ref", "billing ref": "billing_ref"}
_PARENT_KINDS = (Kind.OPERATOR, Kind.RESELLER, Kind.CHANNEL)
Progress = Callable[[int], None]


@dataclass(frozen=True)
class ClientRow:
    line: int
    name: str
    billing_ref: str | None
    client_type: ClientType
    start: date | None
    end: date | None
    contact: Contact
    parent_ref: str | None
    network_ids: tuple[tuple[LineKind, str], ...] = ()


@dataclass(frozen=True)
class RowError:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass(frozen=True)
class Parsed:
    rows: list[ClientRow]
    errors: list[RowError]


class ImportRejected(Exception):
    """Some rows are bad: nothing was imported."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__(f"{len(errors)} bad row(s); nothing was imported")
        self.errors = errors


def read_rows(lines: Iterable[str]) -> Parsed:
    """Parse and check every row on its own, keeping every bad one with its line number."""
    reader = csv.DictReader(lines)
    header = [_column(name) for name in reader.fieldnames or []]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        return Parsed([], [RowError(1, f"the header lacks {', '.join(missing)} (expected {','.join(COLUMNS)})")])
    reader.fieldnames = header
    rows: list[ClientRow] = []
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    held: dict[tuple[LineKind, str], int] = {}
    for record in reader:
        line = reader.line_num
        try:
            row = _row(line, {k: from_spreadsheet((v or "").strip()) for k, v in record.items() if isinstance(k, str)})
        except (DomainError, ValueError) as error:
            errors.append(RowError(line, getattr(error, "detail", None) or str(error)))
            continue
        key = (row.billing_ref or "").lower()  # refs are unique in any letter case
        if key and key in seen:
            errors.append(RowError(line, f"billing_ref {row.billing_ref} is also on line {seen[key]}"))
            continue
        twice = next((pair for pair in row.network_ids if pair in held), None)
        if twice is not None:
            errors.append(RowError(line, f"network id {twice[0].value}:{twice[1]} is also on line {held[twice]}"))
            continue
        held.update(dict.fromkeys(row.network_ids, line))
        if key:
            seen[key] = line
        rows.append(row)
    return Parsed(rows, errors)


def _column(name: str) -> str:
    cleaned = name.strip().lower()
    return _ALIASES.get(cleaned, cleaned.replace(" ", "_"))


def _row(line: int, cells: dict[str, str]) -> ClientRow:
    ref = billing_refs.validate_custom(cells["billing_ref"]) if cells["billing_ref"] else None
    kind = cells["type"].lower() or ClientType.RESIDENTIAL.value
    if kind not in {t.value for t in ClientType}:
        raise ValueError(f"type must be residential or virtual, not {kind!r}")
    start = _date(cells["start"], "start")
    end = _date(cells["end"], "end")
    check_dates(start, end)
    return ClientRow(
        line,
        clean_name(cells["name"]),
        ref,
        ClientType(kind),
        start,
        end,
        _contact(cells["contact"]),
        cells["parent_billing_ref"] or None,
        network_ids_csv.parse(cells.get(NETWORK_IDS, "")),
    )


def _date(text: str, column: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as error:
        raise ValueError(f"{column} must be a date YYYY-MM-DD, not {text!r}") from error


def _contact(text: str) -> Contact:
    """`Jane Smith <jane@acme.example>` or just `jane@acme.example`."""
    name, address = parseaddr(text)
    try:
        email = validate_email(address, check_deliverability=False).normalized
    except EmailNotValidError as error:
        raise ValueError(f"contact must be an email or `Name <email>`, not {text!r}") from error
    return check_contact(Contact(name, email))


def import_clients(
    uow: UnitOfWork, *, caller: Caller, parsed: Parsed, now: datetime, progress: Progress | None = None
) -> int:
    """Check parents and refs against the database, then create every client in one transaction.

    Any bad row, found while parsing or here, rejects the whole file with every bad line listed.
    """
    caller.require_admin()
    rows = parsed.rows
    with uow:
        parents = db.accounts_by_ref(uow.connection, caller, {r.parent_ref for r in rows if r.parent_ref})
        taken = db.refs_in_use(uow.connection, {r.billing_ref for r in rows if r.billing_ref})
        held = db.network_ids_in_use(uow.connection, {pair for r in rows for pair in r.network_ids})
        default_parent = uow.accounts.get(caller.account_id, caller=caller)
        errors = parsed.errors + [error for row in rows for error in _against_database(row, parents, taken, held)]
        if errors:
            raise ImportRejected(sorted(errors, key=lambda e: e.line))
        for row in rows:
            parent = parents[row.parent_ref] if row.parent_ref else default_parent
            request = CreateAccount(
                Kind.CLIENT, parent.id, row.name, row.contact, row.billing_ref, row.client_type, row.start, row.end
            )
            try:
                client = create_in(uow, parent=parent, request=request, actor=caller.email, now=now)
                network_ids_csv.add_services(uow, client, row.network_ids, actor=caller.email, now=now)
            except DomainError as error:
                raise ImportRejected([RowError(row.line, error.detail)]) from error
            if progress:
                progress(1)
        uow.commit()
    return len(rows)


def _against_database(
    row: ClientRow, parents: dict[str, Account], taken: set[str], held: set[tuple[LineKind, str]]
) -> Iterator[RowError]:
    if row.billing_ref and row.billing_ref in taken:
        yield RowError(row.line, f"billing_ref {row.billing_ref} is already in use")
    for kind, network_id in row.network_ids:
        if (kind, network_id) in held:
            yield RowError(row.line, f"network id {kind.value}:{network_id} is held by another service")
    if not row.parent_ref:
        return
    parent = parents.get(row.parent_ref)
    if parent is None:
        yield RowError(row.line, f"no account with billing ref {row.parent_ref} (parent_billing_ref)")
    elif parent.kind not in _PARENT_KINDS:
        yield RowError(row.line, f"{row.parent_ref} is a client; a client's parent is a reseller or channel")
    elif parent.stage is Stage.DECOMMISSIONED:
        yield RowError(row.line, f"the parent {row.parent_ref} is decommissioned")


def export_clients(
    uow: UnitOfWork, *, caller: Caller, include_inactive: bool, progress: Progress | None = None
) -> Iterator[str]:
    """CSV lines (header first) of every client the caller sees, readable again by `import_clients`."""
    yield _csv_line((*COLUMNS, NETWORK_IDS))
    with uow.reading():
        for batch in db.client_batches(uow.connection, caller, include_inactive=include_inactive):
            network_ids = db.network_ids_of(uow.connection, [row.id for row in batch])
            for row in batch:
                parent_ref = "" if row.parent_kind == Kind.OPERATOR.value else row.parent_ref
                contact = formataddr((row.contact_name, row.contact_email)) if row.contact_email else ""
                yield _csv_line(
                    (
                        row.name,
                        row.billing_ref,
                        row.client_type or "",
                        _iso(row.start_date),
                        _iso(row.end_date),
                        contact,
                        parent_ref,
                        network_ids_csv.cell(network_ids.get(row.id, [])),
                    )
                )
            if progress:
                progress(len(batch))


def count_clients(uow: UnitOfWork, *, caller: Caller, include_inactive: bool) -> int:
    with uow.reading():
        return db.count_clients(uow.connection, caller, include_inactive=include_inactive)


def _iso(value: date | None) -> str:
    return value.isoformat() if value else ""


def _csv_line(values: Iterable[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(spreadsheet_safe(value) for value in values)
    return buffer.getvalue()
