"""sessions end on the server; partners' webhooks go only to public addresses

Revision ID: 0002_sessions
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_sessions"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("session_generation", sa.Integer(), server_default="0", nullable=False))
    with op.batch_alter_table("webhooks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("public_only", sa.Boolean(), server_default=sa.text("false"), nullable=False))
    # Subscriptions made before the rule: any not held by the operator's own account is a
    # partner's (or one of its clients'), so it gets the partner rule from now on.
    op.execute(
        "UPDATE webhooks SET public_only = true"
        " WHERE account_id NOT IN (SELECT operator_id FROM site WHERE operator_id IS NOT NULL)"
    )


def downgrade() -> None:
    with op.batch_alter_table("webhooks", schema=None) as batch_op:
        batch_op.drop_column("public_only")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("session_generation")
