"""workspace names: the projection keeps a workspace's name (from ``workspace.updated``) so
that a report says whose it is

Revision ID: 0008_workspace_names
Revises: 0007_account_problems
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008_workspace_names"
down_revision: str | None = "0007_account_problems"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    # Null for workspaces last updated before this column: their next update fills it in.
    op.execute("ALTER TABLE analytics.workspaces ADD COLUMN name text")


def downgrade() -> None:
    op.execute("ALTER TABLE analytics.workspaces DROP COLUMN name")
