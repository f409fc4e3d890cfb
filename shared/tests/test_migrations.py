"""The shared migration helpers are frozen: each one's DDL, as PostgreSQL receives it, is pinned
here. Migrations replay these helpers on every new database, so a change to one would rewrite
history; a change to the tables is a new helper (``..._v2``) and a new migration instead."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from alembic.migration import MigrationContext
from alembic.operations import Operations

from socialseed import migrations

OUTBOX_V1 = """
CREATE TABLE svc.outbox (
    id BIGSERIAL NOT NULL,
    event_id UUID NOT NULL,
    topic VARCHAR(200) NOT NULL,
    key VARCHAR(200) NOT NULL,
    headers JSONB NOT NULL,
    payload JSONB NOT NULL,
    created_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
    sent_at TIMESTAMP WITH TIME ZONE,
    CONSTRAINT pk_outbox PRIMARY KEY (id),
    CONSTRAINT uq_outbox_event_id UNIQUE (event_id)
);
CREATE INDEX ix_outbox_unsent ON svc.outbox (id) WHERE sent_at IS NULL;
"""
OUTBOX_PARKING_V1 = """
ALTER TABLE svc.outbox ADD COLUMN attempts INTEGER DEFAULT '0' NOT NULL;
ALTER TABLE svc.outbox ADD COLUMN last_error TEXT;
ALTER TABLE svc.outbox ADD COLUMN parked_at TIMESTAMP WITH TIME ZONE;
"""
INBOX_V1 = """
CREATE TABLE svc.inbox (
    consumer VARCHAR(200) NOT NULL,
    event_id UUID NOT NULL,
    processed_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
    CONSTRAINT pk_inbox PRIMARY KEY (consumer, event_id)
);
"""
DROP_V1 = """
DROP TABLE svc.inbox;
DROP INDEX svc.ix_outbox_unsent;
DROP TABLE svc.outbox;
"""

Helper = Callable[[Operations, str | None], None]


def ddl(helper: Helper, schema: str | None = "svc") -> str:
    """The SQL ``helper`` sends (alembic's offline mode), one statement line per line."""
    out = io.StringIO()
    context = MigrationContext.configure(
        dialect_name="postgresql", opts={"as_sql": True, "output_buffer": out}
    )
    helper(Operations(context), schema)
    return "\n".join(line.rstrip() for line in out.getvalue().splitlines() if line.strip())


@pytest.mark.parametrize(
    ("helper", "expected"),
    [
        (migrations.create_outbox_v1, OUTBOX_V1),
        (migrations.add_outbox_parking_v1, OUTBOX_PARKING_V1),
        (migrations.create_inbox_v1, INBOX_V1),
        (migrations.create_outbox_and_inbox_v1, OUTBOX_V1 + OUTBOX_PARKING_V1 + INBOX_V1),
        (migrations.drop_outbox_and_inbox_v1, DROP_V1),
    ],
    ids=lambda v: getattr(v, "__name__", "ddl"),
)
def test_a_helper_sends_exactly_its_pinned_ddl(helper: Helper, expected: str) -> None:
    assert ddl(helper) == "\n".join(line for line in expected.splitlines() if line.strip())


def test_without_a_schema_the_tables_go_to_the_search_path() -> None:
    sql = ddl(migrations.create_outbox_and_inbox_v1, None)
    assert "CREATE TABLE outbox (" in sql and "CREATE TABLE inbox (" in sql
    assert "svc." not in sql
