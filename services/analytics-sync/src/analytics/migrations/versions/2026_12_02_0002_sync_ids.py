"""sync ids: the sync a due post or account belongs to (a refresh), carried into its fetch

Revision ID: 0002_sync_ids
Revises: 0001_initial
Create Date: 2026-12-02
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002_sync_ids"
down_revision: str | None = "0001_initial"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.execute("ALTER TABLE analytics.tracked_posts ADD COLUMN sync_id UUID")
    op.execute("ALTER TABLE analytics.accounts ADD COLUMN sync_id UUID")


def downgrade() -> None:
    op.execute("ALTER TABLE analytics.accounts DROP COLUMN sync_id")
    op.execute("ALTER TABLE analytics.tracked_posts DROP COLUMN sync_id")
