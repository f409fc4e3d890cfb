"""deliveries retention: an index of finished deliveries by age, for the purge

Revision ID: 0002_deliveries_retention
Revises: 0001_initial
Create Date: 2026-12-11
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_deliveries_retention"
down_revision: str | None = "0001_initial"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_deliveries_finished_created",
        "deliveries",
        ["created_at"],
        postgresql_where=sa.text("status <> 'pending'"),
    )


def downgrade() -> None:
    op.drop_index("ix_deliveries_finished_created", table_name="deliveries")
