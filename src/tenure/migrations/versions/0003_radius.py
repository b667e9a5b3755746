"""RADIUS: services' network ids, the NAS registry, sessions, disconnect notices

Revision ID: 0003_radius
Revises: 0002_sessions
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import tenure.adapters.db.tables

revision = "0003_radius"
down_revision = "0002_sessions"
branch_labels = None
depends_on = None

_TS = tenure.adapters.db.tables.UTCDateTime(timezone=True)
_BIGID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_NETWORK_ID_HELD = "network_id IS NOT NULL AND end_date IS NULL"


def upgrade() -> None:
    with op.batch_alter_table("services", schema=None) as batch_op:
        batch_op.add_column(sa.Column("network_id", sa.String(length=253), nullable=True))
        batch_op.create_index(
            "uq_services_network_id_held",
            ["network_id", "kind"],
            unique=True,
            sqlite_where=sa.text(_NETWORK_ID_HELD),
            postgresql_where=sa.text(_NETWORK_ID_HELD),
        )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("radius_session_id", _BIGID, nullable=True))
    op.create_table(
        "nas",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("ip", sa.String(length=45), nullable=False),
        sa.Column("secret_encrypted", sa.Text(), nullable=False),
        sa.Column("coa_port", sa.Integer(), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("created_by", sa.String(length=320), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_nas")),
        sa.UniqueConstraint("ip", name=op.f("uq_nas_ip")),
        sa.UniqueConstraint("name", name=op.f("uq_nas_name")),
    )
    op.create_table(
        "radius_sessions",
        sa.Column("id", _BIGID, autoincrement=True, nullable=False),
        sa.Column("acct_session_id", sa.String(length=253), nullable=False),
        sa.Column("nas_ip", sa.String(length=45), nullable=False),
        sa.Column("user_name", sa.String(length=253), nullable=False),
        sa.Column("framed_ip", sa.String(length=45), nullable=True),
        sa.Column("service_id", sa.String(length=26), nullable=True),
        sa.Column("account_id", sa.String(length=26), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("started_at", _TS, nullable=True),
        sa.Column("last_update_at", _TS, nullable=False),
        sa.Column("stopped_at", _TS, nullable=True),
        sa.Column("disconnect_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name=op.f("fk_radius_sessions_account_id_accounts")),
        sa.ForeignKeyConstraint(["service_id"], ["services.id"], name=op.f("fk_radius_sessions_service_id_services")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_radius_sessions")),
        sa.UniqueConstraint("nas_ip", "acct_session_id", name="uq_radius_sessions_nas_session"),
    )
    with op.batch_alter_table("radius_sessions", schema=None) as batch_op:
        batch_op.create_index("ix_radius_sessions_account", ["account_id", "state"], unique=False)
        batch_op.create_index("ix_radius_sessions_service", ["service_id"], unique=False)
        batch_op.create_index("ix_radius_sessions_state", ["state", "id"], unique=False)


def downgrade() -> None:
    op.drop_table("radius_sessions")
    op.drop_table("nas")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("radius_session_id")
    with op.batch_alter_table("services", schema=None) as batch_op:
        batch_op.drop_index("uq_services_network_id_held")
        batch_op.drop_column("network_id")
