"""budgets: account_limits (per-account lock and rate-limit block), platform_windows (app-wide
calls per fixed window)

Revision ID: 0003_budgets
Revises: 0002_attempt_worker
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_budgets"
down_revision: str | None = "0002_attempt_worker"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "account_limits",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("blocked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_account_limits")),
        schema="publisher",
    )
    op.create_table(
        "platform_windows",
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("calls", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("platform", "window_start", name=op.f("pk_platform_windows")),
        schema="publisher",
    )


def downgrade() -> None:
    op.drop_table("platform_windows", schema="publisher")
    op.drop_table("account_limits", schema="publisher")
