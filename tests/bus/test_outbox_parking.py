"""A row the broker refuses (a missing topic, an oversize message) is parked after a bounded
number of attempts, with its reason; every other key keeps flowing meanwhile."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from socialseed import telemetry
from socialseed.db import Database
from socialseed.outbox import OutboxRelay
from socialseed.testing import Infra
from tests.bus.conftest import add_event
from tests.bus.schema import outbox as bus_outbox


async def _write(db: Database, *, topic: str, key: str, size: int = 10) -> uuid.UUID:
    event_id = uuid.uuid4()
    async with db.transaction() as session:
        await session.execute(
            bus_outbox.insert().values(
                event_id=event_id,
                topic=topic,
                key=key,
                headers={"ce_id": str(event_id)},
                payload={"blob": "x" * size},
            )
        )
    return event_id


async def _row(db: Database, event_id: uuid.UUID) -> dict[str, object]:
    async with db.transaction() as session:
        row = (
            await session.execute(select(bus_outbox).where(bus_outbox.c.event_id == event_id))
        ).one()
        return dict(row._mapping)


def _parked(topic: str) -> float:
    return telemetry.OUTBOX_PARKED.labels(topic=topic)._value.get()


async def test_refused_rows_are_parked_and_other_keys_keep_flowing(
    infra: Infra, bus_db: Database
) -> None:
    missing = f"no.such.topic.{uuid.uuid4().hex[:6]}"
    before = _parked(missing), _parked("user.registered")
    key = str(uuid.uuid4())
    bad_topic = await _write(bus_db, topic=missing, key=key)
    same_key_later = await add_event(bus_db, uuid.UUID(key))  # same key, a healthy row
    oversize = await _write(bus_db, topic="user.registered", key="big", size=2_000_000)
    other_key = await add_event(bus_db, uuid.uuid4())
    relay = OutboxRelay(bus_db, bus_outbox, infra.kafka_bootstrap, max_attempts=2)
    await relay.start()
    try:
        for _ in range(4):  # more turns than attempts: parked rows are not tried again
            await relay.relay_once()
    finally:
        await relay.stop()

    for healthy in (same_key_later, other_key):
        assert (await _row(bus_db, healthy))["sent_at"] is not None
    refused_topic, refused_size = await _row(bus_db, bad_topic), await _row(bus_db, oversize)
    for row in (refused_topic, refused_size):
        assert row["sent_at"] is None and row["parked_at"] is not None
        assert row["attempts"] == 2  # counted twice, then left alone
    assert "UnknownTopicOrPartition" in str(refused_topic["last_error"])
    assert "TooLarge" in str(refused_size["last_error"])
    assert (_parked(missing), _parked("user.registered")) == (before[0] + 1, before[1] + 1)
