"""cascade jobs: notices expanded after the commit share their job's context (issue 13 §3)

Revision ID: 0009_cascade
Revises: 0008_activated_on

A partner's suspension or unsuspension commits one outbox row of kind
"cascade"; the worker expands it into per-account notices that point back to
it through `outbox.cascade_id` instead of copying its context.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_cascade"
down_revision = "0008_activated_on"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("cascade_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("cascade_id")
