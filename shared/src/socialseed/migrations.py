"""DDL that every service's migrations share: the outbox and the inbox (``socialseed.outbox``).

Frozen: a migration replays a helper's DDL forever (a new database, a test's), so once a
migration calls a helper, the helper never changes — not a column, not a name, not a default.
A later change to these tables is a new migration in each service calling a new helper
(``..._v2``) written beside the old one. ``shared/tests/test_migrations.py`` pins the DDL of
each helper as SQL text, so an edit to one fails there first.

Constraints are named explicitly (``pk_outbox``, ``uq_outbox_event_id``, ``pk_inbox``), so the
DDL does not depend on the calling service's naming convention; ``schema=None`` creates the
tables in the migration's search path (the service's schema).

A new service's initial migration calls :func:`create_outbox_and_inbox_v1`.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic.operations import Operations
from sqlalchemy.dialects import postgresql

_TS = sa.DateTime(timezone=True)


def create_outbox_v1(op: Operations, schema: str | None = None) -> None:
    """The outbox as first created (2026-11-21): events written in the business transaction,
    sent by the relay (``sent_at``); the unsent rows indexed."""
    op.create_table(
        "outbox",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("topic", sa.String(200), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("headers", postgresql.JSONB(), nullable=False),
        sa.Column("payload", postgresql.JSONB(), nullable=False),
        sa.Column("created_at", _TS, server_default=sa.text("now()"), nullable=False),
        sa.Column("sent_at", _TS, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
        sa.UniqueConstraint("event_id", name="uq_outbox_event_id"),
        schema=schema,
    )
    op.create_index(
        "ix_outbox_unsent",
        "outbox",
        ["id"],
        schema=schema,
        postgresql_where=sa.text("sent_at IS NULL"),
    )


def add_outbox_parking_v1(op: Operations, schema: str | None = None) -> None:
    """Parking (2026-12-01): a row the broker keeps refusing counts its ``attempts``, keeps
    its ``last_error`` and is parked (``parked_at``) instead of retried forever."""
    op.add_column(
        "outbox",
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        schema=schema,
    )
    op.add_column("outbox", sa.Column("last_error", sa.Text(), nullable=True), schema=schema)
    op.add_column("outbox", sa.Column("parked_at", _TS, nullable=True), schema=schema)


def create_inbox_v1(op: Operations, schema: str | None = None) -> None:
    """The inbox (2026-12-01): the event ids each consumer has applied (deduplication)."""
    op.create_table(
        "inbox",
        sa.Column("consumer", sa.String(200), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("processed_at", _TS, server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("consumer", "event_id", name="pk_inbox"),
        schema=schema,
    )


def create_outbox_and_inbox_v1(op: Operations, schema: str | None = None) -> None:
    """Today's outbox (with parking) and inbox, for a service's initial migration."""
    create_outbox_v1(op, schema)
    add_outbox_parking_v1(op, schema)
    create_inbox_v1(op, schema)


def drop_outbox_and_inbox_v1(op: Operations, schema: str | None = None) -> None:
    """The downgrade of :func:`create_outbox_and_inbox_v1`."""
    op.drop_table("inbox", schema=schema)
    op.drop_index("ix_outbox_unsent", table_name="outbox", schema=schema)
    op.drop_table("outbox", schema=schema)
