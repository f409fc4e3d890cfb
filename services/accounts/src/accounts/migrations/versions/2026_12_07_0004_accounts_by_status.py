"""accounts by status: an index the metrics' count by platform and status reads alone

Revision ID: 0004_accounts_by_status
Revises: 0003_outbox_parking
"""

from alembic import op

revision = "0004_accounts_by_status"
down_revision = "0003_outbox_parking"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_accounts_platform_status", "accounts", ["platform", "status"])


def downgrade() -> None:
    op.drop_index("ix_accounts_platform_status", table_name="accounts")
