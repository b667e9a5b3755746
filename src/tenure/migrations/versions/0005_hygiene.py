"""Billing refs unique in any letter case (a unique index on lower(billing_ref)).

Revision ID: 0005_hygiene
Revises: 0004_holds
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_hygiene"
down_revision = "0004_holds"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # An installation holding two refs that differ only in case must rename one first: the
    # index cannot be built over them, and the migration stops with the database's message.
    op.create_index("uq_accounts_billing_ref_lower", "accounts", [sa.text("lower(billing_ref)")], unique=True)


def downgrade() -> None:
    op.drop_index("uq_accounts_billing_ref_lower", table_name="accounts")
