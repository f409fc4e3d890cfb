"""Events per second through the transactional outbox, the relay and an inbox consumer.

Starts its own PostgreSQL and Kafka (temp dir, free ports), migrates the auth schema, then per
run: writes N events into auth's outbox (one transaction per 100), times the relay draining
them to Kafka, and times an inbox-backed consumer group applying them. Prints each run and the
medians. Figures, not assertions: the machine is shared and noisy.

    uv run python bench/outbox_relay.py [--events 5000] [--runs 3] [--relays 1]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from auth.models import outbox
from socialseed.bus import EventConsumer, EventMeta, Inbox, make_broker
from socialseed.contracts import UserRegistered
from socialseed.db import Database
from socialseed.devstack.kafka import LocalKafka
from socialseed.devstack.postgres import LocalPostgres
from socialseed.outbox import Outbox, OutboxRelay, inbox_table
from socialseed.stack import SERVICES, all_topics, migrate
from socialseed.testing import free_port

# The consumer records its inbox in the auth schema too: a bench, not a service.
INBOX = inbox_table(outbox.metadata)


class Bench:
    def __init__(self, db: Database, bootstrap: str) -> None:
        self.db = db
        self.bootstrap = bootstrap
        # One consumer group for all runs: each run it resumes from its committed offsets,
        # so it applies exactly that run's events.
        self.group = f"bench-{uuid.uuid4().hex[:8]}"
        self.broker = make_broker(bootstrap, client_id=self.group)
        self.consumer = EventConsumer(self.broker, db, Inbox(INBOX), group_id=self.group)
        self.applied: dict[str, int] = {}
        self.target = 0
        self.done = asyncio.Event()

        @self.consumer.handler(UserRegistered)
        async def count(event: UserRegistered, session: AsyncSession, meta: EventMeta) -> None:
            tag = event.name.split("-")[0]
            self.applied[tag] = self.applied.get(tag, 0) + 1
            if self.applied[tag] >= self.target:
                self.done.set()

    async def one_run(self, tag: str, events: int, relays: int) -> tuple[float, float]:
        box = Outbox(outbox, source="/bench")
        now = datetime.now(UTC)
        for start in range(0, events, 100):
            async with self.db.transaction() as session:
                for i in range(start, min(start + 100, events)):
                    await box.add(
                        session,
                        UserRegistered(
                            user_id=uuid.uuid4(),
                            email="b@example.com",
                            name=f"{tag}-{i}",
                            registered_at=now,
                        ),
                        key=str(i % 64),
                    )
        workers = [
            OutboxRelay(self.db, outbox, self.bootstrap, batch_size=500) for _ in range(relays)
        ]
        for relay in workers:
            await relay.start()
        t0 = time.perf_counter()

        async def drain(relay: OutboxRelay) -> None:
            while await relay.relay_once():
                pass

        await asyncio.gather(*(drain(r) for r in workers))
        relay_rate = events / (time.perf_counter() - t0)
        for relay in workers:
            await relay.stop()

        self.target, self.done = events, asyncio.Event()
        t1 = time.perf_counter()
        await self.broker.start()
        await asyncio.wait_for(self.done.wait(), timeout=600)
        consume_rate = events / (time.perf_counter() - t1)
        await self.consumer.close()
        await self.broker.stop()
        return relay_rate, consume_rate


async def main(events: int, runs: int, relays: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        pg = LocalPostgres(Path(tmp) / "pg", port=free_port(), fast=True)
        kafka = LocalKafka(Path(tmp) / "kafka", port=free_port())
        pg.start()
        kafka.start()
        try:
            kafka.create_topics(all_topics())
            host, port = "127.0.0.1", pg.port
            await asyncio.to_thread(migrate, SERVICES, admin_url=pg.admin_url, host=host, port=port)
            spec = next(s for s in SERVICES if s.name == "auth")
            db = Database(spec.database_url(host, port), pool_size=5)
            async with db.engine.begin() as conn:  # the bench's inbox, beside auth's tables
                await conn.run_sync(lambda c: INBOX.create(c, checkfirst=True))
            bench = Bench(db, kafka.bootstrap)
            results = []
            for n in range(runs):
                relay_rate, consume_rate = await bench.one_run(f"r{n}", events, relays)
                results.append((relay_rate, consume_rate))
                print(
                    f"run {n + 1}: relay {relay_rate:,.0f} events/s, "
                    f"consumer+inbox {consume_rate:,.0f} events/s"
                )
            await db.dispose()
            print(
                f"median over {runs} runs of {events} events, {relays} relay(s): "
                f"relay {statistics.median(r for r, _ in results):,.0f} events/s, "
                f"consumer+inbox {statistics.median(c for _, c in results):,.0f} events/s"
            )
        finally:
            kafka.stop()
            pg.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--relays", type=int, default=1)
    args = parser.parse_args()
    asyncio.run(main(args.events, args.runs, args.relays))
