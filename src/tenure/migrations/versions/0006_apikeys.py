"""API keys for network equipment, and the credentials version caches compare

Revision ID: 0006_apikeys
Revises: 0005_hygiene
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import tenure.adapters.db.tables

revision = "0006_apikeys"
down_revision = "0005_hygiene"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("site", schema=None) as batch_op:
        batch_op.add_column(sa.Column("credentials_version", sa.Integer(), server_default="1", nullable=False))
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("account_id", sa.String(length=26), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", tenure.adapters.db.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=320), nullable=False),
        sa.Column("last_used_at", tenure.adapters.db.tables.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", tenure.adapters.db.tables.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.String(length=320), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name=op.f("fk_api_keys_account_id_accounts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_api_keys_key_hash")),
    )
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_keys_account_id"), ["account_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_keys_account_id"))
    op.drop_table("api_keys")
    with op.batch_alter_table("site", schema=None) as batch_op:
        batch_op.drop_column("credentials_version")
