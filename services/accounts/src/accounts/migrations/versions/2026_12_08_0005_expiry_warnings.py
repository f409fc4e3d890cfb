"""expiry warnings: the grant end an account was last warned of (``account.token_expiring``
is sent once per grant)

Revision ID: 0005_expiry_warnings
Revises: 0004_accounts_by_status
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_expiry_warnings"
down_revision = "0004_accounts_by_status"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("accounts", sa.Column("expiry_warned_for", sa.DateTime(timezone=True)))


def downgrade() -> None:
    op.drop_column("accounts", "expiry_warned_for")
