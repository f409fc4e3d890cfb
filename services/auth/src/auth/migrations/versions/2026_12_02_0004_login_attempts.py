"""login attempts: the login throttle's counts, shared by every auth process

Revision ID: 0004_login_attempts
Revises: 0003_outbox_parking
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_login_attempts"
down_revision = "0003_outbox_parking"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "login_attempts",
        sa.Column("id", sa.BigInteger(), primary_key=True, autoincrement=True),
        sa.Column("key_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_login_attempts_key_hash_at", "login_attempts", ["key_hash", "at"])
    op.create_index("ix_login_attempts_at", "login_attempts", ["at"])


def downgrade() -> None:
    op.drop_table("login_attempts")
