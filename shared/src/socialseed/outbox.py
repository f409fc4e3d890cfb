"""Transactional outbox: events are rows written in the state change's own transaction.

A relay publishes them to Kafka. It claims unsent rows with ``FOR UPDATE SKIP LOCKED`` (never
"id > last seen": sequence order is not commit order), keeps per-key order across concurrent
relays with a per-key advisory lock, sending only the rows that continue the key's unsent
sequence (another relay may hold a row in between), sends with an idempotent producer and
marks rows sent only after the broker acknowledged them. A relay that dies between the ack
and the mark re-sends: consumers deduplicate by event id.

A row the broker refuses while it is reachable (a topic that does not exist, a message over
the size limit) counts an attempt; after ``max_attempts`` it is *parked* (``parked_at``, with
the reason in ``last_error`` and ``socialseed_outbox_parked_total``) and no longer retried, so
one bad row cannot stall every other key. Later rows of the parked row's key go on being sent:
a parked event is out of order by definition, and an operator who fixes the cause re-queues it
with ``UPDATE outbox SET parked_at = NULL, attempts = 0 WHERE id = ...``. While the broker is
unreachable nothing counts: rows wait, however long the outage.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import uuid
from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError, UnknownTopicOrPartitionError
from opentelemetry import propagate
from opentelemetry.context import Context
from opentelemetry.trace import Tracer
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    bindparam,
    cast,
    delete,
    func,
    literal,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import Insert

from socialseed import telemetry, tracing
from socialseed.contracts.base import Event
from socialseed.db import Database

log = logging.getLogger(__name__)


def outbox_table(metadata: MetaData) -> Table:
    return Table(
        "outbox",
        metadata,
        Column("id", BigInteger, primary_key=True, autoincrement=True),
        Column("event_id", UUID(as_uuid=True), nullable=False, unique=True),
        Column("topic", String(200), nullable=False),
        Column("key", String(200), nullable=False),
        Column("headers", JSONB, nullable=False),
        Column("payload", JSONB, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("sent_at", DateTime(timezone=True)),
        Column("attempts", Integer, nullable=False, server_default="0"),
        Column("last_error", Text),
        Column("parked_at", DateTime(timezone=True)),
        Index("ix_outbox_unsent", "id", postgresql_where=text("sent_at IS NULL")),
    )


def inbox_table(metadata: MetaData) -> Table:
    return Table(
        "inbox",
        metadata,
        Column("consumer", String(200), primary_key=True),
        Column("event_id", UUID(as_uuid=True), primary_key=True),
        Column("processed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    )


def cloudevent_headers(
    event: Event,
    *,
    event_id: uuid.UUID,
    source: str,
    subject: str,
    time: datetime,
    trace_context: Context | None = None,
) -> dict[str, str]:
    headers = {
        "ce_specversion": "1.0",
        "ce_id": str(event_id),
        "ce_type": event.event_type,
        "ce_source": source,
        "ce_time": time.isoformat(),
        "ce_subject": subject,
        "content-type": "application/json",
    }
    # W3C traceparent of what caused the event (the request or message being handled, or the
    # ``trace_context`` given): the relay's publish and the consumers' handling continue it.
    propagate.inject(headers, context=trace_context)
    return headers


class Outbox:
    """Writes events into a service's outbox table inside the caller's transaction."""

    def __init__(self, table: Table, source: str) -> None:
        self.table = table
        self.source = source

    @functools.cached_property
    def _insert(self) -> Insert:
        """The rows' insert, the payload given as the JSON text it is stored as."""
        return self.table.insert().values(
            payload=cast(bindparam("payload_json", type_=Text), JSONB)
        )

    async def add(self, session: AsyncSession, event: Event, *, key: str) -> uuid.UUID:
        [event_id] = await self.add_many(session, [(event, key)])
        return event_id

    async def add_many(
        self,
        session: AsyncSession,
        events: Sequence[tuple[Event, str]],
        *,
        trace_contexts: Sequence[Context | None] | None = None,
    ) -> list[uuid.UUID]:
        """Several events, each with its key, in one statement (a dispatcher's turn hands out
        hundreds: one round trip, not one each). ``trace_contexts``: each event's own trace
        (a dispatched post's, say) instead of the current one (None: the current one)."""
        if not events:
            return []
        now = datetime.now(UTC)
        rows: list[dict[str, Any]] = []
        ids: list[uuid.UUID] = []
        contexts = trace_contexts or [None] * len(events)
        for (event, key), trace_context in zip(events, contexts, strict=True):
            # The key is part of the published contract (docs/events.md): subscribers rely
            # on one aggregate's events sharing a partition, hence their order.
            if hasattr(event, "key_field") and key != event.key:
                raise ValueError(f"{event.topic} is keyed by {event.key_field}, not {key!r}")
            event_id = uuid.uuid4()
            ids.append(event_id)
            headers = cloudevent_headers(
                event,
                event_id=event_id,
                source=self.source,
                subject=key,
                time=now,
                trace_context=trace_context,
            )
            rows.append(
                {
                    "event_id": event_id,
                    "topic": event.topic,
                    "key": key,
                    "headers": headers,
                    # Encoded once, by pydantic's serializer, and stored as that text: not a
                    # dict of JSON-ready values encoded again by the driver.
                    "payload_json": event.model_dump_json(),
                }
            )
        await session.execute(self._insert, rows)
        session.info["outbox"] = True
        return ids


