"""The Kafka bus: a FastStream broker per service and event consumers with an inbox.

Consumers never use FastStream's default ack policy (ACK_FIRST turns auto-commit on, so a
consumer killed mid-handler would lose the message). Each message is handled in one database
transaction that also records its event id in the inbox. A failure of the handler itself is
retried a bounded number of times with jittered backoff, then dead-lettered to ``<topic>.dlq``;
a failure of the infrastructure (database or broker unreachable) holds the partition and is
retried without limit, so a database blip never dead-letters healthy events. The offset is
committed only after that (in batches, see ``OffsetCommits``), so nothing is lost.

A batch handler (``EventConsumer.batch_handler``) gets up to N messages of one partition at a
time and applies them in one transaction: one inbox insert claims all their ids (ids already
there are redeliveries and left out), the handler gets the new events, and the offset is
committed after the transaction. If the handler fails on the batch, its events are applied
again one by one, each in its own transaction with the policy above, so a poison message is
dead-lettered alone and the rest commit.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import uuid
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeAlias, TypeVar

import asyncpg
from aiokafka import ConsumerRecord, TopicPartition
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
from sqlalchemy import Table, bindparam, delete, func, literal, select, tuple_
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects.postgresql import ARRAY, UUID, insert
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
BatchHandler = Callable[[list[tuple[E, EventMeta]], AsyncSession], Awaitable[None]]
Record: TypeAlias = ConsumerRecord[bytes, bytes]


def kafka_group(consumer: str, topic: str) -> str:
    """The Kafka consumer group of one consumer's subscription to one topic.

    One group per topic, not one per consumer: each subscription is its own Kafka client, and
    clients of one group rebalance together, so a consumer of six topics in one group went
    through six rebalances at start-up (minutes before it read anything). Replicas of a service
    still share each topic's partitions. The inbox keys on ``consumer``, whatever the group."""
    return f"{consumer}.{topic}"


def dlq_topic(topic: str) -> str:
    return f"{topic}.dlq"


class Inbox:
    """Processed event ids per consumer: a redelivered event has no second effect."""

    def __init__(self, table: Table) -> None:
        self.table = table

    async def claim(self, session: AsyncSession, consumer: str, event_id: uuid.UUID) -> bool:
        """True if this is the first time; blocks while a concurrent claimant's tx is open."""
        return event_id in await self.claim_many(session, consumer, [event_id])

    async def claim_many(
        self, session: AsyncSession, consumer: str, event_ids: list[uuid.UUID]
    ) -> set[uuid.UUID]:
        """The ids among ``event_ids`` seen for the first time, claimed in one statement."""
        if not event_ids:
            return set()
        t = self.table
        ids = select(literal(consumer), func.unnest(bindparam("ids", type_=ARRAY(UUID))))
        inserted = await session.execute(
            insert(t)
            .from_select([t.c.consumer, t.c.event_id], ids)
            .on_conflict_do_nothing()
            .returning(t.c.event_id),
            {"ids": event_ids},
        )
        return set(inserted.scalars())

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


# Set by ``_parsable`` on a record FastStream could not parse; ``decode`` makes it a
# PoisonMessage.
_UNPARSABLE = "x-socialseed-unparsable"


def _clean_header(value: bytes | None) -> bytes:
    if value is None:
        return b""
    return value.decode("utf-8", errors="backslashreplace").encode()


def _parsable(record: Any) -> Any:
    """The record, or, if a header value is null or not UTF-8 (FastStream's parser would fail
    on it before our handler sees it, and the next offset commit would skip it), a copy with
    printable headers marked unparsable, so it is dead-lettered like any poison."""
    try:
        for _, value in record.headers:
            value.decode()
    except (AttributeError, UnicodeDecodeError) as exc:
        headers = [(k, _clean_header(v)) for k, v in record.headers]
        headers.append((_UNPARSABLE, f"{type(exc).__name__}: {exc}"[:500].encode()))
        clean = dataclasses.replace(record, headers=tuple(headers))
        if hasattr(record, "consumer"):
            clean.consumer = record.consumer
        return clean
    return record


async def _parse(record: Any, original: Callable[[Any], Awaitable[KafkaMessage]]) -> KafkaMessage:
    return await original(_parsable(record))


async def _parse_batch(
    records: tuple[Any, ...], original: Callable[[Any], Awaitable[KafkaMessage]]
) -> KafkaMessage:
    return await original(tuple(_parsable(record) for record in records))


