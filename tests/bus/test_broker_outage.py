"""Checklist rows 3 and 21: the broker goes away while events are produced.

Its own Kafka (so the other tests' broker stays up): the relay keeps rows while the broker is
down, then drains them in order once it is back, without losing or duplicating any. And a
process that starts while the broker is unreachable waits for it instead of failing to start.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from socialseed.bus import make_broker
from socialseed.db import Database
from socialseed.devstack.kafka import LocalKafka
from socialseed.outbox import OutboxRelay
from socialseed.runtime import Runtime
from socialseed.settings import ServiceSettings
from socialseed.stack import all_topics
from socialseed.testing import Infra, free_port
from tests.bus.conftest import CuttableProxy, add_event, read_topic
from tests.bus.schema import outbox as bus_outbox


@pytest.fixture
def own_kafka(tmp_path: Path) -> Iterator[LocalKafka]:
    kafka = LocalKafka(tmp_path / "kafka", port=free_port())
    kafka.start()
    kafka.create_topics(all_topics())
    yield kafka
    kafka.stop()


async def test_rows_wait_for_the_broker_then_drain_in_order(
    own_kafka: LocalKafka, bus_db: Database
) -> None:
    key = uuid.uuid4()
    relay = OutboxRelay(bus_db, bus_outbox, own_kafka.bootstrap, poll_interval=0.1)
    await relay.start()
    task = asyncio.create_task(relay.run())

    async def produce(seqs: range) -> None:
        for seq in seqs:
            await add_event(bus_db, key, f"seq-{seq}")

    async def unsent() -> int:
        async with bus_db.transaction() as session:
            return int(
                (
                    await session.execute(
                        select(func.count()).where(
                            bus_outbox.c.sent_at.is_(None),
                            bus_outbox.c.key == str(key),
                        )
                    )
                ).scalar_one()
            )

    try:
        await produce(range(0, 10))
        await asyncio.to_thread(own_kafka.stop)  # the broker goes away mid-run
        await produce(range(10, 30))  # business writes go on: rows wait in the outbox
        await asyncio.sleep(2)
        assert await unsent() >= 20
        await asyncio.to_thread(own_kafka.start)
        started = time.monotonic()
        while await unsent() and time.monotonic() - started < 60:
            await asyncio.sleep(0.2)
        drain_seconds = time.monotonic() - started
        assert await unsent() == 0, "outbox did not drain after the broker came back"
        print(f"drained in {drain_seconds:.1f}s after the broker restart")
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await relay.stop()

    seqs = [
        int(json.loads(r.value)["name"].removeprefix("seq-"))
        for r in await read_topic(own_kafka.bootstrap, "user.registered")
        if r.key == str(key).encode()
    ]
    # Every event once, in order (a batch in flight when the broker died may be re-sent; the
    # idempotent producer and consumers' inbox cover that, but here none should be lost).
    assert sorted(set(seqs)) == list(range(30))
    assert seqs == sorted(seqs)


async def test_a_process_started_while_the_broker_is_away_waits_for_it(
    infra: Infra, bus_db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    # A worker replaced by its supervisor during a broker restart: its startup must wait for
    # the broker, not fail (a failed start stops every worker of the service for good).
    host, _, port = infra.kafka_bootstrap.rpartition(":")
    proxy = CuttableProxy(host, int(port))
    await proxy.start()
    proxy.cut()  # the bootstrap address answers nothing yet
    bootstrap = f"127.0.0.1:{proxy.port}"
    runtime: Runtime[ServiceSettings] = Runtime(
        settings=ServiceSettings(kafka_bootstrap=bootstrap, startup_wait=60),
        broker=make_broker(bootstrap, client_id="outage-test"),
        relay=OutboxRelay(bus_db, bus_outbox, bootstrap, poll_interval=0.1),
    )
    started = asyncio.Event()

    async def serve() -> None:
        async with runtime.lifespan(None):
            started.set()
            await asyncio.Event().wait()

    task = asyncio.create_task(serve())
    try:
        deadline = time.monotonic() + 30
        while "is not reachable yet" not in caplog.text:
            assert not task.done(), f"startup failed instead of waiting: {task.exception()!r}"
            assert time.monotonic() < deadline, "no retry logged"
            await asyncio.sleep(0.1)
        proxy.restore()  # the broker's metadata then names its own listener
        await asyncio.wait_for(started.wait(), timeout=60)
        await runtime.health_checks["kafka"]()
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await proxy.stop()
