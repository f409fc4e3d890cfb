"""shared budgets: the publishing limits counted by the shared engine (``socialseed.budgets``)
in ``budgets`` / ``budget_shares``; account_limits, platform_windows and
platform_window_shares dropped (counters and blocks only: a block still running is lost, and
the platform's next 429 sets it again)

Revision ID: 0006_shared_budgets
Revises: 0005_platform_window_shares
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from socialseed.budgets import migration

revision: str = "0006_shared_budgets"
down_revision: str | None = "0005_platform_window_shares"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.drop_table("platform_window_shares", schema="publisher")
    op.drop_table("platform_windows", schema="publisher")
    op.drop_table("account_limits", schema="publisher")
    migration.create_tables(op, "publisher")


def downgrade() -> None:
    migration.drop_tables(op, "publisher")
    op.create_table(
        "account_limits",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("blocked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("account_id", name="pk_account_limits"),
        schema="publisher",
    )
    op.create_table(
        "platform_windows",
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("calls", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("platform", "window_start", name="pk_platform_windows"),
        schema="publisher",
    )
    op.create_table(
        "platform_window_shares",
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("calls", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("platform", "workspace_id", name="pk_platform_window_shares"),
        schema="publisher",
    )
