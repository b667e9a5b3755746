"""Benchmark databases and their data, generated with set-based SQL.

The rows are the ones the service layer would write for the same tree
(accounts with their `sort_key` and generated billing refs, one closure row per
ancestor, self included), but a million of them load in one `INSERT … SELECT`
per table instead of a million use-case calls. The installation itself (site
row, operator, management client, first admin) comes from
`tenure.services.setup.initialise`, exactly as `tenure init` makes it.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, bindparam, select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from tenure.adapters.db import counts
from tenure.adapters.db.engine import make_engine
from tenure.adapters.db.migrate import upgrade
from tenure.adapters.db.tables import accounts as A
from tenure.adapters.db.tables import site as SITE
from tenure.adapters.db.uow import UnitOfWork
from tenure.domain.ids import new_id
from tenure.services import api_keys, auth
from tenure.services.setup import initialise

ADMIN_EMAIL = "bench-admin@operator.example"
PASSWORD = "bench-password-123"
TIMEZONE = "Europe/London"
# Words for client names, so a search term matches a realistic share of clients.
FIRST = [
    *[
        "acme",
        "apex",
        "atlas",
        "aurora",
        "beacon",
        "cobalt",
        "delta",
        "ember",
        "falcon",
        "granite",
        "harbor",
        "ion",
        "juniper",
        "kestrel",
        "lumen",
    ]
]
SECOND = [*["telecom", "networks", "voice", "systems", "labs", "media", "holdings", "partners", "solutions", "digital"]]


@dataclass(frozen=True)
class Shape:
    """operator → resellers → channels → clients, every channel the same size."""

    resellers: int
    channels_per_reseller: int
    clients_per_channel: int

    @property
    def channels(self) -> int:
        return self.resellers * self.channels_per_reseller

    @property
    def clients(self) -> int:
        return self.channels * self.clients_per_channel

    @property
    def accounts(self) -> int:
        return 2 + self.resellers + self.channels + self.clients  # operator + management client


@dataclass
class Dataset:
    engine: Engine
    url: str
    shape: Shape
    operator_id: str
    token: str
    id_prefix: str
    load_seconds: float
    key: str  # an `entitlements:read` API key of the operator, as a softswitch holds (P2)

    def account_id(self, number: int) -> str:
        return self.id_prefix + str(number).zfill(16)

    def channel_id(self, channel: int) -> str:
        return self.account_id(self.shape.resellers + channel)

    def client_id(self, channel: int, index: int) -> str:
        s = self.shape
        return self.account_id(s.resellers + s.channels + channel * s.clients_per_channel + index)

    def client_ids(self, channel: int, count: int, *, start: int = 0) -> list[str]:
        return [self.client_id(channel, i) for i in range(start, start + count)]


def postgres_database(admin_url: str, name: str) -> str:
    """A fresh PostgreSQL database `name` (dropped first if left from an earlier run); returns its URL."""
    admin = make_engine(admin_url)
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def drop_postgres_database(admin_url: str, name: str) -> None:
    admin = make_engine(admin_url)
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        try:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        except DBAPIError:
            # FORCE refuses a non-superuser while an autovacuum worker is in the database
            # (P1b's writes invite one); a plain DROP waits it out (as tests/conftest.py does).
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


def sqlite_database(folder: Path, name: str) -> str:
    path = folder / f"{name}.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return f"sqlite:///{path}"


def build(url: str, shape: Shape, *, now: datetime) -> Dataset:
    """Migrate, initialise, then load the tree set-based; returns the dataset with an admin token."""
    os.environ.setdefault("TENURE_ARGON2_PROFILE", "cheapest")
    engine = make_engine(url)
    upgrade(engine)
    operator_id = initialise(
        UnitOfWork(engine),
        operator_name="Benchmark Telecom",
        admin_email=ADMIN_EMAIL,
        admin_password=PASSWORD,
        timezone=TIMEZONE,
        now=now,
    )
    prefix = new_id()[:10]
    started = time.perf_counter()
    with engine.begin() as conn:
        _load_tree(conn, shape, operator_id=operator_id, prefix=prefix, now=now)
        counts.rebuild(conn)  # clients per partner and stage, as creating them one by one keeps them
    analyze(engine)
    load_seconds = time.perf_counter() - started
    with UnitOfWork(engine) as uow:
        user = uow.users.by_email(ADMIN_EMAIL)
        assert user is not None
    token = auth.new_token(UnitOfWork(engine), user=user, now=now).token
    key = api_keys.create_key_unchecked(
        UnitOfWork(engine), name="bench softswitch", scopes=["entitlements:read"], account_id=None, now=now
    ).secret
    return Dataset(engine, url, shape, operator_id, token, prefix, load_seconds, key)


def _series(conn: Connection, count: int) -> str:
    """A FROM clause yielding n = 0 … count-1."""
    if conn.dialect.name == "postgresql":
        return f"generate_series(0, {count - 1}) AS s(n)"
    return f"(WITH RECURSIVE s(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM s WHERE n < {count - 1}) SELECT n FROM s) s"


def _pad(conn: Connection, expr: str, width: int) -> str:
    """Zero-padded decimal, never truncated (as f"{n:0{width}d}")."""
    if conn.dialect.name == "postgresql":
        return f"(CASE WHEN length(({expr})::text) >= {width} THEN ({expr})::text ELSE lpad(({expr})::text, {width}, '0') END)"
    return f"printf('%0{width}d', {expr})"


def _text(conn: Connection, expr: str) -> str:
    return f"({expr})::text" if conn.dialect.name == "postgresql" else f"CAST({expr} AS TEXT)"


def _pick(number: str, words: list[str]) -> str:
    """The word at `number` modulo the list, as SQL."""
    whens = " ".join(f"WHEN ({number}) % {len(words)} = {i} THEN '{w.title()}'" for i, w in enumerate(words))
    return f"(CASE {whens} END)"


def _load_tree(conn: Connection, shape: Shape, *, operator_id: str, prefix: str, now: datetime) -> None:
    """Resellers, channels and clients; account number n has id prefix + n padded to 16 digits."""
    seq_row = conn.execute(select(SITE.c.billing_prefix, SITE.c.billing_seq)).one()
    billing_prefix, first_seq = seq_row.billing_prefix, int(seq_row.billing_seq) + 1
    r, cpr, k = shape.resellers, shape.channels_per_reseller, shape.clients_per_channel

    def ident(number: str) -> str:
        return f"'{prefix}' || {_pad(conn, number, 16)}"

    def ref(number: str) -> str:
        return f"'{billing_prefix}-' || {_pad(conn, f'{number} + {first_seq}', 6)}"

    params = [
        bindparam("now", now, type_=A.c.created_at.type),
        bindparam("today", client_start(now), type_=A.c.start_date.type),
    ]
    first = " || ' ' || ".join([_pick("n", FIRST), _pick(f"n / {len(FIRST)}", SECOND), _text(conn, "n")])
    partner = "INSERT INTO accounts (id, kind, parent_id, name, sort_key, billing_ref, contact_name, contact_email, notes, stage, is_management, created_at, updated_at, version) "
    conn.execute(
        text(
            partner + f"SELECT {ident('n')}, 'reseller', '{operator_id}', 'Reseller ' || {_text(conn, 'n')}, "
            f"'1reseller ' || {_text(conn, 'n')}, {ref('n')}, 'Reseller ' || {_text(conn, 'n')}, "
            f"'reseller' || {_text(conn, 'n')} || '@example.com', '', 'active', false, :now, :now, 1 FROM {_series(conn, r)}"
        ).bindparams(*params[:1])
    )
    conn.execute(
        text(
            partner
            + f"SELECT {ident(f'{r} + n')}, 'channel', {ident(f'n / {cpr}')}, 'Channel ' || {_text(conn, 'n')}, "
            f"'1channel ' || {_text(conn, 'n')}, {ref(f'{r} + n')}, 'Channel ' || {_text(conn, 'n')}, "
            f"'channel' || {_text(conn, 'n')} || '@example.com', '', 'active', false, :now, :now, 1 FROM {_series(conn, shape.channels)}"
        ).bindparams(*params[:1])
    )
    base = r + shape.channels
    conn.execute(
        text(
            "INSERT INTO accounts (id, kind, parent_id, name, sort_key, billing_ref, contact_name, contact_email, notes, stage, "
            "is_management, client_type, start_date, created_at, updated_at, version) "
            f"SELECT {ident(f'{base} + n')}, 'client', {ident(f'{r} + n / {k}')}, name, '1' || lower(name), "
            f"{ref(f'{base} + n')}, name, 'client' || {_text(conn, 'n')} || '@example.com', '', 'active', false, "
            f"'residential', :today, :now, :now, 1 FROM (SELECT n, {first} AS name FROM {_series(conn, shape.clients)}) c"
        ).bindparams(*params)
    )
    total = r + shape.channels + shape.clients
    # Closure rows: every new account to itself, then to each ancestor up to the operator.
    closure = "INSERT INTO account_ancestors (account_id, ancestor_id, depth) "
    conn.execute(text(closure + f"SELECT {ident('n')}, {ident('n')}, 0 FROM {_series(conn, total)}"))
    conn.execute(text(closure + f"SELECT {ident('n')}, '{operator_id}', 1 FROM {_series(conn, r)}"))
    conn.execute(
        text(closure + f"SELECT {ident(f'{r} + n')}, {ident(f'n / {cpr}')}, 1 FROM {_series(conn, shape.channels)}")
    )
    conn.execute(text(closure + f"SELECT {ident(f'{r} + n')}, '{operator_id}', 2 FROM {_series(conn, shape.channels)}"))
    for ancestor, depth in ((f"{r} + n / {k}", 1), (f"n / {k} / {cpr}", 2)):
        conn.execute(
            text(
                closure
                + f"SELECT {ident(f'{base} + n')}, {ident(ancestor)}, {depth} FROM {_series(conn, shape.clients)}"
            )
        )
    conn.execute(
        text(closure + f"SELECT {ident(f'{base} + n')}, '{operator_id}', 3 FROM {_series(conn, shape.clients)}")
    )
    conn.execute(update(SITE).where(SITE.c.id == 1).values(billing_seq=first_seq + total - 1))


def operator_today(now: datetime) -> date:
    return now.astimezone(ZoneInfo(TIMEZONE)).date()


def client_start(now: datetime) -> date:
    """Clients (and their services) started 90 days ago, so last month is billed in full."""
    return operator_today(now) - timedelta(days=90)


def phone_number(index: int) -> str:
    """Client `index`'s number: valid London numbers +44 20 3xxx xxxx."""
    return f"+44203{index:07d}"


