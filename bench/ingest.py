"""Snapshot rows per second from ``metrics.fetched`` on Kafka into PostgreSQL, against a raw
``COPY`` of the same rows into the same table in the same run.

Starts its own PostgreSQL and Kafka (temp dir, free ports), migrates every schema, tracks
``--accounts`` accounts of ``--posts`` posts each, then per run: produces ``--rounds`` fetches
of every account's posts as ``metrics.fetched`` events (one per account and round, 100 posts
each, the X batch size; produced before timing), times analytics' ingester (an
``EventConsumer.batch_handler`` with the service's batch settings, running
``analytics.ingest.consumer.ingest``: the inbox, the snapshots, latest values and tracked
posts) from the first batch handled to the last, and times ``COPY`` (asyncpg's
``copy_records_to_table``) of the same number of rows into ``post_snapshots``.
Prints each run, the medians and the ratio, and beside them the CPU-seconds each side spent
(this process's and PostgreSQL's, Kafka's left out): on a busy machine the rates wander with
the load, the CPU-seconds much less. Figures, not assertions.

    uv run python bench/ingest.py [--accounts 50] [--posts 100] [--rounds 10] [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
from aiokafka import AIOKafkaProducer
from sqlalchemy.ext.asyncio import AsyncSession

from analytics.ingest.batch import FetchedBatch
from analytics.ingest.consumer import ingest, ingest_metrics
from analytics.models import inbox
from analytics.settings import AnalyticsSettings
from socialseed.bus import EventConsumer, EventMeta, Inbox, make_broker
from socialseed.contracts import FetchedPostMetrics, MetricsFetched
from socialseed.db import Database
from socialseed.devstack.kafka import LocalKafka
from socialseed.devstack.postgres import LocalPostgres
from socialseed.outbox import PRODUCER_SETTINGS, cloudevent_headers
from socialseed.platforms.base import POST_METRICS
from socialseed.runtime import settle_heap
from socialseed.stack import SERVICES, all_topics, migrate
from socialseed.testing import free_port

TARGET_RATIO = 0.5


class Cpu:
    """CPU-seconds of this process and of the PostgreSQL server (its postmaster's children,
    read from ``/proc``; a backend's are counted only while it lives)."""

    def __init__(self, postmaster: int) -> None:
        self.postmaster = postmaster

    def postgres(self) -> float:
        ticks = 0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if self.postmaster in (int(stat.parent.name), int(fields[1])):
                ticks += int(fields[11]) + int(fields[12])  # utime, stime
        return ticks / os.sysconf("SC_CLK_TCK")

    def now(self) -> tuple[float, float]:
        return time.process_time(), self.postgres()

    def since(self, start: tuple[float, float]) -> tuple[float, float]:
        end = self.now()
        return end[0] - start[0], end[1] - start[1]


@dataclass
class Corpus:
    workspace_id: uuid.UUID
    accounts: dict[uuid.UUID, list[tuple[uuid.UUID, str]]]  # account -> (tracked id, platform id)

    @property
    def rows_per_round(self) -> int:
        return sum(len(posts) for posts in self.accounts.values())


def raw_payload(views: int) -> dict[str, Any]:
    return {
        "public_metrics": {
            "impression_count": views * 3, "like_count": views // 10, "reply_count": views // 50,
            "retweet_count": views // 40, "quote_count": 0, "bookmark_count": views // 90,
        },
        "non_public_metrics": {"user_profile_clicks": views // 30, "url_link_clicks": 0},
    }  # fmt: skip


async def make_corpus(dsn: str, accounts: int, posts: int) -> Corpus:
    workspace_id = uuid.uuid4()
    corpus = Corpus(workspace_id, {})
    conn = await asyncpg.connect(dsn)
    try:
        now = datetime.now(UTC)
        for a in range(accounts):
            account_id = uuid.uuid4()
            await conn.execute(
                "INSERT INTO analytics.accounts (id, workspace_id, platform, platform_user_id, "
                "username, status, tracking, updated_at) "
                "VALUES ($1, $2, 'x', $3, $3, 'active', true, now())",
                account_id, workspace_id, f"u{a}",
            )  # fmt: skip
            rows = [(uuid.uuid4(), f"{a}-{p}") for p in range(posts)]
            await conn.executemany(
                "INSERT INTO analytics.tracked_posts (id, account_id, workspace_id, platform, "
                "platform_post_id, published_at, source, status) "
                "VALUES ($1, $2, $3, 'x', $4, $5, 'backfill', 'active')",
                [(tid, account_id, workspace_id, pid, now) for tid, pid in rows],
            )
            corpus.accounts[account_id] = rows
    finally:
        await conn.close()
    return corpus


def events_of(corpus: Corpus, start: datetime, rounds: int) -> list[MetricsFetched]:
    events = []
    for r in range(rounds):
        at = start + timedelta(minutes=r)
        for account_id, posts in corpus.accounts.items():
            events.append(
                MetricsFetched(
                    account_id=account_id,
                    workspace_id=corpus.workspace_id,
                    platform="x",
                    fetched_at=at,
                    posts=[
                        FetchedPostMetrics(
                            tracked_post_id=tid,
                            platform_post_id=pid,
                            views=100 + r,
                            impressions=300 + r,
                            likes=10 + r,
                            comments=2,
                            shares=3,
                            saves=1,
                            clicks=4,
                            raw=raw_payload(100 + r),
                        )
                        for tid, pid in posts
                    ],
                )
            )
    return events


async def produce(bootstrap: str, events: list[MetricsFetched]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, **PRODUCER_SETTINGS)
    await producer.start()
    try:
        now = datetime.now(UTC)
        futures = []
        for event in events:
            key = str(event.account_id)
            headers = cloudevent_headers(
                event, event_id=uuid.uuid4(), source="/bench", subject=key, time=now
            )
            futures.append(
                await producer.send(
                    event.topic,
                    value=event.model_dump_json().encode(),
                    key=key.encode(),
                    headers=[(k, v.encode()) for k, v in headers.items()],
                )
            )
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


class Ingester:
    """analytics' ingester on its own consumer group, timed from the first batch to the last."""

    def __init__(self, db: Database, bootstrap: str, cpu: Cpu) -> None:
        self.db = db
        self.cpu = cpu
        self.cpu_s = (0.0, 0.0)
        self.bootstrap = bootstrap
        self.group = f"bench-ingest-{uuid.uuid4().hex[:8]}"
        self.rows = 0
        self.target = 0
        self.first: float | None = None
        self.last = 0.0
        self.done = asyncio.Event()
        self.handler_s = 0.0
        self.batches: list[int] = []

    async def rate(self, rows: int) -> float:
        self.rows, self.target, self.first = 0, rows, None
        self.handler_s, self.batches = 0.0, []
        self.done.clear()
        consumer = EventConsumer(
            make_broker(self.bootstrap, client_id=self.group),
            self.db,
            Inbox(inbox),
            group_id=self.group,
        )

        async def timed(
            events: list[tuple[FetchedBatch, EventMeta]], session: AsyncSession
        ) -> None:
            started = time.perf_counter()
            self.first = self.first or started
            # Partitions are handled side by side: add after the await, not across it.
            inserted = await ingest(session, [event for event, _ in events])
            self.rows += inserted
            self.last = time.perf_counter()
            self.handler_s += self.last - started
            self.batches.append(len(events))
            if self.rows >= self.target:
                self.done.set()

        ingest_metrics(consumer, AnalyticsSettings(dev_mode=True), timed)

        await consumer.broker.start()
        started = self.cpu.now()
        await asyncio.wait_for(self.done.wait(), timeout=1800)
        self.cpu_s = self.cpu.since(started)
        await consumer.close()
        await consumer.broker.stop()
        assert self.first is not None
        print(
            f"  ingester: {len(self.batches)} batches (median {statistics.median(self.batches)} "
            f"events), {self.handler_s:.1f} s in the handler of {self.last - self.first:.1f} s"
        )
        return self.rows / (self.last - self.first)


async def copy_rate(
    dsn: str, corpus: Corpus, start: datetime, rounds: int, cpu: Cpu
) -> tuple[float, tuple[float, float]]:
    columns = ["tracked_post_id", "fetched_at", "account_id", *POST_METRICS, "raw"]
    records = []
    for r in range(rounds):
        at = start + timedelta(minutes=r)
        for account_id, posts in corpus.accounts.items():
            raw = json.dumps(raw_payload(100 + r), separators=(",", ":"))
            for tid, _ in posts:
                metrics = {
                    "views": 100 + r, "impressions": 300 + r, "likes": 10 + r, "comments": 2,
                    "shares": 3, "saves": 1, "clicks": 4,
                }  # fmt: skip
                records.append((tid, at, account_id, *(metrics.get(m) for m in POST_METRICS), raw))
    conn = await asyncpg.connect(dsn)
    try:
        started = cpu.now()
        t0 = time.perf_counter()
        await conn.copy_records_to_table(
            "post_snapshots", schema_name="analytics", records=records, columns=columns
        )
        rate = len(records) / (time.perf_counter() - t0)
        return rate, cpu.since(started)
    finally:
        await conn.close()


async def main(accounts: int, posts: int, rounds: int, runs: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        pg = LocalPostgres(Path(tmp) / "pg", port=free_port(), fast=True)
        kafka = LocalKafka(Path(tmp) / "kafka", port=free_port())
        pg.start()
        kafka.start()
        try:
            kafka.create_topics(all_topics())
            host, port = "127.0.0.1", pg.port
            await asyncio.to_thread(migrate, SERVICES, admin_url=pg.admin_url, host=host, port=port)
            spec = next(s for s in SERVICES if s.name == "analytics")
            url = spec.database_url(host, port)
            dsn = url.replace("+asyncpg", "")
            corpus = await make_corpus(dsn, accounts, posts)
            db = Database(url, pool_size=10)
            assert pg._proc is not None
            cpu = Cpu(pg._proc.pid)
            ingester = Ingester(db, kafka.bootstrap, cpu)
            # As analytics-sync does once it has started (its lifespan): the startup heap
            # frozen, the young generation's threshold raised.
            settle_heap()
            rows = corpus.rows_per_round * rounds
            # Each run and each COPY writes its own minutes of today (partitions exist for
            # today and the days ahead): no run's rows collide with another's.
            today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
            results: list[tuple[float, float]] = []
            cpus: list[tuple[float, float]] = []  # (ingester, COPY) CPU-seconds
            try:
                for n in range(runs):
                    start = today + timedelta(days=1, hours=2 * n)
                    await produce(kafka.bootstrap, events_of(corpus, start, rounds))
                    ours = await ingester.rate(rows)
                    raw, copy_cpu = await copy_rate(
                        dsn, corpus, start + timedelta(days=1), rounds, cpu
                    )
                    results.append((ours, raw))
                    cpus.append((sum(ingester.cpu_s), sum(copy_cpu)))
                    py, db_s = ingester.cpu_s
                    print(
                        f"run {n + 1}: ingester {ours:,.0f} rows/s, COPY {raw:,.0f} rows/s, "
                        f"{ours / raw:.2f}x; CPU-s ingester {py:.2f} python + {db_s:.2f} "
                        f"postgres, COPY {copy_cpu[0]:.2f} + {copy_cpu[1]:.2f}",
                        flush=True,
                    )
            finally:
                await db.dispose()
            ours = statistics.median(r[0] for r in results)
            raw = statistics.median(r[1] for r in results)
            print(
                f"median over {runs} runs of {rows:,} rows ({accounts} accounts x {posts} posts "
                f"x {rounds} rounds, {len(corpus.accounts) * rounds} events):"
            )
            print(f"  raw COPY   {raw:>10,.0f} rows/s")
            print(
                f"  ingester   {ours:>10,.0f} rows/s  {ours / raw:.2f}x COPY "
                f"(target >= {TARGET_RATIO}x)"
            )
            ours_cpu = statistics.median(c[0] for c in cpus)
            copy_cpu_s = statistics.median(c[1] for c in cpus)
            print(
                f"  CPU-seconds (python + postgres): ingester {ours_cpu:.2f}, COPY "
                f"{copy_cpu_s:.2f}: {copy_cpu_s / ours_cpu:.2f}x COPY by CPU"
            )
            print(f"  load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        finally:
            kafka.stop()
            pg.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", type=int, default=50)
    parser.add_argument("--posts", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(main(args.accounts, args.posts, args.rounds, args.runs))
