"""partners in name order; search by the main contact's email and the start of a held number

Revision ID: 0007_console_partners
Revises: 0006_apikeys
Create Date: 2026-11-28 08:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_console_partners"
down_revision = "0006_apikeys"
branch_labels = None
depends_on = None

HELD = "kind = 'phone_number' AND end_date IS NULL"


PARTNERS = "kind <> 'client'"


def upgrade() -> None:
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_accounts_partners_sort",
            ["sort_key", "id"],
            unique=False,
            sqlite_where=sa.text(PARTNERS),
            postgresql_where=sa.text(PARTNERS),
        )
    # SQLite scans for a substring anyway and finds number prefixes with uq_services_number_held.
    if op.get_bind().dialect.name != "postgresql":
        return
    op.create_index(
        "ix_accounts_contact_email_trgm",
        "accounts",
        ["contact_email"],
        unique=False,
        postgresql_using="gin",
        postgresql_ops={"contact_email": "gin_trgm_ops"},
    )
    op.create_index(
        "ix_accounts_contact_email_prefix",
        "accounts",
        [sa.text("lower(contact_email) text_pattern_ops")],
        unique=False,
    )
    op.create_index(
        "ix_services_number_prefix",
        "services",
        ["label"],
        unique=False,
        postgresql_ops={"label": "text_pattern_ops"},
        postgresql_where=sa.text(HELD),
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_services_number_prefix", table_name="services", postgresql_where=sa.text(HELD))
        op.drop_index("ix_accounts_contact_email_prefix", table_name="accounts")
        op.drop_index("ix_accounts_contact_email_trgm", table_name="accounts")
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_accounts_partners_sort", sqlite_where=sa.text(PARTNERS), postgresql_where=sa.text(PARTNERS)
        )
