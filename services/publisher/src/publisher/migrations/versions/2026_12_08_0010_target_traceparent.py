"""target traceparent: the trace of the request that scheduled a target

``targets.traceparent`` (W3C, nullable): the dispatcher's ``post.publish_requested`` command
continues it, so one trace runs from the request through the worker to the platform.

Revision ID: 0010_target_traceparent
Revises: 0009_idempotency_keys
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_target_traceparent"
down_revision = "0009_idempotency_keys"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "targets", sa.Column("traceparent", sa.String(55), nullable=True), schema="publisher"
    )


def downgrade() -> None:
    op.drop_column("targets", "traceparent", schema="publisher")