async def _raw_body(msg: KafkaMessage, original: Callable[[Any], Awaitable[Any]]) -> Any:
    """No decoding by FastStream: ``decode`` validates the bytes against the contract, so a
    body that is not JSON is a PoisonMessage rather than a failure before the handler."""
    return msg.body


def _headers(record: Record) -> dict[str, str]:
    return {k: v.decode() for k, v in record.headers}


def decode(event_cls: type[E], record: Record) -> tuple[E, EventMeta]:
    """The event and its CloudEvents attributes, from a record ``_parsable`` has seen."""
    headers = _headers(record)
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
        return event_cls.from_json(record.value or b""), meta
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

    async def done(
        self, consumer: Any, partition: TopicPartition, next_offset: int, count: int = 1
    ) -> None:
        """``count`` messages of ``partition`` are settled, up to ``next_offset`` (exclusive)."""
        self._pending.setdefault(consumer, {})[partition] = next_offset
        self._count += count
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


@dataclass(frozen=True)
class _Route(Generic[E]):
    """What a subscription does with its topic's messages."""

    event_cls: type[E]
    apply: BatchHandler[E]

    @property
    def topic(self) -> str:
        return self.event_cls.topic


@dataclass
class _Delivery(Generic[E]):
    """One record of a partition's batch: its event, or why it cannot be decoded."""

    record: Record
    event: E | None = None
    meta: EventMeta | None = None
    poison: PoisonMessage | None = None

    @classmethod
    def of(cls, event_cls: type[E], record: Record) -> _Delivery[E]:
        try:
            event, meta = decode(event_cls, record)
        except PoisonMessage as exc:
            return cls(record, poison=exc)
        return cls(record, event, meta)


