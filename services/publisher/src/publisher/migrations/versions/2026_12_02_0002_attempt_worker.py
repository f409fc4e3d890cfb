"""attempt worker: which worker process (host/pid) made each attempt

Revision ID: 0002_attempt_worker
Revises: 0001_initial
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_attempt_worker"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("attempts", sa.Column("worker", sa.String(length=200)), schema="publisher")


def downgrade() -> None:
    op.drop_column("attempts", "worker", schema="publisher")
