"""initial: accounts, oauth_states, outbox

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from socialseed.migrations import create_outbox_v1

revision: str = "0001_initial"
down_revision: str | None = None
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("platform_user_id", sa.String(128), nullable=False),
        sa.Column("username", sa.String(200), nullable=False),
        sa.Column("display_name", sa.String(300), nullable=False),
        sa.Column("avatar_url", sa.Text()),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("connected_by", sa.Uuid(), nullable=False),
        sa.Column("connected_at", TS, server_default=sa.func.now(), nullable=False),
        sa.Column("access_token_enc", sa.LargeBinary()),
        sa.Column("refresh_token_enc", sa.LargeBinary()),
        sa.Column("scopes", postgresql.ARRAY(sa.String()), nullable=False),
        sa.Column("token_expires_at", TS),
        sa.Column("refresh_expires_at", TS),
        sa.Column("token_refreshed_at", TS),
        sa.Column("followers", sa.Integer()),
        sa.Column("following", sa.Integer()),
        sa.Column("post_count", sa.Integer()),
        sa.Column("last_synced_at", TS),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text()),
        sa.Column("last_error_at", TS),
        sa.Column("rate_limited_until", TS),
        sa.UniqueConstraint(
            "workspace_id", "platform", "platform_user_id", name="uq_account_identity"
        ),
        sa.CheckConstraint(
            "status IN ('active','reauth_required','disconnected')", name="status_known"
        ),
    )
    op.create_index("ix_accounts_workspace_id", "accounts", ["workspace_id"])
    op.create_index(
        "ix_accounts_refresh_due",
        "accounts",
        ["token_expires_at"],
        postgresql_where=sa.text("status = 'active'"),
    )
    op.create_table(
        "oauth_states",
        sa.Column("state_hash", sa.LargeBinary(32), primary_key=True),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("code_verifier_enc", sa.LargeBinary()),
        sa.Column("callback_uri", sa.Text(), nullable=False),
        sa.Column("return_to", sa.Text()),
        sa.Column("created_at", TS, server_default=sa.func.now(), nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("used_at", TS),
    )
    create_outbox_v1(op)


def downgrade() -> None:
    for table in ("outbox", "oauth_states", "accounts"):
        op.drop_table(table)
