"""The Kafka bus: a FastStream broker per service and event consumers with an inbox.

Consumers never use FastStream's default ack policy (ACK_FIRST turns auto-commit on, so a
consumer killed mid-handler would lose the message). Each message is handled in one database
transaction that also records its event id in the inbox. A failure of the handler itself is
retried a bounded number of times with jittered backoff, then dead-lettered to ``<topic>.dlq``;
a failure of the infrastructure (database or broker unreachable) holds the partition and is
retried without limit, so a database blip never dead-letters healthy events. The offset is
committed only after that (in batches, see ``OffsetCommits``), so nothing is lost.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import asyncpg
from aiokafka import TopicPartition
from aiokafka.errors import KafkaError
from faststream import AckPolicy
from faststream.kafka import KafkaBroker, KafkaMessage
from faststream.kafka.opentelemetry import KafkaTelemetryMiddleware
from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from opentelemetry import context as otel_context
from opentelemetry import propagate
from opentelemetry.sdk.trace import TracerProvider
from prometheus_client import REGISTRY, CollectorRegistry
from pydantic import ValidationError
from sqlalchemy import Table, delete, select, tuple_
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_not_exception_type,
    wait_exponential_jitter,
)

from socialseed import telemetry
from socialseed.contracts.base import Event
from socialseed.db import Database

log = logging.getLogger(__name__)

E = TypeVar("E", bound=Event)


class PermanentError(Exception):
    """A handler failure that retrying cannot fix: the message goes straight to the DLQ."""


class PoisonMessage(PermanentError):
    """The message cannot be decoded into its contract."""


_INFRA_ERRORS: tuple[type[BaseException], ...] = (
    OSError,  # connection refused/reset, includes ConnectionError
    TimeoutError,
    sa_exc.TimeoutError,  # pool exhausted while connections hang
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,  # e.g. ConnectionDoesNotExistError: the connection went away
    asyncpg.exceptions.OperatorInterventionError,  # admin shutdown, pg_terminate_backend
    asyncpg.exceptions.InsufficientResourcesError,  # too many connections
    KafkaError,
)


def infrastructure_failure(exc: BaseException) -> str | None:
    """The reason to retry without limit if ``exc`` (or what caused it) is the database or the
    broker being unavailable, else None: a handler's own failures are not infrastructure."""
    seen: BaseException | None = exc
    for _ in range(5):
        if seen is None:
            return None
        if isinstance(seen, sa_exc.DBAPIError) and seen.connection_invalidated:
            return type(seen).__name__
        if isinstance(seen, _INFRA_ERRORS):
            return type(seen).__name__
        seen = seen.__cause__ or seen.__context__
    return None


def broker_metrics(registry: CollectorRegistry = REGISTRY) -> KafkaPrometheusMiddleware:
    """FastStream's Prometheus middleware. It registers its metrics in ``registry``, so a
    process makes one per registry (the service, once, where it builds its app) and hands it to
    every broker it creates."""
    return KafkaPrometheusMiddleware(registry=registry, app_name="socialseed")


def make_broker(
    bootstrap: str,
    *,
    client_id: str,
    metrics: KafkaPrometheusMiddleware | None = None,
    tracer_provider: TracerProvider | None = None,
) -> KafkaBroker:
    """A broker with tracing (spans from ``tracer_provider``, the service's own; never the
    process-global one), and with ``metrics`` (see ``broker_metrics``) when given."""
    middlewares: list[Any] = [KafkaTelemetryMiddleware(tracer_provider=tracer_provider)]
    if metrics is not None:
        middlewares.append(metrics)
    return KafkaBroker(
        bootstrap,
        client_id=client_id,
        enable_idempotence=True,
        acks="all",
        middlewares=middlewares,
        logger=logging.getLogger(f"faststream.{client_id}"),
        log_level=logging.DEBUG,  # "Received"/"Processed" per message is debug detail
    )


@dataclass(frozen=True)
class EventMeta:
    """CloudEvents attributes of a consumed event."""

    id: uuid.UUID
    type: str
    source: str
    subject: str
    time: datetime | None


Handler = Callable[[E, AsyncSession, EventMeta], Awaitable[None]]


def dlq_topic(topic: str) -> str:
    return f"{topic}.dlq"


class Inbox:
    """Processed event ids per consumer: a redelivered event has no second effect."""

    def __init__(self, table: Table) -> None:
        self.table = table

    async def claim(self, session: AsyncSession, consumer: str, event_id: uuid.UUID) -> bool:
        """True if this is the first time; blocks while a concurrent claimant's tx is open."""
        inserted = await session.execute(
            insert(self.table)
            .values(consumer=consumer, event_id=event_id)
            .on_conflict_do_nothing()
            .returning(self.table.c.event_id)
        )
        return inserted.first() is not None

    async def purge(self, db: Database, *, older_than: datetime, batch: int = 5000) -> int:
        """Forget ids processed before ``older_than``, in short batches (other consumers keep
        inserting meanwhile). The retention must be longer than the topics' own: an id is only
        needed while its message can still be redelivered."""
        t = self.table
        total = 0
        while True:
            async with db.transaction() as session:
                oldest = (
                    select(t.c.consumer, t.c.event_id)
                    .where(t.c.processed_at < older_than)
                    .limit(batch)
                    .with_for_update(skip_locked=True)
                )
                deleted = await session.execute(
                    delete(t)
                    .where(tuple_(t.c.consumer, t.c.event_id).in_(oldest))
                    .returning(t.c.event_id)
                )
                n = len(deleted.all())
            total += n
            if n < batch:
                return total


