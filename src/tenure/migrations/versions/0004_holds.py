"""holds record the account that placed them (issue 10, lifecycle.md §3 "Who may act")

Revision ID: 0004_holds
Revises: 0003_radius

Every hold gets `placed_by_account`. Holds placed before this change were
placed by someone with the operator's reach (the worker, or a user acting
from above); not knowing who, they are recorded as the operator's, the
strictest choice: only the operator's users may lift them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_holds"
down_revision = "0003_radius"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("holds", schema=None) as batch_op:
        batch_op.add_column(sa.Column("placed_by_account", sa.String(length=26), nullable=True))
    op.execute(
        "UPDATE holds SET placed_by_account = (SELECT operator_id FROM site WHERE id = 1) "
        "WHERE placed_by_account IS NULL"
    )
    with op.batch_alter_table("holds", schema=None) as batch_op:
        batch_op.alter_column("placed_by_account", existing_type=sa.String(length=26), nullable=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_holds_placed_by_account_accounts"), "accounts", ["placed_by_account"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("holds", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_holds_placed_by_account_accounts"), type_="foreignkey")
        batch_op.drop_column("placed_by_account")
