"""The bus's own metrics on the real broker: a consumer's lag (high watermark minus committed
offset) while its handler is held and once it caught up; a dead-lettered message counted."""

from __future__ import annotations

import asyncio
import json
import time
import uuid

from aiokafka import AIOKafkaProducer
from prometheus_client import REGISTRY
from sqlalchemy.ext.asyncio import AsyncSession

from socialseed.bus import EventConsumer, EventMeta, Inbox, make_broker
from socialseed.contracts import UserRegistered
from socialseed.db import Database
from socialseed.testing import Infra
from tests.bus.conftest import read_topic
from tests.bus.schema import effects, inbox

TOPIC = "user.registered"


def headers() -> list[tuple[str, bytes]]:
    h = {
        "ce_specversion": "1.0",
        "ce_id": str(uuid.uuid4()),
        "ce_type": UserRegistered.type_name(),
        "ce_source": "/tests",
        "ce_time": "2026-11-21T00:00:00+00:00",
    }
    return [(k, v.encode()) for k, v in h.items()]


def body(user: uuid.UUID) -> bytes:
    return json.dumps(
        {
            "user_id": str(user),
            "email": "m@example.com",
            "name": "M",
            "registered_at": "2026-11-21T00:00:00Z",
        }
    ).encode()


async def test_consumer_lag_and_dead_letters_are_reported(infra: Infra, bus_db: Database) -> None:
    group = f"bus-metrics-{uuid.uuid4().hex[:8]}"
    broker = make_broker(infra.kafka_bootstrap, client_id=group)
    consumer = EventConsumer(
        broker, bus_db, Inbox(inbox), group_id=group, max_attempts=1, backoff_initial=0.01
    )
    held_user, last_user = uuid.uuid4(), uuid.uuid4()
    entered, release = asyncio.Event(), asyncio.Event()

    @consumer.handler(UserRegistered)
    async def handle(event: UserRegistered, session: AsyncSession, meta: EventMeta) -> None:
        if event.user_id == held_user:
            entered.set()
            await release.wait()
        await session.execute(effects.insert().values(event_id=meta.id, user_id=event.user_id))

    key = f"lag-{uuid.uuid4().hex[:6]}".encode()  # one key: one partition, in order
    producer = AIOKafkaProducer(bootstrap_servers=infra.kafka_bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(TOPIC, body(held_user), key=key, headers=headers())
        await producer.send_and_wait(TOPIC, b"{not json", key=key, headers=headers())
        await producer.send_and_wait(TOPIC, body(last_user), key=key, headers=headers())
    finally:
        await producer.stop()

    labels = {"consumer": group, "topic": TOPIC}

    def lag() -> float | None:
        return REGISTRY.get_sample_value("socialseed_consumer_lag_messages", labels)

    await broker.start()
    try:
        await asyncio.wait_for(entered.wait(), 60)
        await consumer.report_lag()
        assert (lag() or 0) >= 3  # the held message and the two after it at least
        release.set()
        deadline = time.monotonic() + 60
        while True:  # caught up: every partition committed to its end
            await consumer.commits.flush()
            await consumer.report_lag()
            if lag() == 0:
                break
            assert time.monotonic() < deadline, f"lag still {lag()}"
            await asyncio.sleep(0.3)
    finally:
        release.set()
        await consumer.close()
        await broker.stop()
    # The group read the topic from its start (earlier tests' poison included): the counter
    # says as many as the dead-letter topic holds from this group, ours among them.
    parked = [
        r
        for r in await read_topic(infra.kafka_bootstrap, f"{TOPIC}.dlq")
        if dict(r.headers).get("x-dlq-consumer") == group.encode()
    ]
    assert any(r.key == key for r in parked)
    assert REGISTRY.get_sample_value("socialseed_dead_letters_total", labels) == len(parked)
