"""outbox parking: rows the broker keeps refusing are parked, not retried forever

Revision ID: 0003_outbox_parking
Revises: 0002_invitations
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_outbox_parking"
down_revision = "0002_invitations"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("outbox", sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
    op.add_column("outbox", sa.Column("last_error", sa.Text()))
    op.add_column("outbox", sa.Column("parked_at", sa.DateTime(timezone=True)))


def downgrade() -> None:
    op.drop_column("outbox", "parked_at")
    op.drop_column("outbox", "last_error")
    op.drop_column("outbox", "attempts")
