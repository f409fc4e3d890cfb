"""initial: posts, targets, attempts, media, workspace and account projections, outbox, inbox

Revision ID: 0001_initial
Revises:
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from socialseed.migrations import create_outbox_and_inbox_v1, drop_outbox_and_inbox_v1

revision: str = "0001_initial"
down_revision: str | None = None
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("username", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
        schema="publisher",
    )
    op.create_index(
        op.f("ix_publisher_accounts_workspace_id"),
        "accounts",
        ["workspace_id"],
        unique=False,
        schema="publisher",
    )
    create_outbox_and_inbox_v1(op, schema="publisher")
    op.create_table(
        "media",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("uploaded_by", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("mime_type", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("duration_s", sa.Float(), nullable=True),
        sa.Column("codec", sa.String(length=32), nullable=True),
        sa.Column("storage_key", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_media")),
        schema="publisher",
    )
    op.create_index(
        op.f("ix_publisher_media_workspace_id"),
        "media",
        ["workspace_id"],
        unique=False,
        schema="publisher",
    )
    op.create_table(
        "member_changes",
        sa.Column("workspace_id", sa.UUID(), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("workspace_id", "user_id", name=op.f("pk_member_changes")),
        schema="publisher",
    )
    op.create_index(
        "ix_member_changes_user_changed",
        "member_changes",
        ["user_id", "changed_at"],
        unique=False,
        schema="publisher",
    )
    op.create_table(
        "posts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("author_id", sa.Uuid(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("media_ids", postgresql.ARRAY(sa.Uuid()), nullable=False),
        sa.Column("scheduled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("approval", sa.String(length=16), nullable=False),
        sa.Column("reviewed_by", sa.Uuid(), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rejection_reason", sa.Text(), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_posts")),
        schema="publisher",
    )
    op.create_index(
        "ix_posts_calendar",
        "posts",
        ["workspace_id", "scheduled_at", "id"],
        unique=False,
        schema="publisher",
    )
    op.create_table(
        "workspaces",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("require_approval", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workspaces")),
        schema="publisher",
    )
    op.create_table(
        "targets",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("post_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("media_ids", postgresql.ARRAY(sa.Uuid()), nullable=True),
        sa.Column("options", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("progress", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("dispatches", sa.Integer(), nullable=False),
        sa.Column("platform_post_id", sa.String(length=200), nullable=True),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("error_class", sa.String(length=32), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["post_id"],
            ["publisher.posts.id"],
            name=op.f("fk_targets_post_id_posts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_targets")),
        schema="publisher",
    )
    op.create_index(
        op.f("ix_publisher_targets_workspace_id"),
        "targets",
        ["workspace_id"],
        unique=False,
        schema="publisher",
    )
    op.create_index(
        "ix_targets_account_published",
        "targets",
        ["account_id", "published_at"],
        unique=False,
        schema="publisher",
    )
    op.create_index(
        "ix_targets_due",
        "targets",
        ["due_at"],
        unique=False,
        schema="publisher",
        postgresql_where=sa.text("status IN ('scheduled', 'waiting', 'in_doubt')"),
    )
    op.create_table(
        "attempts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("target_id", sa.Uuid(), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("platform_status", sa.Integer(), nullable=True),
        sa.Column("platform_code", sa.String(length=64), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["target_id"],
            ["publisher.targets.id"],
            name=op.f("fk_attempts_target_id_targets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attempts")),
        schema="publisher",
    )
    op.create_index(
        op.f("ix_publisher_attempts_target_id"),
        "attempts",
        ["target_id"],
        unique=False,
        schema="publisher",
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_publisher_attempts_target_id"), table_name="attempts", schema="publisher"
    )
    op.drop_table("attempts", schema="publisher")
    op.drop_index(
        "ix_targets_due",
        table_name="targets",
        schema="publisher",
        postgresql_where=sa.text("status IN ('scheduled', 'waiting', 'in_doubt')"),
    )
    op.drop_index("ix_targets_account_published", table_name="targets", schema="publisher")
    op.drop_index(
        op.f("ix_publisher_targets_workspace_id"), table_name="targets", schema="publisher"
    )
    op.drop_table("targets", schema="publisher")
    op.drop_table("workspaces", schema="publisher")
    op.drop_index("ix_posts_calendar", table_name="posts", schema="publisher")
    op.drop_table("posts", schema="publisher")
    drop_outbox_and_inbox_v1(op, schema="publisher")
    op.drop_index("ix_member_changes_user_changed", table_name="member_changes", schema="publisher")
    op.drop_table("member_changes", schema="publisher")
    op.drop_index(op.f("ix_publisher_media_workspace_id"), table_name="media", schema="publisher")
    op.drop_table("media", schema="publisher")
    op.drop_index(
        op.f("ix_publisher_accounts_workspace_id"), table_name="accounts", schema="publisher"
    )
    op.drop_table("accounts", schema="publisher")
