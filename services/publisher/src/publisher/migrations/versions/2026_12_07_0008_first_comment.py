"""first comment: each target's comment on its own published post, posted exactly once

``targets.comment_status``: null (no first comment), ``pending`` (due once the post is
published), ``posting`` (claimed: a worker is at the platform until ``comment_due_at``, its
lease), ``posted`` (``comment_id``), ``in_doubt`` (the answer was lost: the platform is asked
before anything is posted again), ``failed`` (``comment_error`` says why). The partial index
serves the comment runner's question: which comments are due.

Revision ID: 0008_first_comment
Revises: 0007_drafts_and_alt_text
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_first_comment"
down_revision = "0007_drafts_and_alt_text"
branch_labels = None
depends_on = None

COLUMNS = (
    sa.Column("comment_status", sa.String(16), nullable=True),
    sa.Column("comment_id", sa.String(200), nullable=True),
    sa.Column("comment_error", sa.Text(), nullable=True),
    sa.Column("comment_due_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("comment_attempts", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("comment_started_at", sa.DateTime(timezone=True), nullable=True),
)


def upgrade() -> None:
    for column in COLUMNS:
        op.add_column("targets", column, schema="publisher")
    op.create_index(
        "ix_targets_comment_due",
        "targets",
        ["comment_due_at"],
        schema="publisher",
        postgresql_where=sa.text("comment_status IN ('pending', 'posting', 'in_doubt')"),
    )


def downgrade() -> None:
    op.drop_index("ix_targets_comment_due", table_name="targets", schema="publisher")
    for column in reversed(COLUMNS):
        op.drop_column("targets", column.name, schema="publisher")
