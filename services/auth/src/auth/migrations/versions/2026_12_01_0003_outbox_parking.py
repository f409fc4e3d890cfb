"""outbox parking: rows the broker keeps refusing are parked, not retried forever

Revision ID: 0003_outbox_parking
Revises: 0002_invitations
"""

from alembic import op

from socialseed.migrations import add_outbox_parking_v1

revision = "0003_outbox_parking"
down_revision = "0002_invitations"
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_outbox_parking_v1(op)


def downgrade() -> None:
    op.drop_column("outbox", "parked_at")
    op.drop_column("outbox", "last_error")
    op.drop_column("outbox", "attempts")
