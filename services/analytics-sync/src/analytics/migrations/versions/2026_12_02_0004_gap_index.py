"""gap index: the tracked posts whose last fetch left a gap, so that the ingester clears a
gap with a probe into this (small) index instead of reading every fetched post's row

Revision ID: 0004_gap_index
Revises: 0003_read_api
Create Date: 2026-12-02
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004_gap_index"
down_revision: str | None = "0003_read_api"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "CREATE INDEX ix_tracked_posts_gap ON analytics.tracked_posts (id) WHERE gap IS NOT NULL"
    )


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS analytics.ix_tracked_posts_gap")