PRODUCER_SETTINGS: dict[str, Any] = {
    "enable_idempotence": True,  # acks=all, no duplicates from producer retries
    # A claimed batch is handed over at once: fill large produce requests, with a short
    # linger for the partitions a turn leaves half-full.
    "max_batch_size": 256 * 1024,
    "linger_ms": 5,
    "request_timeout_ms": 15000,
}


class OutboxRelay:
    """Publishes unsent outbox rows to Kafka, oldest first per key."""

    def __init__(
        self,
        db: Database,
        table: Table,
        bootstrap: str,
        *,
        batch_size: int = 1000,
        poll_interval: float = 0.5,
        retention: timedelta = timedelta(days=3),
        max_attempts: int = 5,
        tracer: Tracer | None = None,
    ) -> None:
        """``tracer``: each row's publish is a PRODUCER span under the trace that wrote it
        (None, tracing off: the row's stored traceparent is sent as is, no span made)."""
        self.db = db
        self.tracer = tracer
        self.table = table
        self.bootstrap = bootstrap
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.retention = retention
        self.max_attempts = max_attempts
        self.producer: AIOKafkaProducer | None = None
        self._lock_ns = f"outbox:{table.schema}"

    async def start(self) -> None:
        """Connect to the broker; raises while it is unreachable (and may be called again)."""
        producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap, **PRODUCER_SETTINGS)
        try:
            await producer.start()
        except BaseException:
            await producer.stop()  # its half-open client and tasks
            raise
        self.producer = producer

    async def stop(self) -> None:
        if self.producer is not None:
            await self.producer.stop()
            self.producer = None

    async def run(self) -> None:
        """Relay forever: drain, then sleep until an outbox write or the poll interval."""
        next_cleanup = datetime.now(UTC)
        while True:
            # Cleared before the turn looks: a write committed while it runs stays signalled.
            self.db.outbox_written.clear()
            try:
                while await self.relay_once():
                    pass
                if datetime.now(UTC) >= next_cleanup:
                    await self.cleanup()
                    next_cleanup = datetime.now(UTC) + timedelta(hours=1)
            except asyncio.CancelledError:
                raise
            except Exception:
                # Broker or database away: rows stay unsent and are retried on the next turn.
                log.warning("outbox relay turn failed; retrying", exc_info=True)
                await asyncio.sleep(1.0)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.db.outbox_written.wait(), self.poll_interval)

    async def relay_once(self) -> int:
        """Claim, publish and mark one batch. Returns how many rows were sent."""
        assert self.producer is not None, "start() the relay first"
        t = self.table
        async with self.db.transaction() as session:
            rows = (
                await session.execute(
                    # The payload as the database prints it: sent as is, never decoded to
                    # Python and encoded again (a third of the relay's time when it was).
                    select(
                        t.c.id,
                        t.c.topic,
                        t.c.key,
                        t.c.headers,
                        cast(t.c.payload, Text).label("payload"),
                        t.c.event_id,
                    )
                    .where(t.c.sent_at.is_(None), t.c.parked_at.is_(None))
                    .order_by(t.c.id)
                    .limit(self.batch_size)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            if not rows:
                return 0
            sendable = await self._in_order(session, rows)
            if not sendable:
                return 0
            known = await self._known_topics({row.topic for row in sendable})
            # Handed to the producer one by one, in order (per-key order within a partition),
            # then awaited together: the acknowledgements are pipelined.
            issued = [await self._issue(row, known) for row in sendable]
            outcomes = [await _settled(item) for item in issued]
            sent = [row for row, out in zip(sendable, outcomes, strict=True) if out is None]
            refused = [
                (row, out)
                for row, out in zip(sendable, outcomes, strict=True)
                if isinstance(out, Exception)
            ]
            if sent:
                await self.mark_sent(session, [row.id for row in sent])
            for topic, n in Counter(row.topic for row in sent).items():
                telemetry.OUTBOX_RELAYED.labels(topic=topic).inc(n)
            if refused:
                if not sent and not await self._broker_reachable():
                    # The broker is away, not refusing these rows: nothing counts, all wait.
                    raise refused[0][1]
                await self._count_refusals(session, refused)
            return len(sent)

    async def _known_topics(self, topics: set[str]) -> set[str]:
        """The topics among ``topics`` that exist (a send to a missing topic would wait for
        its metadata for the whole request timeout)."""
        assert self.producer is not None
        if topics <= self.producer.client.cluster.topics():
            return topics
        try:
            metadata = await self.producer.client.fetch_all_metadata()
        except KafkaError:
            return topics  # the broker is away: let the sends fail (and count nothing)
        return topics & metadata.topics()

    async def _issue(self, row: Any, known: set[str]) -> asyncio.Future[Any] | Exception:
        """The producer's future for the row's acknowledgement, or why it was refused now."""
        assert self.producer is not None
        if row.topic not in known:
            return UnknownTopicOrPartitionError(f"topic {row.topic!r} does not exist")
        headers: dict[str, str] = row.headers
        span = None
        if self.tracer is not None:
            span, headers = tracing.start_publish(
                self.tracer, row.topic, headers, message_id=str(row.event_id), key=row.key
            )
        try:
            future: asyncio.Future[Any] = await self.producer.send(
                row.topic,
                value=row.payload.encode(),
                key=row.key.encode(),
                headers=[(k, v.encode()) for k, v in headers.items()],
            )
        except KafkaError as exc:  # e.g. MessageSizeTooLargeError, raised before sending
            if span is not None:
                tracing.end_span(span, exc)
            return exc
        if span is not None:
            future.add_done_callback(functools.partial(_end_publish, span))
        return future

    async def _broker_reachable(self) -> bool:
        assert self.producer is not None
        try:
            await self.producer.client.fetch_all_metadata()
        except KafkaError:
            return False
        return True

    async def _count_refusals(
        self, session: AsyncSession, refused: list[tuple[Any, Exception]]
    ) -> None:
        t = self.table
        for row, exc in refused:
            reason = f"{type(exc).__name__}: {exc}"[:1000]
            attempts = (
                await session.execute(
                    update(t)
                    .where(t.c.id == row.id)
                    .values(attempts=t.c.attempts + 1, last_error=reason)
                    .returning(t.c.attempts)
                )
            ).scalar_one()
            if attempts >= self.max_attempts:
                await session.execute(
                    update(t).where(t.c.id == row.id).values(parked_at=func.now())
                )
                telemetry.OUTBOX_PARKED.labels(topic=row.topic).inc()
                log.error("outbox row %s parked after %s attempts: %s", row.id, attempts, reason)
            else:
                log.warning("outbox row %s refused (attempt %s): %s", row.id, attempts, reason)

    async def _in_order(self, session: AsyncSession, rows: Sequence[Any]) -> list[Any]:
        """The claimed rows this relay may send now, in id order: those of the keys whose
        advisory lock it gets, and of each key only the prefix of its rows that continues the
        key's unsent sequence (another relay may hold a row in between, skipped by SKIP
        LOCKED). Two statements for the whole batch, whatever its number of keys."""
        by_key: dict[str, list[Any]] = defaultdict(list)
        for row in rows:
            by_key[row.key].append(row)
        locked = await self._lock_keys(session, list(by_key))
        if not locked:
            return []
        t = self.table
        unsent: dict[str, list[int]] = defaultdict(list)
        for key, row_id in await session.execute(
            select(t.c.key, t.c.id)
            .where(
                t.c.key.in_(locked),
                t.c.sent_at.is_(None),
                t.c.parked_at.is_(None),
                t.c.id <= max(row.id for row in rows),
            )
            .order_by(t.c.id)
        ):
            unsent[key].append(row_id)
        sendable = []
        for key in locked:
            for row, next_id in zip(by_key[key], unsent[key], strict=False):
                if row.id != next_id:
                    break
                sendable.append(row)
        return sorted(sendable, key=lambda row: row.id)

    async def _lock_keys(self, session: AsyncSession, keys: list[str]) -> list[str]:
        """The keys whose transaction-scoped advisory lock this relay got (never waits)."""
        keyset = select(func.unnest(bindparam("keys", type_=ARRAY(String))).label("key")).subquery()
        lock = func.pg_try_advisory_xact_lock(
            func.hashtextextended(literal(f"{self._lock_ns}:") + keyset.c.key, 0)
        )
        got = await session.execute(select(keyset.c.key, lock), {"keys": keys})
        return [k for k, ok in got if ok]

    async def mark_sent(self, session: AsyncSession, ids: list[int]) -> None:
        await session.execute(
            update(self.table).where(self.table.c.id.in_(ids)).values(sent_at=func.now())
        )

    async def cleanup(self) -> None:
        async with self.db.transaction() as session:
            await session.execute(
                delete(self.table).where(self.table.c.sent_at < datetime.now(UTC) - self.retention)
            )


def _end_publish(span: Any, future: asyncio.Future[Any]) -> None:
    if future.cancelled():
        tracing.end_span(span, asyncio.CancelledError())
        return
    error = future.exception()
    partition = getattr(future.result(), "partition", None) if error is None else None
    tracing.end_span(span, error, partition=partition)


async def _settled(item: asyncio.Future[Any] | Exception) -> Exception | None:
    """Why the row was not acknowledged, or ``None`` once it is (awaited in place: a task
    per row to gather them cost more than the send)."""
    if isinstance(item, Exception):
        return item
    try:
        await item
    except Exception as exc:  # the broker's refusal of this row (the rest stand)
        return exc
    return None
