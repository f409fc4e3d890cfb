"""``examples/subscriber.py`` against the real broker: a ``post.published`` written through the
publisher's outbox and relayed to Kafka as the publisher does it comes out of the example as
one line; a second delivery of the same event (same CloudEvents id) prints nothing."""

from __future__ import annotations

import asyncio
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import jsonschema_rs
import pytest
from aiokafka import AIOKafkaProducer

from publisher.models import outbox as publisher_outbox
from socialseed.contracts import PostPublished
from socialseed.db import Database
from socialseed.outbox import Outbox, OutboxRelay
from socialseed.testing import Infra
from tests.bus.conftest import read_topic

ROOT = Path(__file__).resolve().parents[2]


class Subscriber:
    def __init__(self, infra: Infra) -> None:
        env = os.environ | {
            "KAFKA_BOOTSTRAP": infra.kafka_bootstrap,
            "SUBSCRIBER_GROUP": f"example-{uuid.uuid4()}",
        }
        self.proc = subprocess.Popen(
            [sys.executable, str(ROOT / "examples" / "subscriber.py")],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))

    async def line_with(self, text: str, timeout: float = 90) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get_nowait()
            except queue.Empty:
                assert self.proc.poll() is None, f"subscriber exited: {self.seen[-20:]}"
                await asyncio.sleep(0.05)
                continue
            self.seen.append(line)
            if text in line:
                return line
        raise AssertionError(f"{text!r} not printed; output: {self.seen[-20:]}")

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)


@pytest.fixture
def subscriber(infra: Infra) -> Iterator[Subscriber]:
    sub = Subscriber(infra)
    yield sub
    sub.stop()


def _published(account_id: uuid.UUID, url: str | None) -> PostPublished:
    return PostPublished(
        post_id=uuid.uuid4(),
        workspace_id=uuid.uuid4(),
        target_id=uuid.uuid4(),
        account_id=account_id,
        platform="x",
        platform_post_id=str(uuid.uuid4().int)[:19],
        url=url,
        published_at=datetime(2026, 12, 5, 9, 30, tzinfo=UTC),
    )


async def test_example_subscriber_prints_each_published_post_once(
    infra: Infra, subscriber: Subscriber
) -> None:
    account = uuid.uuid4()
    post = _published(account, "https://x.example/status/1")
    after = _published(account, None)  # same key, so after the redelivery on its partition
    db = Database(infra.service_url("publisher"), pool_size=4)
    relay = OutboxRelay(db, publisher_outbox, infra.kafka_bootstrap)
    outbox = Outbox(publisher_outbox, source="/socialseed/publisher")
    await relay.start()
    try:
        async with db.transaction() as session:
            await outbox.add(session, post, key=post.key)
        while await relay.relay_once():
            pass

        expected = f"2026-12-05T09:30:00Z x https://x.example/status/1 post={post.post_id}"
        assert await subscriber.line_with(str(post.post_id)) == expected

        # The very record again (at-least-once delivery), then a new event behind it.
        [record] = [
            r
            for r in await read_topic(infra.kafka_bootstrap, "post.published")
            if json.loads(r.value or b"{}").get("post_id") == str(post.post_id)
        ]
        schema = json.loads((ROOT / "docs" / "schemas" / "post.published.json").read_text())
        jsonschema_rs.validate(schema, json.loads(record.value or b""))
        producer = AIOKafkaProducer(bootstrap_servers=infra.kafka_bootstrap)
        await producer.start()
        try:
            await producer.send_and_wait(
                "post.published", record.value, key=record.key, headers=list(record.headers)
            )
        finally:
            await producer.stop()
        async with db.transaction() as session:
            await outbox.add(session, after, key=after.key)
        while await relay.relay_once():
            pass

        line = await subscriber.line_with(str(after.post_id))
        assert line.endswith(f" x {after.platform_post_id} post={after.post_id}")
        assert [s for s in subscriber.seen if str(post.post_id) in s] == [expected]
    finally:
        await relay.stop()
        await db.dispose()