# Set by ``_parse`` on a record FastStream could not parse; ``decode`` makes it a PoisonMessage.
_UNPARSABLE = "x-socialseed-unparsable"


def _clean_header(value: bytes | None) -> bytes:
    if value is None:
        return b""
    return value.decode("utf-8", errors="backslashreplace").encode()


async def _parse(record: Any, original: Callable[[Any], Awaitable[KafkaMessage]]) -> KafkaMessage:
    """FastStream's parser, except that a record it rejects (a null or non-UTF-8 header value)
    becomes a message marked unparsable, with its headers made printable, so it is
    dead-lettered like any poison instead of failing before our handler sees it (and being
    skipped by the next offset commit)."""
    try:
        return await original(record)
    except Exception as exc:
        headers = [(k, _clean_header(v)) for k, v in record.headers]
        headers.append((_UNPARSABLE, f"{type(exc).__name__}: {exc}"[:500].encode()))
        clean = dataclasses.replace(record, headers=tuple(headers))
        if hasattr(record, "consumer"):
            clean.consumer = record.consumer
        return await original(clean)


async def _raw_body(msg: KafkaMessage, original: Callable[[Any], Awaitable[Any]]) -> Any:
    """No decoding by FastStream: ``decode`` validates the bytes against the contract, so a
    body that is not JSON is a PoisonMessage rather than a failure before the handler."""
    return msg.body


def _headers(msg: KafkaMessage) -> dict[str, str]:
    return {k: (v.decode() if isinstance(v, bytes) else str(v)) for k, v in msg.headers.items()}


def _body(msg: KafkaMessage) -> bytes:
    return msg.body if isinstance(msg.body, bytes) else json.dumps(msg.body).encode()


def decode(event_cls: type[E], msg: KafkaMessage) -> tuple[E, EventMeta]:
    headers = _headers(msg)
    if _UNPARSABLE in headers:
        raise PoisonMessage(f"unparsable record: {headers[_UNPARSABLE]}")
    try:
        meta = EventMeta(
            id=uuid.UUID(headers["ce_id"]),
            type=headers["ce_type"],
            source=headers.get("ce_source", ""),
            subject=headers.get("ce_subject", ""),
            time=datetime.fromisoformat(headers["ce_time"]) if "ce_time" in headers else None,
        )
        if meta.type != event_cls.type_name():
            raise PoisonMessage(f"unexpected ce_type {meta.type!r}")
        return event_cls.model_validate_json(_body(msg)), meta
    except (KeyError, ValueError, ValidationError) as exc:
        raise PoisonMessage(f"{type(exc).__name__}: {exc}") from exc


class OffsetCommits:
    """Processed offsets, committed in batches: every ``every`` messages or ``interval``
    seconds, with explicit offsets (never the consumer's position, which may be ahead of what
    is done). A crash redelivers at most that window, and the inbox makes redelivery harmless;
    one commit round trip per message would cap a consumer at ~150 events/s."""

    def __init__(self, *, every: int = 100, interval: float = 0.5) -> None:
        self.every = every
        self.interval = interval
        self._pending: dict[Any, dict[TopicPartition, int]] = {}
        self._count = 0
        self._timer: asyncio.Task[None] | None = None

    async def done(self, msg: KafkaMessage) -> None:
        raw: Any = msg.raw_message
        offsets = self._pending.setdefault(msg.consumer, {})
        offsets[TopicPartition(raw.topic, raw.partition)] = raw.offset + 1
        self._count += 1
        if self._timer is None or self._timer.done():
            self._timer = asyncio.create_task(self._tick(), name="offset-commits")
        if self._count >= self.every:
            await self.flush()

    async def flush(self) -> None:
        pending, self._pending, self._count = self._pending, {}, 0
        for consumer, offsets in pending.items():
            try:
                await consumer.commit(offsets)
            except KafkaError as exc:
                # Partitions moved in a rebalance: their new owner gets these messages again
                # and the inbox drops them.
                log.info("offset commit skipped (%s); redelivery is deduplicated", exc)

    async def close(self) -> None:
        """Commit what is done and stop the timer (before the broker stops)."""
        if self._timer is not None:
            self._timer.cancel()
            await asyncio.gather(self._timer, return_exceptions=True)
            self._timer = None
        await self.flush()

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            if self._pending:
                await self.flush()


