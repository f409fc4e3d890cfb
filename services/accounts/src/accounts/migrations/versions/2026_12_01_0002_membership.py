"""membership: inbox and member_changes (auth's workspace membership events)

Revision ID: 0002_membership
Revises: 0001_initial
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from socialseed.migrations import create_inbox_v1

revision: str = "0002_membership"
down_revision: str | None = "0001_initial"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    create_inbox_v1(op)
    op.create_table(
        "member_changes",
        sa.Column("workspace_id", sa.Uuid(), primary_key=True),
        sa.Column("user_id", sa.Uuid(), primary_key=True),
        sa.Column("role", sa.String(20)),
        sa.Column("changed_at", TS, nullable=False),
    )
    op.create_index("ix_member_changes_user_changed", "member_changes", ["user_id", "changed_at"])


def downgrade() -> None:
    op.drop_table("member_changes")
    op.drop_table("inbox")
