"""sync traceparent: a sync keeps the W3C traceparent of the refresh request that asked for it,
so the fetches of its posts continue that request's trace

Revision ID: 0010_sync_traceparent
Revises: 0009_post_totals_daily
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010_sync_traceparent"
down_revision: str | None = "0009_post_totals_daily"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    # Null for syncs asked for before this column (and outside any trace): their fetches
    # start traces of their own, as before.
    op.execute("ALTER TABLE analytics.syncs ADD COLUMN traceparent varchar(55)")


def downgrade() -> None:
    op.execute("ALTER TABLE analytics.syncs DROP COLUMN traceparent")
