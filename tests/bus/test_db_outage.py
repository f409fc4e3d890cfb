"""The consumer's database goes away while events arrive: nothing is dead-lettered, everything
is applied exactly once when it comes back."""

from __future__ import annotations

import asyncio
import time
import uuid

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from socialseed import telemetry
from socialseed.bus import EventConsumer, EventMeta, Inbox, make_broker
from socialseed.contracts import UserRegistered
from socialseed.db import Database
from socialseed.outbox import OutboxRelay
from socialseed.testing import Infra
from tests.bus.conftest import (
    CuttableProxy,
    add_event,
    effect_count,
    read_topic,
    wait_for_effects,
)
from tests.bus.schema import effects, inbox
from tests.bus.schema import outbox as bus_outbox


async def test_database_outage_holds_the_partition_and_loses_nothing(
    infra: Infra, bus_db: Database, bus_db_url: str
) -> None:
    proxy = CuttableProxy(infra.pg_host, infra.pg_port)
    await proxy.start()
    host_port = f"{infra.pg_host}:{infra.pg_port}"
    consumer_db = Database(bus_db_url.replace(host_port, f"127.0.0.1:{proxy.port}"), pool_size=4)
    group = f"outage-{uuid.uuid4().hex[:8]}"
    broker = make_broker(infra.kafka_bootstrap, client_id=group)
    consumer = EventConsumer(
        broker,
        consumer_db,
        Inbox(inbox),
        group_id=group,
        max_attempts=2,
        backoff_initial=0.05,
        infra_backoff_max=0.3,
    )

    @consumer.handler(UserRegistered)
    async def handle(event: UserRegistered, session: AsyncSession, meta: EventMeta) -> None:
        await session.execute(effects.insert().values(event_id=meta.id, user_id=event.user_id))

    relay = OutboxRelay(bus_db, bus_outbox, infra.kafka_bootstrap, poll_interval=0.1)
    retries = telemetry.CONSUMER_INFRA_RETRIES
    await relay.start()
    await broker.start()
    relay_task = asyncio.create_task(relay.run())
    try:
        warm = uuid.uuid4()
        await add_event(bus_db, warm)
        assert await wait_for_effects(bus_db, warm) == 1

        proxy.cut()
        users = [uuid.uuid4() for _ in range(5)]
        for user in users:
            await add_event(bus_db, user)
        # Poll until the consumer has retried on the dead database a few times.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            total = sum(
                s.value
                for m in retries.collect()
                for s in m.samples
                if s.labels.get("consumer") == group and s.name.endswith("_total")
            )
            if total >= 5:
                break
            await asyncio.sleep(0.1)
        assert total >= 5
        proxy.restore()

        sentinel = uuid.uuid4()
        await add_event(bus_db, sentinel)
        assert await wait_for_effects(bus_db, sentinel) == 1
        for user in users:
            assert await wait_for_effects(bus_db, user) == 1
        await add_event(bus_db, sentinel := uuid.uuid4())  # a later event: nothing applied twice
        assert await wait_for_effects(bus_db, sentinel) == 1
        for user in [warm, *users]:
            assert await effect_count(bus_db, user) == 1
    finally:
        relay_task.cancel()
        await asyncio.gather(relay_task, return_exceptions=True)
        await consumer.close()
        await broker.stop()
        await relay.stop()
        await consumer_db.dispose()
        await proxy.stop()
    dlq = await read_topic(infra.kafka_bootstrap, "user.registered.dlq")
    # This group reads the topic from the start, so other tests' poison messages reach its DLQ
    # too (rightly); none of this test's healthy events may.
    ours = {str(u).encode() for u in [warm, *users, sentinel]}
    assert not [
        r for r in dlq if dict(r.headers).get("x-dlq-consumer") == group.encode() and r.key in ours
    ]


async def test_a_pooled_connection_the_server_closed_is_replaced_at_checkout(
    infra: Infra, bus_db_url: str
) -> None:
    """The pool makes no round trip to check a connection out (no pre-ping): one whose server
    side closed while it sat in the pool (a restart, a cut network) is dropped at checkout,
    and the next request runs on a fresh connection instead of failing."""
    proxy = CuttableProxy(infra.pg_host, infra.pg_port)
    await proxy.start()
    db = Database(bus_db_url.replace(f":{infra.pg_port}/", f":{proxy.port}/"), pool_size=2)
    try:
        async with db.engine.connect() as conn:
            raw = await conn.get_raw_connection()
            pooled = raw.driver_connection
            assert await conn.scalar(text("SELECT 1")) == 1
        proxy.cut()
        proxy.restore()
        deadline = time.monotonic() + 30
        while not pooled.is_closed():  # asyncpg has read the EOF
            assert time.monotonic() < deadline, "the cut connection never closed"
            await asyncio.sleep(0.05)
        async with db.transaction() as session:  # fails with a disconnect if handed the old one
            assert (await session.execute(text("SELECT 2"))).scalar_one() == 2
    finally:
        await db.dispose()
        await proxy.stop()
