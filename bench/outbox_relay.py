"""Events per second through the transactional outbox, the relay and the inbox consumers,
against what the raw clients reach on this machine in the same run.

Starts its own PostgreSQL and Kafka (temp dir, free ports), migrates the auth schema, then per
run: sends N messages with one bare aiokafka producer (idempotent, acks=all, the relay's
settings, the same bytes as an outbox row) and reads them back with a bare ``getmany``
consumer; writes N events into auth's outbox (one transaction per 100), times the relay
draining them to Kafka, and times a batch consumer (``EventConsumer.batch_handler``, a trivial
handler, the inbox) applying them. The first run also times the per-event consumer
(``EventConsumer.handler``) on its first ``--per-event`` events. Consumer rates run from the
first event handled to the last (group join excluded). Prints each run, the medians and the
ratios to the raw rates. Figures, not assertions: the machine is shared and noisy.

    uv run python bench/outbox_relay.py [--events 20000] [--runs 3] [--relays 1]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from sqlalchemy.ext.asyncio import AsyncSession

from auth.models import outbox
from socialseed.bus import EventConsumer, EventMeta, Inbox, make_broker
from socialseed.contracts import UserRegistered
from socialseed.db import Database
from socialseed.devstack.kafka import LocalKafka
from socialseed.devstack.postgres import LocalPostgres
from socialseed.outbox import (
    PRODUCER_SETTINGS,
    Outbox,
    OutboxRelay,
    cloudevent_headers,
    inbox_table,
)
from socialseed.stack import SERVICES, all_topics, migrate
from socialseed.testing import free_port

# The consumers record their inbox in the auth schema too: a bench, not a service.
INBOX = inbox_table(outbox.metadata)
RAW_TOPIC = "bench.raw"
RAW_PARTITIONS = 3  # as many as the services' topics
KEYS = 64
TARGET_RELAY_RATIO = 0.3
TARGET_BATCH_RATE = 10_000


def sample_event(tag: str, i: int) -> UserRegistered:
    return UserRegistered(
        user_id=uuid.uuid4(),
        email="b@example.com",
        name=f"{tag}-{i}",
        registered_at=datetime.now(UTC),
    )


@dataclass
class Counted:
    """Events applied per run tag, and when the first and the target-th arrived."""

    target: int = 0
    applied: dict[str, int] = field(default_factory=dict)
    first: float | None = None
    done: asyncio.Event = field(default_factory=asyncio.Event)
    last: float = 0.0

    def expect(self, target: int) -> None:
        self.target, self.first, self.done = target, None, asyncio.Event()

    def add(self, event: UserRegistered) -> None:
        if self.first is None:
            self.first = time.perf_counter()
        tag = event.name.split("-")[0]
        self.applied[tag] = self.applied.get(tag, 0) + 1
        if self.applied[tag] == self.target:
            self.last = time.perf_counter()
            self.done.set()

    def rate(self) -> float:
        assert self.first is not None
        return (self.target - 1) / (self.last - self.first)


async def raw_producer_rate(bootstrap: str, events: int) -> float:
    """One bare producer with the relay's settings, the same message bytes: sends pipelined."""
    event = sample_event("raw", 0)
    headers = cloudevent_headers(
        event, event_id=uuid.uuid4(), source="/bench", subject="k", time=datetime.now(UTC)
    )
    value = event.model_dump_json().encode()
    encoded = [(k, v.encode()) for k, v in headers.items()]
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, **PRODUCER_SETTINGS)
    await producer.start()
    try:
        t0 = time.perf_counter()
        futures = [
            await producer.send(RAW_TOPIC, value, key=str(i % KEYS).encode(), headers=encoded)
            for i in range(events)
        ]
        await asyncio.gather(*futures)
        return events / (time.perf_counter() - t0)
    finally:
        await producer.stop()


