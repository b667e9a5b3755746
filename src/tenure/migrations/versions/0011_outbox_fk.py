"""outbox.account_id without a foreign key to accounts (issue 13 §3-4)

Revision ID: 0011_outbox_fk
Revises: 0010_counts

Every outbox writer takes `account_id` from an account row it has just read
and accounts are never deleted, so the key checked nothing that could fail,
while its trigger looked the account up once per queued row: ~45 % of a
cascade's fan-out. See docs/decisions.md "Outbox rows without a foreign key".
"""

from __future__ import annotations

from alembic import op

revision = "0011_outbox_fk"
down_revision = "0010_counts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("fk_outbox_account_id_accounts"), type_="foreignkey")


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_foreign_key(op.f("fk_outbox_account_id_accounts"), "accounts", ["account_id"], ["id"])
