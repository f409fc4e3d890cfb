"""target indexes: a post's targets by post, and the dispatcher's due index with its leases

Loading a post's targets (every claim and every recorded outcome does) scanned the whole
targets table: there was no index on ``post_id``. The dispatcher asks for targets due in four
statuses, ``publishing`` among them (a lease that ran out), which the partial due index left
out, so it could not be used.

Revision ID: 0004_target_indexes
Revises: 0003_budgets
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_target_indexes"
down_revision = "0003_budgets"
branch_labels = None
depends_on = None

OPEN = "status IN ('scheduled', 'waiting', 'in_doubt', 'publishing')"
OPEN_BEFORE = "status IN ('scheduled', 'waiting', 'in_doubt')"


def upgrade() -> None:
    op.create_index("ix_targets_post", "targets", ["post_id"], schema="publisher")
    op.drop_index("ix_targets_due", table_name="targets", schema="publisher")
    op.create_index(
        "ix_targets_due", "targets", ["due_at"], schema="publisher", postgresql_where=sa.text(OPEN)
    )


def downgrade() -> None:
    op.drop_index("ix_targets_due", table_name="targets", schema="publisher")
    op.create_index(
        "ix_targets_due",
        "targets",
        ["due_at"],
        schema="publisher",
        postgresql_where=sa.text(OPEN_BEFORE),
    )
    op.drop_index("ix_targets_post", table_name="targets", schema="publisher")
