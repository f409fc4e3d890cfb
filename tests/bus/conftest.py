from __future__ import annotations

import asyncio
import contextlib
import os
import queue
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from sqlalchemy import func, select

from socialseed.bus import dlq_topic, kafka_group
from socialseed.contracts import UserRegistered
from socialseed.db import Database
from socialseed.migrate import migrate_service
from socialseed.outbox import Outbox
from socialseed.testing import TEST_DATABASE, Infra
from tests.bus.schema import effects
from tests.bus.schema import outbox as bus_outbox

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def bus_db_url(infra: Infra) -> str:
    url = (
        f"postgresql+asyncpg://bustest:dev-only-bustest@{infra.pg_host}:{infra.pg_port}"
        f"/{TEST_DATABASE}"
    )
    migrate_service(
        admin_url=infra.admin_url,
        service_url=url,
        schema="bustest",
        script_location=Path(__file__).with_name("migrations"),
    )
    return url


@pytest.fixture
async def bus_db(bus_db_url: str) -> AsyncIterator[Database]:
    db = Database(bus_db_url, pool_size=4)
    yield db
    await db.dispose()


async def effect_count(db: Database, user_id: uuid.UUID | str) -> int:
    async with db.transaction() as session:
        count = await session.execute(
            select(func.count()).where(effects.c.user_id == uuid.UUID(str(user_id)))
        )
        return int(count.scalar_one())


async def wait_for_effects(db: Database, user_id: uuid.UUID | str, *, timeout: float = 30) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if n := await effect_count(db, user_id):
            return n
        await asyncio.sleep(0.1)
    return 0


async def add_event(db: Database, user_id: uuid.UUID, name: str = "R") -> uuid.UUID:
    """One UserRegistered event written to the bus-test outbox in its own transaction."""
    async with db.transaction() as session:
        return await Outbox(bus_outbox, source="/tests").add(
            session,
            UserRegistered(
                user_id=user_id, email="t@example.com", name=name, registered_at=datetime.now(UTC)
            ),
            key=str(user_id),
        )


