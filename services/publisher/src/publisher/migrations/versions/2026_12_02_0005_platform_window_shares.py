"""platform window shares: each workspace's publishes in the current app-wide window of a
platform, so that one workspace cannot spend every tenant's app-wide limit
(``publisher.publishing.limits``)

Revision ID: 0005_platform_window_shares
Revises: 0004_target_indexes
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_platform_window_shares"
down_revision: str | None = "0004_target_indexes"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "platform_window_shares",
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("calls", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("platform", "workspace_id", name=op.f("pk_platform_window_shares")),
        schema="publisher",
    )


def downgrade() -> None:
    op.drop_table("platform_window_shares", schema="publisher")
