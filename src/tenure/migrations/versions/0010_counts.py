"""clients per (ancestor, stage): the Clients page counts without reading every client

Revision ID: 0010_counts
Revises: 0009_cascade
Create Date: 2026-11-28 11:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_counts"
down_revision = "0009_cascade"
branch_labels = None
depends_on = None

SLOTS = 8  # adapters/db/counts.py
STAGES = ("new", "scheduled", "active", "decommissioned")


def upgrade() -> None:
    op.create_table(
        "client_counts",
        sa.Column("ancestor_id", sa.String(length=26), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("slot", sa.Integer(), nullable=False),
        sa.Column("n", sa.BigInteger(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(["ancestor_id"], ["accounts.id"], name=op.f("fk_client_counts_ancestor_id_accounts")),
        sa.PrimaryKeyConstraint("ancestor_id", "stage", "slot", name=op.f("pk_client_counts")),
    )
    _backfill()


def _backfill() -> None:
    """Zeroed rows for every account but clients, then slot 0 set to the clients below it per stage."""
    grid = " UNION ALL ".join(f"SELECT '{stage}' AS stage, {slot} AS slot" for stage in STAGES for slot in range(SLOTS))
    op.execute(
        "INSERT INTO client_counts (ancestor_id, stage, slot, n) "
        f"SELECT a.id, g.stage, g.slot, 0 FROM accounts a CROSS JOIN ({grid}) g WHERE a.kind <> 'client'"
    )
    op.execute(
        "UPDATE client_counts SET n = ("
        "SELECT count(*) FROM account_ancestors aa JOIN accounts c ON c.id = aa.account_id "
        "WHERE aa.ancestor_id = client_counts.ancestor_id AND aa.depth > 0 "
        "AND c.kind = 'client' AND c.stage = client_counts.stage"
        ") WHERE slot = 0"
    )


def downgrade() -> None:
    op.drop_table("client_counts")