SERVICES = (("phone_number", None, 500), ("internet", "'Fibre 100'", 3000), ("wifi", "'Office Wi-Fi'", 1000))


def add_services(ds: Dataset, *, kinds: int, now: datetime) -> None:
    """`kinds` services per client (a phone number first), set-based, with ids prefix + number."""
    engine, shape = ds.engine, ds.shape
    base = shape.resellers + shape.channels
    prefix = new_id()[:10]
    with engine.begin() as conn:
        for offset, (kind, label, cents) in enumerate(SERVICES[:kinds]):
            label_sql = label or f"'+44203' || {_pad(conn, 'n', 7)}"
            conn.execute(
                text(
                    "INSERT INTO services (id, account_id, kind, label, monthly_price_cents, start_date, created_at) "
                    f"SELECT '{prefix}' || {_pad(conn, f'n * {len(SERVICES)} + {offset}', 16)}, "
                    f"'{ds.id_prefix}' || {_pad(conn, f'{base} + n', 16)}, '{kind}', {label_sql}, {cents}, :start, :now "
                    f"FROM {_series(conn, shape.clients)}"
                ).bindparams(
                    bindparam("start", client_start(now), type_=A.c.start_date.type),
                    bindparam("now", now, type_=A.c.created_at.type),
                )
            )
    analyze(engine)


LOGIN_PREFIX = "bench-ppp"


def internet_login(index: int) -> str:
    """Client `index`'s RADIUS User-Name (its internet service's `network_id`)."""
    return f"{LOGIN_PREFIX}{index}"


def add_internet_services(ds: Dataset, *, now: datetime) -> None:
    """One internet service per client whose `network_id` is its login, set-based."""
    shape = ds.shape
    base = shape.resellers + shape.channels
    prefix = new_id()[:10]
    with ds.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO services (id, account_id, kind, label, monthly_price_cents, start_date, created_at, network_id) "
                f"SELECT '{prefix}' || {_pad(conn, 'n', 16)}, '{ds.id_prefix}' || {_pad(conn, f'{base} + n', 16)}, "
                f"'internet', 'Fibre 100', 3000, :start, :now, '{LOGIN_PREFIX}' || {_text(conn, 'n')} FROM {_series(conn, shape.clients)}"
            ).bindparams(
                bindparam("start", client_start(now), type_=A.c.start_date.type),
                bindparam("now", now, type_=A.c.created_at.type),
            )
        )
    analyze(ds.engine)


def analyze(engine: Engine) -> None:
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    else:
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