class EventConsumer:
    """Registers inbox-backed, retrying, dead-lettering handlers for one consumer group."""

    def __init__(
        self,
        broker: KafkaBroker,
        db: Database,
        inbox: Inbox,
        *,
        group_id: str,
        max_attempts: int = 5,
        backoff_initial: float = 0.2,
        backoff_max: float = 5.0,
        infra_backoff_max: float = 30.0,
        commits: OffsetCommits | None = None,
    ) -> None:
        self.broker = broker
        self.commits = commits or OffsetCommits()
        self.db = db
        self.inbox = inbox
        self.group_id = group_id
        self.max_attempts = max_attempts
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.infra_backoff_max = infra_backoff_max

    def handler(self, event_cls: type[E]) -> Callable[[Handler[E]], Handler[E]]:
        topic = event_cls.topic

        def register(func: Handler[E]) -> Handler[E]:
            async def on_message(msg: KafkaMessage) -> None:
                await self._handle(event_cls, func, msg)

            on_message.__name__ = f"{self.group_id}:{topic}"
            on_message.__doc__ = (event_cls.__doc__ or "").strip()
            self.broker.subscriber(
                topic,
                group_id=self.group_id,
                ack_policy=AckPolicy.MANUAL,
                auto_offset_reset="earliest",
                title=f"{self.group_id}:{topic}",
                description=on_message.__doc__,
                parser=_parse,
                decoder=_raw_body,
            )(on_message)
            return func

        return register

    async def _handle(self, event_cls: type[E], func: Handler[E], msg: KafkaMessage) -> None:
        topic = event_cls.topic
        token = otel_context.attach(propagate.extract(msg.headers))
        try:
            try:
                event, meta = decode(event_cls, msg)
                outcome = await self._apply(func, event, meta, topic)
            except Exception as exc:
                log.warning("event on %s dead-lettered: %s", topic, exc)
                try:
                    await self._dead_letter(msg, topic, exc)
                except Exception:
                    # Could not park it: rewind so it is delivered again rather than lost.
                    log.exception("dead-lettering failed on %s; will redeliver", topic)
                    await msg.nack()
                    return
                outcome = "dead_lettered"
            telemetry.EVENTS_CONSUMED.labels(self.group_id, topic, outcome).inc()
            await self.commits.done(msg)
        finally:
            otel_context.detach(token)

    async def close(self) -> None:
        """Commit the processed offsets; call before stopping the broker."""
        await self.commits.close()

    async def _apply(self, func: Handler[E], event: E, meta: EventMeta, topic: str) -> str:
        """Run the handler in a transaction: its own failures up to ``max_attempts`` times,
        infrastructure failures for as long as it takes (the partition waits meanwhile)."""
        handler_failures = 0
        paused = telemetry.CONSUMER_PAUSED.labels(self.group_id, topic)
        handler_wait = wait_exponential_jitter(initial=self.backoff_initial, max=self.backoff_max)
        infra_wait = wait_exponential_jitter(
            initial=self.backoff_initial, max=self.infra_backoff_max
        )

        def stop(state: RetryCallState) -> bool:
            nonlocal handler_failures
            exc = state.outcome.exception() if state.outcome else None
            reason = infrastructure_failure(exc) if exc else None
            if reason is not None:
                paused.set(1)
                telemetry.CONSUMER_INFRA_RETRIES.labels(self.group_id, topic, reason).inc()
                log.warning(
                    "consumer %s waits for infrastructure on %s: %s", self.group_id, topic, reason
                )
                return False
            handler_failures += 1
            if handler_failures < self.max_attempts:
                telemetry.EVENT_HANDLER_RETRIES.labels(self.group_id, topic).inc()
                return False
            return True

        def wait(state: RetryCallState) -> float:
            exc = state.outcome.exception() if state.outcome else None
            if exc is not None and infrastructure_failure(exc) is not None:
                return infra_wait(state)
            return handler_wait(state)

        try:
            async for attempt in AsyncRetrying(
                stop=stop,
                wait=wait,
                retry=retry_if_not_exception_type(PermanentError),
                reraise=True,
            ):
                with attempt:
                    async with self.db.transaction() as session:
                        if not await self.inbox.claim(session, self.group_id, meta.id):
                            return "duplicate"
                        await func(event, session, meta)
        finally:
            paused.set(0)
        return "processed"

    async def _dead_letter(self, msg: KafkaMessage, topic: str, exc: BaseException) -> None:
        raw: Any = msg.raw_message
        headers = _headers(msg) | {
            "x-dlq-reason": f"{type(exc).__name__}: {exc}"[:1000],
            "x-dlq-consumer": self.group_id,
            "x-dlq-original-offset": f"{raw.partition}:{raw.offset}",
        }
        await self.broker.publish(_body(msg), topic=dlq_topic(topic), key=raw.key, headers=headers)
