"""A throwaway consumer schema for the bus tests: an inbox and a table of side effects."""

from sqlalchemy import Column, DateTime, Integer, MetaData, Table, Uuid, func

from socialseed.contracts import UserRegistered
from socialseed.db import NAMING_CONVENTION
from socialseed.outbox import inbox_table, outbox_table

metadata = MetaData(schema="bustest", naming_convention=NAMING_CONVENTION)
inbox = inbox_table(metadata)
outbox = outbox_table(metadata)
# No unique constraint on purpose: a second application of one event shows up as a 2nd row.
effects = Table(
    "effects",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("event_id", Uuid, nullable=False),
    Column("user_id", Uuid, nullable=False),
    Column("at", DateTime(timezone=True), server_default=func.now()),
)


def probe_event(topic: str) -> type[UserRegistered]:
    """UserRegistered on a topic of the test's own (ce_type ``io.socialseed.<topic>``): nothing
    else is on it, so the test knows what each batch holds."""
    return type("Probe", (UserRegistered,), {"topic": topic, "__module__": __name__})
