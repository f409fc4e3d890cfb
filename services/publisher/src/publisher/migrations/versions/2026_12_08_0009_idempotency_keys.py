"""idempotency keys: the first answer to a create sent with an Idempotency-Key

One row per (workspace, caller, key), written in the create's transaction; ``created_at`` is
indexed for the purge of rows past the retention (24 h).

Revision ID: 0009_idempotency_keys
Revises: 0008_first_comment
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0009_idempotency_keys"
down_revision = "0008_first_comment"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "idempotency_keys",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("caller_id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("body", postgresql.JSONB(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("workspace_id", "caller_id", "key", name="pk_idempotency_keys"),
        schema="publisher",
    )
    op.create_index(
        "ix_idempotency_keys_created_at", "idempotency_keys", ["created_at"], schema="publisher"
    )


def downgrade() -> None:
    op.drop_table("idempotency_keys", schema="publisher")