async def raw_consumer_rate(bootstrap: str, events: int) -> float:
    """A bare ``getmany`` consumer (no group) reading the last ``events`` raw messages."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        partitions = [TopicPartition(RAW_TOPIC, p) for p in range(RAW_PARTITIONS)]
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        for tp in partitions:  # the last `events` messages, spread over the partitions
            consumer.seek(tp, max(0, ends[tp] - events // len(partitions)))
        wanted = sum(min(ends[tp], events // len(partitions)) for tp in partitions)
        read, t0 = 0, time.perf_counter()
        while read < wanted:
            batch = await consumer.getmany(timeout_ms=500, max_records=10_000)
            read += sum(len(records) for records in batch.values())
        return read / (time.perf_counter() - t0)
    finally:
        await consumer.stop()


class Bench:
    def __init__(self, db: Database, bootstrap: str) -> None:
        self.db = db
        self.bootstrap = bootstrap
        # The batch group is one for all runs: each run it resumes from its committed
        # offsets, so it applies exactly that run's events.
        self.batch = self._consumer("batch", self._batch_handler)
        self.single = self._consumer("single", self._single_handler)
        self.batch_count = Counted()
        self.single_count = Counted()

    def _consumer(self, kind: str, register: Callable[[EventConsumer], None]) -> EventConsumer:
        group = f"bench-{kind}-{uuid.uuid4().hex[:8]}"
        consumer = EventConsumer(
            make_broker(self.bootstrap, client_id=group), self.db, Inbox(INBOX), group_id=group
        )
        register(consumer)
        return consumer

    def _batch_handler(self, consumer: EventConsumer) -> None:
        @consumer.batch_handler(UserRegistered)
        async def count(events: list[tuple[UserRegistered, EventMeta]], _: AsyncSession) -> None:
            for event, _meta in events:
                self.batch_count.add(event)

    def _single_handler(self, consumer: EventConsumer) -> None:
        @consumer.handler(UserRegistered)
        async def count(event: UserRegistered, _: AsyncSession, meta: EventMeta) -> None:
            self.single_count.add(event)

    async def write_outbox(self, tag: str, events: int) -> None:
        box = Outbox(outbox, source="/bench")
        for start in range(0, events, 100):
            async with self.db.transaction() as session:
                for i in range(start, min(start + 100, events)):
                    await box.add(session, sample_event(tag, i), key=str(i % KEYS))

    async def relay_rate(self, events: int, relays: int) -> float:
        workers = [OutboxRelay(self.db, outbox, self.bootstrap) for _ in range(relays)]
        for relay in workers:
            await relay.start()

        async def drain(relay: OutboxRelay) -> None:
            while await relay.relay_once():
                pass

        t0 = time.perf_counter()
        await asyncio.gather(*(drain(r) for r in workers))
        rate = events / (time.perf_counter() - t0)
        for relay in workers:
            await relay.stop()
        return rate

    async def consumer_rate(self, consumer: EventConsumer, counted: Counted, target: int) -> float:
        counted.expect(target)
        await consumer.broker.start()
        await asyncio.wait_for(counted.done.wait(), timeout=900)
        await consumer.close()
        await consumer.broker.stop()
        return counted.rate()


@dataclass
class Run:
    raw_producer: float
    raw_consumer: float
    relay: float
    batch_consumer: float


async def one_run(bench: Bench, tag: str, events: int, relays: int) -> Run:
    raw_producer = await raw_producer_rate(bench.bootstrap, events)
    raw_consumer = await raw_consumer_rate(bench.bootstrap, events)
    await bench.write_outbox(tag, events)
    relay = await bench.relay_rate(events, relays)
    batch = await bench.consumer_rate(bench.batch, bench.batch_count, events)
    return Run(raw_producer, raw_consumer, relay, batch)


def report(runs: list[Run], per_event: float | None, events: int, relays: int) -> None:
    def median(get: Callable[[Run], float]) -> float:
        return statistics.median(get(r) for r in runs)

    raw_p, raw_c = median(lambda r: r.raw_producer), median(lambda r: r.raw_consumer)
    relay, batch = median(lambda r: r.relay), median(lambda r: r.batch_consumer)
    load = ", ".join(f"{n:.2f}" for n in os.getloadavg())
    print(
        f"median over {len(runs)} runs of {events} events, {relays} relay(s) (load average {load}):"
    )
    print(f"  raw producer    {raw_p:>9,.0f} msg/s")
    print(f"  raw getmany     {raw_c:>9,.0f} msg/s")
    print(
        f"  relay           {relay:>9,.0f} events/s  {relay / raw_p:.2f}x raw producer "
        f"(target >= {TARGET_RELAY_RATIO}x)"
    )
    print(
        f"  batch consumer  {batch:>9,.0f} events/s  {batch / raw_c:.3f}x raw getmany "
        f"(target >= {TARGET_BATCH_RATE:,} events/s)"
    )
    if per_event is not None:
        print(
            f"  per-event consumer {per_event:,.0f} events/s (first run); "
            f"batch is {batch / per_event:.0f}x that"
        )


async def with_infra(body: Callable[[Database, str], Awaitable[None]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        pg = LocalPostgres(Path(tmp) / "pg", port=free_port(), fast=True)
        kafka = LocalKafka(Path(tmp) / "kafka", port=free_port())
        pg.start()
        kafka.start()
        try:
            kafka.create_topics(all_topics())
            kafka.create_topics([RAW_TOPIC], partitions=RAW_PARTITIONS)
            host, port = "127.0.0.1", pg.port
            await asyncio.to_thread(migrate, SERVICES, admin_url=pg.admin_url, host=host, port=port)
            spec = next(s for s in SERVICES if s.name == "auth")
            db = Database(spec.database_url(host, port), pool_size=10)
            async with db.engine.begin() as conn:  # the bench's inbox, beside auth's tables
                await conn.run_sync(lambda c: INBOX.create(c, checkfirst=True))
            try:
                await body(db, kafka.bootstrap)
            finally:
                await db.dispose()
        finally:
            kafka.stop()
            pg.stop()


async def main(events: int, runs: int, relays: int, per_event: int) -> None:
    async def body(db: Database, bootstrap: str) -> None:
        bench = Bench(db, bootstrap)
        results = []
        for n in range(runs):
            run = await one_run(bench, f"r{n}", events, relays)
            results.append(run)
            print(
                f"run {n + 1}: raw producer {run.raw_producer:,.0f} msg/s, "
                f"raw getmany {run.raw_consumer:,.0f} msg/s, relay {run.relay:,.0f} events/s, "
                f"batch consumer {run.batch_consumer:,.0f} events/s",
                flush=True,
            )
        single = None
        if per_event:  # reads run 1's events again, in a group of its own
            single = await bench.consumer_rate(
                bench.single, bench.single_count, min(per_event, events)
            )
        report(results, single, events, relays)

    await with_infra(body)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=20000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--relays", type=int, default=1)
    parser.add_argument("--per-event", type=int, default=1000, help="0 to skip")
    args = parser.parse_args()
    asyncio.run(main(args.events, args.runs, args.relays, args.per_event))
