"""read api: a per-workspace data version (bumped by the ingester, read into ETags) and the
indexes the analytics read API looks posts up by

Revision ID: 0003_read_api
Revises: 0002_sync_ids
Create Date: 2026-12-02
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003_read_api"
down_revision: str | None = "0002_sync_ids"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None

STATEMENTS = [
    # One row per workspace, rewritten by every ingested batch that names it: a fifth of each
    # page left free keeps the update on its page (HOT).
    """
CREATE TABLE analytics.data_versions (
    workspace_id UUID NOT NULL,
    version BIGINT NOT NULL,
    updated_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
    CONSTRAINT pk_data_versions PRIMARY KEY (workspace_id)
)
WITH (fillfactor = 80)
""",
    # An account's posts, newest first (keyset pages), and a publisher post's targets.
    """
CREATE INDEX ix_tracked_posts_account_published
    ON analytics.tracked_posts (account_id, published_at, id)
""",
    """
CREATE INDEX ix_tracked_posts_publisher_post
    ON analytics.tracked_posts (publisher_post_id)
    WHERE publisher_post_id IS NOT NULL
""",
]


def upgrade() -> None:
    for statement in STATEMENTS:
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS analytics.ix_tracked_posts_publisher_post")
    op.execute("DROP INDEX IF EXISTS analytics.ix_tracked_posts_account_published")
    op.execute("DROP TABLE IF EXISTS analytics.data_versions")
