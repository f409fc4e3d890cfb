"""account problems: why an account's last fetch was refused for good (a permission not
granted, say), in words, and when; cleared by its next fetch that works

Revision ID: 0007_account_problems
Revises: 0006_shared_budgets
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007_account_problems"
down_revision: str | None = "0006_shared_budgets"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "ALTER TABLE analytics.accounts ADD COLUMN problem text, ADD COLUMN problem_at timestamptz"
    )


def downgrade() -> None:
    op.execute("ALTER TABLE analytics.accounts DROP COLUMN problem, DROP COLUMN problem_at")
