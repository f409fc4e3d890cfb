"""The outbox -> Kafka -> inbox path on the real broker and database, with its faults.

Checklist rows 2 (relay dies after the broker acked), 5 (consumer dies mid-handler) and
7 (poison message), plus the round trip across two processes.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from socialseed.bus import EventConsumer, EventMeta, Inbox, make_broker
from socialseed.contracts import UserRegistered
from socialseed.db import Database
from socialseed.outbox import OutboxRelay
from socialseed.testing import Infra
from tests.bus.conftest import (
    ConsumerProcess,
    add_event,
    apply_sentinel_after,
    effect_count,
    lag,
    read_topic,
    wait_for_effects,
)
from tests.bus.schema import effects, inbox
from tests.bus.schema import outbox as bus_outbox
from tests.conftest import make_user


async def register(url: str) -> str:
    async with httpx.AsyncClient(base_url=url) as client:
        r = await client.post(
            "/api/v1/auth/register",
            json={
                "email": f"bus-{uuid.uuid4().hex[:10]}@example.com",
                "password": "a long enough passphrase",
                "name": "Bus",
            },
        )
        assert r.status_code == 201, r.text
        return str(r.json()["id"])


async def copies_on_topic(bootstrap: str, topic: str, event_id: str) -> int:
    """How many messages on the topic carry this CloudEvents id."""
    records = await read_topic(bootstrap, topic)
    return sum(1 for r in records if dict(r.headers).get("ce_id") == event_id.encode())


async def test_round_trip_across_two_processes(
    api: httpx.AsyncClient,
    infra: Infra,
    bus_db: Database,
    consumers: list[ConsumerProcess],
    bus_db_url: str,
) -> None:
    consumer = ConsumerProcess(infra, bus_db_url, group=f"bus-{uuid.uuid4().hex[:8]}")
    consumers.append(consumer)
    await consumer.wait_for("READY")
    user = await make_user(api)  # auth (this process) writes the outbox, its relay publishes
    assert await wait_for_effects(bus_db, user.id) == 1
    await apply_sentinel_after(bus_db, infra.kafka_bootstrap, key=str(user.id))
    assert await effect_count(bus_db, user.id) == 1


class CrashAfterAck(OutboxRelay):
    """A relay that dies after the broker acknowledged the batch, before marking it sent."""

    async def mark_sent(self, session: AsyncSession, ids: list[int]) -> None:
        raise RuntimeError("relay killed between broker ack and mark-sent")


async def test_relay_killed_after_ack_redelivers_and_applies_once(
    infra: Infra, bus_db: Database, consumers: list[ConsumerProcess], bus_db_url: str
) -> None:
    # The test's own outbox (bustest.outbox): no service relay competes for its rows.
    user_id = uuid.uuid4()
    event_id = await add_event(bus_db, user_id)
    row_filter = bus_outbox.c.event_id == event_id

    crashing = CrashAfterAck(bus_db, bus_outbox, infra.kafka_bootstrap)
    await crashing.start()
    try:
        with pytest.raises(RuntimeError, match="killed between broker ack"):
            await crashing.relay_once()
    finally:
        await crashing.stop()
    assert await copies_on_topic(infra.kafka_bootstrap, "user.registered", str(event_id)) == 1
    async with bus_db.transaction() as session:
        row = (await session.execute(bus_outbox.select().where(row_filter))).one()
    assert row.sent_at is None  # the crash lost the mark, not the event

    relay = OutboxRelay(bus_db, bus_outbox, infra.kafka_bootstrap)
    await relay.start()
    try:
        assert await relay.relay_once() == 1
    finally:
        await relay.stop()
    async with bus_db.transaction() as session:
        row = (await session.execute(bus_outbox.select().where(row_filter))).one()
    assert row.sent_at is not None
    assert await copies_on_topic(infra.kafka_bootstrap, "user.registered", str(event_id)) == 2

    consumer = ConsumerProcess(infra, bus_db_url, group=f"bus-{uuid.uuid4().hex[:8]}")
    consumers.append(consumer)
    await consumer.wait_for("READY")
    assert await wait_for_effects(bus_db, user_id) >= 1
    # Both copies precede the sentinel on the partition: once it is applied, so were they.
    await apply_sentinel_after(bus_db, infra.kafka_bootstrap, key=str(user_id))
    assert await effect_count(bus_db, user_id) == 1


async def test_consumer_killed_mid_handler_is_redelivered_once(
    api: httpx.AsyncClient,
    infra: Infra,
    bus_db: Database,
    consumers: list[ConsumerProcess],
    bus_db_url: str,
) -> None:
    group = f"bus-{uuid.uuid4().hex[:8]}"
    # Everything already on the topic is consumed by a first, healthy consumer...
    warm = ConsumerProcess(infra, bus_db_url, group=group)
    consumers.append(warm)
    await warm.wait_for("READY")
    marker = await make_user(api)
    await warm.wait_for(f"HANDLING {marker.id}")
    warm.stop()
    # ...then one that stalls inside the handler of the next event, and is killed there.
    victim = await make_user(api)
    stalling = ConsumerProcess(infra, bus_db_url, group=group, stall_user=victim.id)
    consumers.append(stalling)
    await stalling.wait_for(f"HANDLING {victim.id}")
    stalling.kill()
    assert await effect_count(bus_db, victim.id) == 0  # its transaction died with it

    again = ConsumerProcess(infra, bus_db_url, group=group)
    consumers.append(again)
    await again.wait_for(f"HANDLING {victim.id}", timeout=90)
    assert await wait_for_effects(bus_db, victim.id) == 1
    await apply_sentinel_after(bus_db, infra.kafka_bootstrap, key=str(victim.id))
    assert await effect_count(bus_db, victim.id) == 1


async def test_same_event_delivered_concurrently_has_one_effect(bus_db: Database) -> None:
    """At the inbox level: N concurrent deliveries of one event id have one effect."""
    user_id, event_id = uuid.uuid4(), uuid.uuid4()
    box = Inbox(inbox)

    async def deliver() -> None:
        async with bus_db.transaction() as session:
            if await box.claim(session, "concurrency-test", event_id):
                await session.execute(effects.insert().values(event_id=event_id, user_id=user_id))
                await asyncio.sleep(0.2)  # hold the claim while the others arrive

    await asyncio.gather(*(deliver() for _ in range(8)))
    assert await effect_count(bus_db, user_id) == 1


async def test_poison_goes_to_dlq_and_partition_keeps_moving(
    infra: Infra, bus_db: Database
) -> None:
    group = f"bus-{uuid.uuid4().hex[:8]}"
    broker = make_broker(infra.kafka_bootstrap, client_id=group)
    consumer = EventConsumer(
        broker, bus_db, Inbox(inbox), group_id=group, max_attempts=3, backoff_initial=0.01
    )
    failing_user = uuid.uuid4()
    attempts: list[uuid.UUID] = []

    @consumer.handler(UserRegistered)
    async def handle(event: UserRegistered, session: AsyncSession, meta: EventMeta) -> None:
        if event.user_id == failing_user:
            attempts.append(event.user_id)
            raise RuntimeError("handler keeps failing")
        await session.execute(effects.insert().values(event_id=meta.id, user_id=event.user_id))

    key = f"poison-{uuid.uuid4().hex[:6]}".encode()  # one key: one partition, in order
    good_user = uuid.uuid4()

    def headers(event_id: str | None = None) -> list[tuple[str, bytes]]:
        h = {
            "ce_specversion": "1.0",
            "ce_type": UserRegistered.type_name(),
            "ce_source": "/tests",
            "ce_time": "2026-11-21T00:00:00+00:00",
        }
        if event_id:
            h["ce_id"] = event_id
        return [(k, v.encode()) for k, v in h.items()]

    def valid(user: uuid.UUID) -> bytes:
        return json.dumps(
            {
                "user_id": str(user),
                "email": "p@example.com",
                "name": "P",
                "registered_at": "2026-11-21T00:00:00Z",
            }
        ).encode()

    producer = AIOKafkaProducer(bootstrap_servers=infra.kafka_bootstrap)
    await producer.start()
    try:
        sent = [
            await producer.send_and_wait(
                "user.registered", b"{not json", key=key, headers=headers(str(uuid.uuid4()))
            ),
            await producer.send_and_wait(
                "user.registered", valid(good_user), key=key, headers=headers(None)
            ),
            await producer.send_and_wait(
                "user.registered", valid(failing_user), key=key, headers=headers(str(uuid.uuid4()))
            ),
            await producer.send_and_wait(
                "user.registered", valid(good_user), key=key, headers=headers(str(uuid.uuid4()))
            ),
        ]
    finally:
        await producer.stop()
    partition = sent[0].partition
    assert {m.partition for m in sent} == {partition}

    await broker.start()
    try:
        assert await wait_for_effects(bus_db, good_user) == 1
    finally:
        await consumer.close()
        await broker.stop()
    assert len(attempts) == 3  # bounded retries

    parked = [
        r for r in await read_topic(infra.kafka_bootstrap, "user.registered.dlq") if r.key == key
    ]
    reasons = [dict(r.headers)["x-dlq-reason"].decode() for r in parked]
    assert len(parked) == 3, reasons
    assert "PoisonMessage" in reasons[0] and "PoisonMessage" in reasons[1]
    assert "RuntimeError" in reasons[2]

    # Lag 0: the group committed past every message of the partition.
    assert await lag(infra.kafka_bootstrap, group, "user.registered", partition) == 0


async def test_three_relays_publish_everything_in_per_key_order(
    infra: Infra, bus_db: Database
) -> None:
    """Concurrent relays: every outbox row published once, per-key order kept."""
    keys = [uuid.uuid4() for _ in range(8)]
    per_key = 25
    for seq in range(per_key):  # interleaved, one transaction per event, as real writes come
        for key in keys:
            await add_event(bus_db, key, f"seq-{seq}")
    relays = [
        OutboxRelay(bus_db, bus_outbox, infra.kafka_bootstrap, batch_size=7) for _ in range(3)
    ]
    for relay in relays:
        await relay.start()

    async def unsent() -> int:
        async with bus_db.transaction() as session:
            query = select(func.count()).where(
                bus_outbox.c.sent_at.is_(None), bus_outbox.c.key.in_([str(k) for k in keys])
            )
            return int((await session.execute(query)).scalar_one())

    async def drain(relay: OutboxRelay) -> None:
        # A relay finding only keys that others hold gets 0 and tries again.
        while await unsent():
            if not await relay.relay_once():
                await asyncio.sleep(0.01)

    try:
        await asyncio.gather(*(drain(r) for r in relays))
    finally:
        for relay in relays:
            await relay.stop()

    wanted = {str(k) for k in keys}
    seen: dict[str, list[int]] = {k: [] for k in wanted}
    for rec in await read_topic(infra.kafka_bootstrap, "user.registered"):
        if rec.key and rec.key.decode() in wanted:
            name = json.loads(rec.value)["name"]
            seen[rec.key.decode()].append(int(name.removeprefix("seq-")))
    for key, seqs in seen.items():
        assert seqs == list(range(per_key)), key


async def test_records_faststream_cannot_parse_are_dead_lettered(
    infra: Infra, bus_db: Database
) -> None:
    """A null or non-UTF-8 header value and a non-JSON body declared as JSON fail inside
    FastStream, before any handler: they must be parked on the DLQ, not skipped silently."""
    group = f"bus-{uuid.uuid4().hex[:8]}"
    broker = make_broker(infra.kafka_bootstrap, client_id=group)
    consumer = EventConsumer(broker, bus_db, Inbox(inbox), group_id=group, backoff_initial=0.01)

    @consumer.handler(UserRegistered)
    async def handle(event: UserRegistered, session: AsyncSession, meta: EventMeta) -> None:
        await session.execute(effects.insert().values(event_id=meta.id, user_id=event.user_id))

    key = f"malformed-{uuid.uuid4().hex[:6]}".encode()
    good_user = uuid.uuid4()

    def headers(**extra: bytes | None) -> list[tuple[str, bytes | None]]:
        h: dict[str, bytes | None] = {
            "ce_specversion": b"1.0",
            "ce_id": str(uuid.uuid4()).encode(),
            "ce_type": UserRegistered.type_name().encode(),
            "ce_source": b"/tests",
        }
        return list((h | extra).items())

    def body(user: uuid.UUID) -> bytes:
        return (
            UserRegistered(
                user_id=user, email="m@example.com", name="M", registered_at=datetime.now(UTC)
            )
            .model_dump_json()
            .encode()
        )

    producer = AIOKafkaProducer(bootstrap_servers=infra.kafka_bootstrap)
    await producer.start()
    try:
        sent = [
            await producer.send_and_wait(
                "user.registered", body(uuid.uuid4()), key=key, headers=headers(x_note=None)
            ),
            await producer.send_and_wait(
                "user.registered", body(uuid.uuid4()), key=key, headers=headers(x_note=b"\xff\xfe")
            ),
            await producer.send_and_wait(
                "user.registered",
                b"\x00not json",
                key=key,
                headers=headers(**{"content-type": b"application/json"}),
            ),
            await producer.send_and_wait(
                "user.registered", body(good_user), key=key, headers=headers()
            ),
        ]
    finally:
        await producer.stop()
    partition = sent[0].partition

    await broker.start()
    try:
        assert await wait_for_effects(bus_db, good_user) == 1
    finally:
        await consumer.close()
        await broker.stop()

    parked = [
        r for r in await read_topic(infra.kafka_bootstrap, "user.registered.dlq") if r.key == key
    ]
    reasons = [dict(r.headers)["x-dlq-reason"].decode() for r in parked]
    assert len(parked) == 3, reasons
    assert all("PoisonMessage" in reason for reason in reasons), reasons
    assert [r.value for r in parked][2] == b"\x00not json"  # the original bytes are kept

    assert await lag(infra.kafka_bootstrap, group, "user.registered", partition) == 0
