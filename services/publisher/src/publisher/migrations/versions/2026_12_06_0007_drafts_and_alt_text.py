"""drafts and alt text: posts saved as drafts (with or without a time) and media alt text

``posts.has_time``: false for a draft saved without a time (its ``scheduled_at`` is then when
it was saved: its place in lists, never a due time). ``media.alt_text``: the description of an
image sent to the platforms that take one. Draft targets (status ``draft``) have no due time,
so the dispatcher's due index and query never see them.

Revision ID: 0007_drafts_and_alt_text
Revises: 0006_shared_budgets
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_drafts_and_alt_text"
down_revision = "0006_shared_budgets"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "posts",
        sa.Column("has_time", sa.Boolean(), nullable=False, server_default=sa.true()),
        schema="publisher",
    )
    op.add_column("media", sa.Column("alt_text", sa.Text(), nullable=True), schema="publisher")


def downgrade() -> None:
    op.drop_column("media", "alt_text", schema="publisher")
    op.drop_column("posts", "has_time", schema="publisher")