class EventConsumer:
    """Registers inbox-backed, retrying, dead-lettering handlers for one consumer group.

    ``handler`` applies each event in its own transaction; ``batch_handler`` applies up to
    ``max_records`` events of a partition in one (see the module docstring)."""

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
        """``async def handle(event, session, meta)``, one event per transaction."""

        def register(func: Handler[E]) -> Handler[E]:
            async def each(events: list[tuple[E, EventMeta]], session: AsyncSession) -> None:
                for event, meta in events:
                    await func(event, session, meta)

            self._subscribe(_Route(event_cls, each), batch=None)
            return func

        return register

    def batch_handler(
        self,
        event_cls: type[E],
        *,
        max_records: int = 500,
        timeout_ms: int = 100,
        max_partition_fetch_bytes: int = 1024 * 1024,
    ) -> Callable[[BatchHandler[E]], BatchHandler[E]]:
        """``async def handle(events, session)``: the new events (redelivered ids left out) of
        up to ``max_records`` messages of one partition, as many as arrived within
        ``timeout_ms``, in offset order and in one transaction. A fetch brings at most
        ``max_partition_fetch_bytes`` of a partition (Kafka's default, 1 MiB): topics of
        large events raise it, or their batches stay small whatever ``max_records``."""

        def register(func: BatchHandler[E]) -> BatchHandler[E]:
            batch = (max_records, timeout_ms, max_partition_fetch_bytes)
            self._subscribe(_Route(event_cls, func), batch=batch)
            return func

        return register

    def _subscribe(self, route: _Route[E], *, batch: tuple[int, int, int] | None) -> None:
        async def on_message(msg: KafkaMessage) -> None:
            raw: Any = msg.raw_message
            records = raw if isinstance(raw, tuple) else (raw,)
            for partition, delivered in _by_partition(records).items():
                await self._consume(route, msg.consumer, partition, delivered)

        title = f"{self.group_id}:{route.topic}"
        on_message.__name__ = title
        on_message.__doc__ = (route.event_cls.__doc__ or "").strip()
        batching: dict[str, Any] = {}
        if batch is not None:
            max_records, timeout_ms, fetch_bytes = batch
            batching = {
                "batch": True,
                "max_records": max_records,
                "batch_timeout_ms": timeout_ms,
                "max_partition_fetch_bytes": fetch_bytes,
            }
        self.broker.subscriber(
            route.topic,
            group_id=kafka_group(self.group_id, route.topic),
            ack_policy=AckPolicy.MANUAL,
            auto_offset_reset="earliest",
            title=title,
            description=on_message.__doc__,
            parser=_parse_batch if batch is not None else _parse,
            decoder=_raw_body,
            **batching,
        )(on_message)

    async def _consume(
        self, route: _Route[E], consumer: Any, partition: TopicPartition, records: list[Record]
    ) -> None:
        """Settle a partition's records in order, then commit past the settled ones. The
        decodable ones are first tried together in one transaction; if the handler fails on
        them, each goes alone, so a poison message is dead-lettered alone."""
        deliveries = [_Delivery.of(route.event_cls, record) for record in records]
        together = await self._apply_together(route, deliveries)
        outcomes: Counter[str] = Counter()
        settled: Record | None = None
        for delivery in deliveries:
            outcome = together.get(id(delivery)) or await self._settle_alone(route, delivery)
            if outcome is None:
                # Could not park it: rewind so it is delivered again rather than lost.
                consumer.seek(partition, delivery.record.offset)
                break
            outcomes[outcome] += 1
            settled = delivery.record
        for outcome, n in outcomes.items():
            telemetry.EVENTS_CONSUMED.labels(self.group_id, route.topic, outcome).inc(n)
        if settled is not None:
            await self.commits.done(consumer, partition, settled.offset + 1, outcomes.total())

    async def _apply_together(
        self, route: _Route[E], deliveries: list[_Delivery[E]]
    ) -> dict[int, str]:
        """The outcomes (by delivery's id()) of the decodable deliveries applied in one
        transaction, or none if there are fewer than two or the handler failed on them."""
        decodable = [d for d in deliveries if d.poison is None]
        if len(decodable) < 2:
            return {}
        try:
            outcomes = await self._apply(route, decodable, handler_attempts=1)
        except Exception as exc:
            log.info(
                "batch of %d on %s failed (%s: %s); applying its events one by one",
                len(decodable),
                route.topic,
                type(exc).__name__,
                exc,
            )
            return {}
        return {id(d): outcome for d, outcome in zip(decodable, outcomes, strict=True)}

    async def _settle_alone(self, route: _Route[E], delivery: _Delivery[E]) -> str | None:
        """Apply one delivery in its own transaction, retried, or dead-letter it. None if it
        could not be dead-lettered."""
        token = otel_context.attach(propagate.extract(_headers(delivery.record)))
        try:
            if delivery.poison is not None:
                raise delivery.poison
            (outcome,) = await self._apply(route, [delivery], handler_attempts=self.max_attempts)
            return outcome
        except Exception as exc:
            log.warning("event on %s dead-lettered: %s", route.topic, exc)
            try:
                await self._dead_letter(delivery.record, route.topic, exc)
            except Exception:
                log.exception("dead-lettering failed on %s; will redeliver", route.topic)
                return None
            return "dead_lettered"
        finally:
            otel_context.detach(token)

    async def close(self) -> None:
        """Commit the processed offsets; call before stopping the broker."""
        await self.commits.close()

    async def _apply(
        self, route: _Route[E], deliveries: list[_Delivery[E]], *, handler_attempts: int
    ) -> list[str]:
        """Claim the deliveries' ids in the inbox and run the handler on the new ones, in one
        transaction: its own failures up to ``handler_attempts`` times, infrastructure failures
        for as long as it takes (the partition waits meanwhile). The outcome of each."""
        handler_failures = 0
        topic = route.topic
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
            if handler_failures < handler_attempts:
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
                        return await self._claim_and_handle(route, deliveries, session)
        finally:
            paused.set(0)
        raise AssertionError("unreachable: tenacity returns or reraises")

    async def _claim_and_handle(
        self, route: _Route[E], deliveries: list[_Delivery[E]], session: AsyncSession
    ) -> list[str]:
        ids = [d.meta.id for d in deliveries if d.meta is not None]
        new = await self.inbox.claim_many(session, self.group_id, ids)
        events: list[tuple[E, EventMeta]] = []
        outcomes = []
        for d in deliveries:
            assert d.event is not None and d.meta is not None
            if d.meta.id in new:
                new.discard(d.meta.id)  # a second copy within the batch is a duplicate
                events.append((d.event, d.meta))
                outcomes.append("processed")
            else:
                outcomes.append("duplicate")
        if events:
            await route.apply(events, session)
        return outcomes

    async def _dead_letter(self, record: Record, topic: str, exc: BaseException) -> None:
        headers = _headers(record) | {
            "x-dlq-reason": f"{type(exc).__name__}: {exc}"[:1000],
            "x-dlq-consumer": self.group_id,
            "x-dlq-original-offset": f"{record.partition}:{record.offset}",
        }
        await self.broker.publish(
            record.value or b"", topic=dlq_topic(topic), key=record.key, headers=headers
        )


def _by_partition(records: tuple[Record, ...]) -> dict[TopicPartition, list[Record]]:
    partitions: dict[TopicPartition, list[Record]] = defaultdict(list)
    for record in records:
        partitions[TopicPartition(record.topic, record.partition)].append(record)
    return partitions
