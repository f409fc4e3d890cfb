"""budget shares: what each workspace took of an app-wide budget in its current window, so
that one workspace cannot spend every tenant's share (``analytics.sync.budgets``)

Revision ID: 0005_budget_shares
Revises: 0004_gap_index
Create Date: 2026-12-02
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005_budget_shares"
down_revision: str | None = "0004_gap_index"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.execute("""
CREATE TABLE analytics.budget_shares (
    bucket VARCHAR(200) NOT NULL,
    workspace_id UUID NOT NULL,
    window_start TIMESTAMP WITH TIME ZONE NOT NULL,
    used INTEGER DEFAULT '0' NOT NULL,
    updated_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
    CONSTRAINT pk_budget_shares PRIMARY KEY (bucket, workspace_id)
)
""")


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS analytics.budget_shares")
