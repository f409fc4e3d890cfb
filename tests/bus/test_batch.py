"""Batch consumers on the real broker and database: a partition's messages in one transaction,
with the same exactly-once effect as one by one. Each test has a one-partition topic of its
own, so it knows which messages arrive together."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from socialseed import telemetry
from socialseed.bus import EventConsumer, EventMeta, Inbox, dlq_topic, make_broker
from socialseed.contracts import UserRegistered
from socialseed.db import Database
from socialseed.testing import Infra
from tests.bus.conftest import (
    ConsumerProcess,
    ce_headers,
    effect_count,
    fresh_topic,
    lag,
    publish,
    read_topic,
    registered_body,
    wait_for_effects,
)
from tests.bus.schema import effects, inbox, probe_event

Batches = list[list[uuid.UUID]]  # the user ids each handler call got


@pytest.fixture
async def topic(infra: Infra) -> str:
    return await fresh_topic(infra.kafka_bootstrap)


def record(event_type: str, user: uuid.UUID, event_id: uuid.UUID) -> tuple[bytes, list]:
    return registered_body(user), ce_headers(event_type, event_id)


@pytest.fixture
async def batch_consumer(
    infra: Infra, bus_db: Database, topic: str
) -> AsyncIterator[tuple[EventConsumer, Batches, set[uuid.UUID]]]:
    """A batch consumer of ``topic`` (started by the test) whose handler records each batch,
    applies it, and fails on any batch holding a user id put in the returned set."""
    group = f"batch-{uuid.uuid4().hex[:8]}"
    broker = make_broker(infra.kafka_bootstrap, client_id=group)
    consumer = EventConsumer(
        broker, bus_db, Inbox(inbox), group_id=group, max_attempts=2, backoff_initial=0.01
    )
    batches: Batches = []
    failing: set[uuid.UUID] = set()

    @consumer.batch_handler(probe_event(topic), max_records=100)
    async def handle(events: list[tuple[UserRegistered, EventMeta]], session: AsyncSession) -> None:
        batches.append([event.user_id for event, _ in events])
        if failing & {event.user_id for event, _ in events}:
            raise RuntimeError("handler fails on this user")
        await session.execute(
            effects.insert(), [{"event_id": m.id, "user_id": e.user_id} for e, m in events]
        )

    yield consumer, batches, failing
    await consumer.close()
    await broker.stop()


async def wait_for_lag(bootstrap: str, group: str, topic: str, *, at_most: int) -> None:
    deadline = time.monotonic() + 30
    while await lag(bootstrap, group, topic, 0) > at_most:
        assert time.monotonic() < deadline, "offsets never committed"
        await asyncio.sleep(0.1)


def consumed(group: str, topic: str, outcome: str) -> float:
    return telemetry.EVENTS_CONSUMED.labels(group, topic, outcome)._value.get()


async def test_poison_in_a_batch_is_dead_lettered_alone_and_the_rest_commit(
    infra: Infra,
    bus_db: Database,
    topic: str,
    batch_consumer: tuple[EventConsumer, Batches, set[uuid.UUID]],
) -> None:
    consumer, batches, failing = batch_consumer
    event_type = probe_event(topic).type_name()
    good = [uuid.uuid4() for _ in range(4)]
    bad = uuid.uuid4()
    failing.add(bad)
    await publish(
        infra.kafka_bootstrap,
        topic,
        [
            record(event_type, good[0], uuid.uuid4()),
            record(event_type, good[1], uuid.uuid4()),
            record(event_type, bad, uuid.uuid4()),  # the handler fails on it
            (b"{not json", ce_headers(event_type, uuid.uuid4())),  # cannot be decoded
            record(event_type, good[2], uuid.uuid4()),
            record(event_type, good[3], uuid.uuid4()),
        ],
    )
    await consumer.broker.start()
    assert await wait_for_effects(bus_db, good[3]) == 1
    await consumer.close()

    assert batches[0] == [*good[:2], bad, *good[2:]]  # tried together first, then alone
    for user in good:
        assert await effect_count(bus_db, user) == 1
    assert batches[1:].count([bad]) == 2  # max_attempts alone
    parked = await read_topic(infra.kafka_bootstrap, dlq_topic(topic))
    reasons = [dict(r.headers)["x-dlq-reason"].decode() for r in parked]
    assert len(parked) == 2, reasons
    assert "RuntimeError" in reasons[0] and "PoisonMessage" in reasons[1]
    assert parked[1].value == b"{not json"
    assert await lag(infra.kafka_bootstrap, consumer.group_id, topic, 0) == 0
    assert consumed(consumer.group_id, topic, "processed") == 4
    assert consumed(consumer.group_id, topic, "dead_lettered") == 2


async def test_redelivered_ids_are_skipped_by_the_one_inbox_insert(
    infra: Infra,
    bus_db: Database,
    topic: str,
    batch_consumer: tuple[EventConsumer, Batches, set[uuid.UUID]],
) -> None:
    consumer, batches, _ = batch_consumer
    event_type = probe_event(topic).type_name()
    users = [uuid.uuid4() for _ in range(4)]
    ids = [uuid.uuid4() for _ in users]
    async with bus_db.transaction() as session:  # users[2]'s event was applied before
        assert await consumer.inbox.claim(session, consumer.group_id, ids[2])
    await publish(
        infra.kafka_bootstrap,
        topic,
        [
            record(event_type, users[0], ids[0]),
            record(event_type, users[1], ids[1]),
            record(event_type, users[0], ids[0]),  # a second copy in the same batch
            record(event_type, users[2], ids[2]),
            record(event_type, users[3], ids[3]),
        ],
    )
    await consumer.broker.start()
    assert await wait_for_effects(bus_db, users[3]) == 1
    await consumer.close()

    assert batches == [[users[0], users[1], users[3]]]
    for user in (users[0], users[1]):
        assert await effect_count(bus_db, user) == 1
    assert await effect_count(bus_db, users[2]) == 0
    assert consumed(consumer.group_id, topic, "duplicate") == 2
    assert await lag(infra.kafka_bootstrap, consumer.group_id, topic, 0) == 0


async def test_consumer_killed_mid_batch_redelivers_and_applies_each_event_once(
    infra: Infra,
    bus_db: Database,
    bus_db_url: str,
    topic: str,
    consumers: list[ConsumerProcess],
) -> None:
    event_type = probe_event(topic).type_name()
    users = [uuid.uuid4() for _ in range(20)]
    victim = users[12]  # in the third batch of five
    await publish(
        infra.kafka_bootstrap, topic, [record(event_type, u, uuid.uuid4()) for u in users]
    )
    group = f"batch-{uuid.uuid4().hex[:8]}"
    stalling = ConsumerProcess(
        infra, bus_db_url, group=group, stall_user=str(victim), topic=topic, batch=5
    )
    consumers.append(stalling)
    await stalling.wait_for(f"HANDLING {victim}")
    # The two batches before it are committed; killed once that is visible (a consumer that
    # committed the victim's batch before applying it would have committed it by then too).
    await wait_for_lag(infra.kafka_bootstrap, group, topic, at_most=len(users) - 10)
    stalling.kill()
    for user in users[:10]:  # the two batches before were applied
        assert await effect_count(bus_db, user) == 1
    for user in users[10:15]:  # the victim's batch died with its transaction
        assert await effect_count(bus_db, user) == 0

    again = ConsumerProcess(infra, bus_db_url, group=group, topic=topic, batch=5)
    consumers.append(again)
    await again.wait_for("READY")
    sentinel = uuid.uuid4()  # after everything else on the partition
    await publish(infra.kafka_bootstrap, topic, [record(event_type, sentinel, uuid.uuid4())])
    assert await wait_for_effects(bus_db, sentinel, timeout=90) == 1
    for user in users:
        assert await effect_count(bus_db, user) == 1
