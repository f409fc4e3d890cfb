"""initial: endpoints, deliveries, member changes, outbox and inbox

Revision ID: 0001_initial
Revises:
Create Date: 2026-12-10
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from socialseed.migrations import create_outbox_and_inbox_v1

revision: str = "0001_initial"
down_revision: str | None = None
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "endpoints",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("url", sa.String(2048), nullable=False),
        sa.Column("description", sa.String(500), nullable=False),
        sa.Column("events", postgresql.ARRAY(sa.String(64)), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("disabled_reason", sa.Text()),
        sa.Column("secret", sa.LargeBinary(), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=False),
        sa.Column("created_at", TS, server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", TS, server_default=sa.func.now(), nullable=False),
        sa.Column("busy_until", TS),
    )
    op.create_index("ix_endpoints_workspace_id", "endpoints", ["workspace_id"])
    op.create_table(
        "deliveries",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column(
            "endpoint_id",
            sa.Uuid(),
            sa.ForeignKey(
                "endpoints.id", ondelete="CASCADE", name="fk_deliveries_endpoint_id_endpoints"
            ),
            nullable=False,
        ),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("webhook_id", sa.String(64), nullable=False),
        sa.Column("event_type", sa.String(64), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", TS),
        sa.Column("response_code", sa.Integer()),
        sa.Column("response_body", sa.Text()),
        sa.Column("duration_ms", sa.Integer()),
        sa.Column("error", sa.Text()),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("last_attempt_at", TS),
    )
    op.create_index(
        "ix_deliveries_endpoint_created", "deliveries", ["endpoint_id", "created_at", "id"]
    )
    op.create_index(
        "ix_deliveries_due",
        "deliveries",
        ["next_attempt_at"],
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_table(
        "member_changes",
        sa.Column("workspace_id", sa.Uuid(), primary_key=True),
        sa.Column("user_id", sa.Uuid(), primary_key=True),
        sa.Column("role", sa.String(20)),
        sa.Column("changed_at", TS, nullable=False),
    )
    op.create_index("ix_member_changes_user_changed", "member_changes", ["user_id", "changed_at"])
    create_outbox_and_inbox_v1(op, schema="webhooks")


def downgrade() -> None:
    for table in ("inbox", "outbox", "member_changes", "deliveries", "endpoints"):
        op.drop_table(table)