async def read_topic(bootstrap: str, topic: str) -> list[ConsumerRecord[bytes, bytes]]:
    """Every record on the topic up to its current end (however slow the machine is)."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False
    )
    await consumer.start()
    try:
        deadline = time.monotonic() + 60
        while not consumer.assignment():  # without a group, every partition once known
            assert time.monotonic() < deadline, f"no partitions for {topic}"
            await asyncio.sleep(0.05)
        partitions = list(consumer.assignment())
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        records: list[ConsumerRecord[bytes, bytes]] = []
        while [tp for tp in partitions if await consumer.position(tp) < ends[tp]]:
            assert time.monotonic() < deadline, "topic not read to its end in 60 s"
            for batch in (await consumer.getmany(timeout_ms=500)).values():
                records += batch
        return records
    finally:
        await consumer.stop()


class ConsumerProcess:
    """The bus-test consumer in its own OS process, its stdout read line by line."""

    def __init__(
        self,
        infra: Infra,
        db_url: str,
        group: str,
        stall_user: str | None = None,
        *,
        topic: str | None = None,
        batch: int | None = None,
    ):
        env = os.environ | {
            "BUS_DB_URL": db_url,
            "BUS_KAFKA": infra.kafka_bootstrap,
            "BUS_GROUP": group,
            "PYTHONPATH": str(ROOT),
        }
        for name, value in (("BUS_STALL_USER", stall_user), ("BUS_TOPIC", topic)):
            if value:
                env[name] = value
        if batch:
            env["BUS_BATCH"] = str(batch)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.bus.consumer_app"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip())

    async def wait_for(self, text: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        seen: list[str] = []
        while time.monotonic() < deadline:
            try:
                line = self.lines.get_nowait()
            except queue.Empty:
                if self.proc.poll() is not None:
                    raise AssertionError(f"consumer exited: {seen[-20:]}") from None
                await asyncio.sleep(0.05)
                continue
            seen.append(line)
            if text in line:
                return
        raise AssertionError(f"{text!r} not seen; last lines: {seen[-20:]}")

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def consumers(infra: Infra, bus_db_url: str) -> Iterator[list[ConsumerProcess]]:
    started: list[ConsumerProcess] = []
    yield started
    for c in started:
        c.stop()


async def apply_sentinel_after(db: Database, bootstrap: str, key: str) -> None:
    """Publish a fresh event with ``key`` (same partition, so ordered after everything already
    sent with it) and wait until it is applied: whatever came before it has been handled, so a
    count checked now cannot still change."""
    sentinel = uuid.uuid4()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        body = UserRegistered(
            user_id=sentinel, email="s@example.com", name="S", registered_at=datetime.now(UTC)
        ).model_dump_json()
        headers = {
            "ce_specversion": "1.0",
            "ce_id": str(uuid.uuid4()),
            "ce_type": UserRegistered.type_name(),
            "ce_source": "/tests/sentinel",
        }
        await producer.send_and_wait(
            UserRegistered.topic,
            body.encode(),
            key=key.encode(),
            headers=[(k, v.encode()) for k, v in headers.items()],
        )
    finally:
        await producer.stop()
    assert await wait_for_effects(db, sentinel, timeout=90) == 1, "sentinel never applied"


async def fresh_topic(bootstrap: str) -> str:
    """A new one-partition topic, and its DLQ, that only the calling test uses."""
    topic = f"bustest.{uuid.uuid4().hex[:10]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics(
            [NewTopic(t, num_partitions=1, replication_factor=1) for t in (topic, dlq_topic(topic))]
        )
    finally:
        await admin.close()
    return topic


def ce_headers(event_type: str, event_id: uuid.UUID | None) -> list[tuple[str, bytes]]:
    """CloudEvents headers of a hand-made record (no ce_id if ``event_id`` is None)."""
    h = {
        "ce_specversion": "1.0",
        "ce_type": event_type,
        "ce_source": "/tests",
        "ce_time": "2026-11-21T00:00:00+00:00",
    }
    if event_id:
        h["ce_id"] = str(event_id)
    return [(k, v.encode()) for k, v in h.items()]


def registered_body(user: uuid.UUID) -> bytes:
    return (
        UserRegistered(
            user_id=user, email="p@example.com", name="P", registered_at=datetime.now(UTC)
        )
        .model_dump_json()
        .encode()
    )


async def publish(
    bootstrap: str, topic: str, records: list[tuple[bytes, list[tuple[str, bytes]]]]
) -> None:
    """(value, headers) records, in order, on the topic's one partition."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for value, headers in records:
            await producer.send_and_wait(topic, value, key=b"k", headers=headers)
    finally:
        await producer.stop()


async def lag(bootstrap: str, consumer: str, topic: str, partition: int) -> int:
    """How far the consumer's committed offset on the topic is behind the partition's end."""
    probe = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=kafka_group(consumer, topic))
    await probe.start()
    try:
        tp = TopicPartition(topic, partition)
        committed = await probe.committed(tp)
        end = (await probe.end_offsets([tp]))[tp]
    finally:
        await probe.stop()
    return end - (committed or 0)


class CuttableProxy:
    """A TCP proxy (to Postgres, to the broker) that the test can cut (close every connection,
    refuse new ones) and restore: the server as seen from the code under test goes down and
    comes back."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.up = True
        self.port = 0
        self._writers: set[asyncio.StreamWriter] = set()
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(Exception):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not self.up:
            writer.close()
            return
        up_reader, up_writer = await asyncio.open_connection(*self.target)
        self._writers |= {writer, up_writer}
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))

    def cut(self) -> None:
        self.up = False
        for w in self._writers:
            w.close()
        self._writers.clear()

    def restore(self) -> None:
        self.up = True

    async def stop(self) -> None:
        self.cut()
        if self._server is not None:
            self._server.close()
