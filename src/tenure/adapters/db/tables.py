"""The schema, as SQLAlchemy Core tables; Alembic migrations must match it (`alembic check`).

Design for a million accounts:
- `account_ancestors` is a closure table (self at depth 0, then each
  ancestor). "Is this account suspended?" is one indexed probe per level of a
  tree at most four deep, and "everything below the channel" is one index
  range — no walking the tree in Python.
- Suspension is rows in `holds`; suspending a channel inserts one row and
  rewrites no descendant.
- Scheduled changes are data on the account (`start_date` of a scheduled
  account, `decommission_on`), each with a partial index the worker scans.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    DDL,
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    event,
    func,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = MetaData(naming_convention=NAMING)

ID = 26  # ULID length


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps in UTC on both databases (SQLite keeps no zone, so one is put back)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


TS = UTCDateTime()
# SQLite's INTEGER PRIMARY KEY autoincrements only as INTEGER, not BIGINT.
BIGID = BigInteger().with_variant(Integer(), "sqlite")


def _partial(where: str) -> dict[str, object]:
    """The same partial-index predicate for both databases."""
    return {"sqlite_where": text(where), "postgresql_where": text(where)}


site = Table(
    "site",
    metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "operator_id", String(ID), ForeignKey("accounts.id"), nullable=True
    ),  # set right after the operator is created
    Column("timezone", String(64), nullable=False),
    Column("policy_name", String(32), nullable=False),
    Column("policy_matrix", JSON, nullable=True),
    Column("billing_prefix", String(16), nullable=False),
    Column("billing_seq", Integer, nullable=False, server_default="0"),
    Column("secret_key", String(128), nullable=False),
    Column("version", Integer, nullable=False, server_default="1"),
    # Bumped by every revocation (token, API key, user): per-process credential caches
    # compare it on each hot-path lookup and forget what they hold when it moves.
    Column("credentials_version", Integer, nullable=False, server_default="1"),
    CheckConstraint("id = 1", name="single_row"),
)

accounts = Table(
    "accounts",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("parent_id", String(ID), ForeignKey("accounts.id"), nullable=True, index=True),
    Column("name", String(200), nullable=False),
    # "0" + casefolded name for the management client, "1" + casefolded name otherwise:
    # one column gives the spec's sort order and an index for keyset pagination.
    Column("sort_key", String(240), nullable=False),
    Column("billing_ref", String(32), nullable=False, unique=True),
    Column("contact_name", String(200), nullable=False, server_default=""),
    Column("contact_email", String(320), nullable=False, server_default=""),
    Column("notes", Text, nullable=False, server_default=""),
    Column("stage", String(16), nullable=False),
    Column("is_management", Boolean, nullable=False, server_default=text("false")),
    Column("client_type", String(16), nullable=True),
    Column("start_date", Date, nullable=True),
    Column("end_date", Date, nullable=True),
    Column("decommission_on", Date, nullable=True),
    Column("decommissioned_on", Date, nullable=True),
    Column("activated_on", Date, nullable=True),  # the day it became active (billing, lifecycle.md §5)
    Column("wizard_step", String(32), nullable=True),
    Column("created_at", TS, nullable=False),
    Column("updated_at", TS, nullable=False),
    Column("version", Integer, nullable=False, server_default="1"),
    Index("ix_accounts_sort", "sort_key", "id"),
    # Resellers and channels in name order (the partner tree, the Clients page's partner filter):
    # a few hundred rows among a million clients, which the name order alone would walk past.
    Index("ix_accounts_partners_sort", "sort_key", "id", **_partial("kind <> 'client'")),  # type: ignore[arg-type]
    # The worker claims due rows in id order (services/scheduler.py): these partial indexes
    # hold only the scheduled ones, in that order, so a claim never walks past the others.
    Index("ix_accounts_due_start", "id", **_partial("stage = 'scheduled'")),  # type: ignore[arg-type]
    Index("ix_accounts_due_decommission", "kind", "id", **_partial("decommission_on IS NOT NULL")),  # type: ignore[arg-type]
    # Billing refs are unique in any letter case (lifecycle.md §1): `ten-000005` beside `TEN-000005`
    # is refused by the database too, so a race between two requests cannot slip past the check.
    Index("uq_accounts_billing_ref_lower", func.lower(text("billing_ref")), unique=True),
)

# PostgreSQL only: trigram indexes, so `?q=` (a substring anywhere in the name, billing
# ref or main contact's email) is an index lookup rather than a scan of a million accounts when the
# term is rare (a common term walks ix_accounts_sort and stops at the page's end).
# tenure/migrations/env.py leaves them out of `alembic check` on SQLite, which has no GIN.
_TRGM = DDL("CREATE EXTENSION IF NOT EXISTS pg_trgm")  # type: ignore[no-untyped-call]
event.listen(metadata, "before_create", _TRGM.execute_if(dialect="postgresql"))
for _column in ("sort_key", "billing_ref", "contact_email"):
    Index(
        f"ix_accounts_{_column}_trgm",
        accounts.c[_column],
        postgresql_using="gin",
        postgresql_ops={_column: "gin_trgm_ops"},
    ).ddl_if(dialect="postgresql")

# PostgreSQL only: `?q=` with an email ("orders@bravo…") as the start of the main contact's
# email, any case. A whole address shares most of its trigrams ("@example.com") with every other
# one, so the trigram index would read long posting lists; this B-tree answers a prefix directly.
Index(
    "ix_accounts_contact_email_prefix",
    func.lower(accounts.c.contact_email).label("contact_email_lower"),
    postgresql_ops={"contact_email_lower": "text_pattern_ops"},
).ddl_if(dialect="postgresql")

account_ancestors = Table(
    "account_ancestors",
    metadata,
    Column("account_id", String(ID), ForeignKey("accounts.id"), primary_key=True),
    Column("ancestor_id", String(ID), ForeignKey("accounts.id"), primary_key=True),
    Column("depth", Integer, nullable=False),
    Index("ix_account_ancestors_down", "ancestor_id", "account_id"),
)

# Clients per (ancestor, stage), kept in the same transaction as each creation and stage move
# (adapters/db/counts.py) so the Clients page counts without reading a million rows. A partner's
# (and the operator's) rows are made with it; a client has none of its own (no one is below it).
# Each (ancestor, stage) is spread over `slot`s (a client always uses the one its id hashes to),
# so concurrent changes under one channel rarely wait on the same row lock; readers sum the slots.
client_counts = Table(
    "client_counts",
    metadata,
    Column("ancestor_id", String(ID), ForeignKey("accounts.id"), primary_key=True),
    Column("stage", String(16), primary_key=True),
    Column("slot", Integer, primary_key=True),
    Column("n", BigInteger, nullable=False, server_default="0"),
)

holds = Table(
    "holds",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("account_id", String(ID), ForeignKey("accounts.id"), nullable=False, index=True),
    Column("reason", String(16), nullable=False),
    Column("note", Text, nullable=False, server_default=""),
    Column("placed_at", TS, nullable=False),
    Column("placed_by", String(320), nullable=False),
    # The account of whoever placed it (the operator for the worker): only it or an ancestor lifts it.
    Column("placed_by_account", String(ID), ForeignKey("accounts.id"), nullable=False),
    Column("lifted_at", TS, nullable=True),
    Column("lifted_by", String(320), nullable=True),
    # One hold per reason in force: the database refuses a second, whatever races.
    Index("uq_holds_in_force", "account_id", "reason", unique=True, **_partial("lifted_at IS NULL")),  # type: ignore[arg-type]
)

events = Table(
    "events",
    metadata,
    Column("id", BIGID, primary_key=True, autoincrement=True),
    Column("account_id", String(ID), ForeignKey("accounts.id"), nullable=False),
    Column("at", TS, nullable=False),
    Column("actor", String(320), nullable=False),
    Column("action", String(32), nullable=False),
    Column("reason", String(200), nullable=True),
    Column("before", JSON, nullable=False),
    Column("after", JSON, nullable=False),
    Index("ix_events_account", "account_id", "id"),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", BIGID, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False),  # "email", "webhook", "radius" or "cascade"
    Column("topic", String(64), nullable=False),  # the event type or email template
    # no foreign key (docs/decisions.md "Outbox rows without a foreign key"): every writer takes the
    # id from an account row it has just read, accounts are never deleted, and the key's trigger
    # cost a lookup per queued row; nothing filters the outbox by account, so no index either
    Column("account_id", String(ID), nullable=False),
    Column("recipient", String(320), nullable=True),
    Column("payload", JSON, nullable=False),
    Column("created_at", TS, nullable=False),
    Column("status", String(16), nullable=False, server_default="pending"),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", TS, nullable=False),
    Column("last_error", Text, nullable=True),
    Column("sent_at", TS, nullable=True),
    # kind "radius": the session a `radius.disconnect` notice cuts (radius_sessions.id)
    Column("radius_session_id", BIGID, nullable=True),
    # a notice expanded from a cascade job (kind "cascade", adapters/db/cascades.py): its shared
    # context (email context, webhook data) is the job's payload, stored once; its own payload is {}
    Column("cascade_id", BIGID, nullable=True),
    # the worker's queues: due emails and due webhook events, each in order
    Index("ix_outbox_due", "kind", "next_attempt_at", "id", **_partial("status = 'pending'")),  # type: ignore[arg-type]
)

users = Table(
    "users",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("email", String(320), nullable=False, unique=True),
    Column("password_hash", String(256), nullable=False),
    Column("account_id", String(ID), ForeignKey("accounts.id"), nullable=False, index=True),
    Column("role", String(16), nullable=False),
    Column("created_at", TS, nullable=False),
    # A console session carries the generation it was signed in under; signing out, a new
    # password or a deletion moves it on, so every older cookie stops working at once.
    Column("session_generation", Integer, nullable=False, server_default="0"),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("user_id", String(ID), ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", TS, nullable=False),
    Column("expires_at", TS, nullable=False),
    Column("revoked_at", TS, nullable=True),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("account_id", String(ID), ForeignKey("accounts.id"), nullable=False, index=True),
    Column("name", String(100), nullable=False),
    Column("scopes", JSON, nullable=False),
    Column("key_hash", String(64), nullable=False, unique=True),  # SHA-256 of the key; the key itself is never stored
    Column("created_at", TS, nullable=False),
    Column("created_by", String(320), nullable=False),
    Column("last_used_at", TS, nullable=True),
    Column("revoked_at", TS, nullable=True),
    Column("revoked_by", String(320), nullable=True),
)

login_failures = Table(
    "login_failures",
    metadata,
    Column("id", BIGID, primary_key=True, autoincrement=True),
    Column("email", String(320), nullable=False),
    Column("at", TS, nullable=False),
    Index("ix_login_failures_email_at", "email", "at"),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("user_id", String(ID), primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("request_hash", String(64), nullable=False),
    Column("status_code", Integer, nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", TS, nullable=False),
)

offices = Table(
    "offices",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("floor", String(50), nullable=True),
    Column("capacity", Integer, nullable=True),
    Column("created_at", TS, nullable=False),
)

office_assignments = Table(
    "office_assignments",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("office_id", String(ID), ForeignKey("offices.id"), nullable=False),
    Column("account_id", String(ID), ForeignKey("accounts.id"), nullable=False, index=True),
    Column("assigned_at", TS, nullable=False),
    Column("released_at", TS, nullable=True),
    # One holder at a time, enforced by the database.
    Index("uq_office_held", "office_id", unique=True, **_partial("released_at IS NULL")),  # type: ignore[arg-type]
)

services = Table(
    "services",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("account_id", String(ID), ForeignKey("accounts.id"), nullable=False, index=True),
    Column("kind", String(16), nullable=False),
    Column("label", String(200), nullable=False),
    Column("monthly_price_cents", BigInteger, nullable=False),  # exact money, no float anywhere
    Column("start_date", Date, nullable=False),
    Column("end_date", Date, nullable=True),  # set when removed; the removal day is billed
    Column("created_at", TS, nullable=False),
    # The RADIUS User-Name of an internet or Wi-Fi service (api.md "Services").
    Column("network_id", String(253), nullable=True),
    # A number is held by one client at a time, enforced by the database.
    Index(
        "uq_services_number_held",
        "label",
        unique=True,
        **_partial("kind = 'phone_number' AND end_date IS NULL"),  # type: ignore[arg-type]
    ),
    # A network id names one service of its kind that has not ended, enforced by the database.
    Index(
        "uq_services_network_id_held",
        "network_id",
        "kind",
        unique=True,
        **_partial("network_id IS NOT NULL AND end_date IS NULL"),  # type: ignore[arg-type]
    ),
)

# The RADIUS clients (NAS) Tenure sends Disconnect-Requests to; the shared secret is Fernet-encrypted.
nas = Table(
    "nas",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("ip", String(45), nullable=False, unique=True),
    Column("secret_encrypted", Text, nullable=False),
    Column("coa_port", Integer, nullable=False),
    Column("created_at", TS, nullable=False),
    Column("created_by", String(320), nullable=False),
)

# Sessions reported by RADIUS accounting; one row per (NAS, Acct-Session-Id).
radius_sessions = Table(
    "radius_sessions",
    metadata,
    Column("id", BIGID, primary_key=True, autoincrement=True),
    Column("acct_session_id", String(253), nullable=False),
    Column("nas_ip", String(45), nullable=False),
    Column("user_name", String(253), nullable=False),
    Column("framed_ip", String(45), nullable=True),
    Column("service_id", String(ID), ForeignKey("services.id"), nullable=True),
    Column("account_id", String(ID), ForeignKey("accounts.id"), nullable=True),
    Column("state", String(16), nullable=False),
    Column("started_at", TS, nullable=True),  # null: a Stop arrived without a Start
    Column("last_update_at", TS, nullable=False),
    Column("stopped_at", TS, nullable=True),
    Column("disconnect_error", Text, nullable=True),
    UniqueConstraint("nas_ip", "acct_session_id", name="uq_radius_sessions_nas_session"),
    # a loss of `internet` finds the open sessions of the accounts it affects
    Index("ix_radius_sessions_account", "account_id", "state"),
    Index("ix_radius_sessions_service", "service_id"),
    Index("ix_radius_sessions_state", "state", "id"),
)
# PostgreSQL only: `?q=` with the start of a number (`LIKE '+4420794%'`, number_search.py).
# text_pattern_ops serves a prefix LIKE whatever the database's collation; SQLite answers the
# same search with a range on uq_services_number_held (BINARY collation) and needs no second index.
Index(
    "ix_services_number_prefix",
    services.c.label,
    postgresql_ops={"label": "text_pattern_ops"},
    **_partial("kind = 'phone_number' AND end_date IS NULL"),  # type: ignore[arg-type]
).ddl_if(dialect="postgresql")

webhooks = Table(
    "webhooks",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("account_id", String(ID), ForeignKey("accounts.id"), nullable=False, index=True),
    Column("url", String(2000), nullable=False),
    Column("events", JSON, nullable=False),
    Column("secret", String(200), nullable=False),
    Column("created_at", TS, nullable=False),
    Column("created_by", String(320), nullable=False),
    # Created by a partner's admin: deliveries go only to globally routable addresses
    # (or TENURE_WEBHOOK_ALLOWED_NETWORKS), checked again after DNS on every attempt.
    Column("public_only", Boolean, nullable=False, server_default=text("false")),
)

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", BIGID, primary_key=True, autoincrement=True),
    Column("webhook_id", String(ID), ForeignKey("webhooks.id", ondelete="CASCADE"), nullable=False),
    Column("outbox_id", BIGID, ForeignKey("outbox.id"), nullable=False),
    Column("message_id", String(64), nullable=False),  # the `webhook-id` header, the same on every attempt
    Column("status", String(16), nullable=False, server_default="pending"),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", TS, nullable=False),
    Column("last_error", Text, nullable=True),
    Column("created_at", TS, nullable=False),
    Column("delivered_at", TS, nullable=True),
    UniqueConstraint("webhook_id", "outbox_id", name="uq_webhook_deliveries_once"),
    Index("ix_webhook_deliveries_due", "next_attempt_at", "id", **_partial("status = 'pending'")),  # type: ignore[arg-type]
)
