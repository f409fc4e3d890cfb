"""``EventConsumer``: inbox-backed, retrying, dead-lettering handlers for one consumer
group, one event or one partition's batch per transaction (see the package docstring)."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic

from aiokafka import TopicPartition
from faststream import AckPolicy
from faststream.kafka import KafkaBroker, KafkaMessage
from opentelemetry import context as otel_context
from opentelemetry import propagate
from sqlalchemy.ext.asyncio import AsyncSession
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_not_exception_type,
    wait_exponential_jitter,
)

from socialseed import metrics, telemetry, tracing
from socialseed.bus.broker import kafka_group
from socialseed.bus.deadletters import dead_letter
from socialseed.bus.failures import PermanentError, PoisonMessage, infrastructure_failure
from socialseed.bus.inbox import Inbox
from socialseed.bus.offsets import OffsetCommits
from socialseed.bus.records import (
    BatchHandler,
    E,
    EventMeta,
    Handler,
    Record,
    decode,
    headers_of,
    parse_batch,
    parse_record,
    raw_body,
)
from socialseed.db import Database

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Route(Generic[E]):
    """What a subscription does with its topic's messages."""

    event_cls: type[E]
    apply: BatchHandler[E]

    @property
    def topic(self) -> str:
        return self.event_cls.topic


@dataclass(slots=True)
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
        # Spans of the broker's service, when it traces (``make_broker``).
        self.tracer = tracing.broker_tracer(broker)
        # (topic, FastStream subscriber): their aiokafka consumers, for the lag report.
        self.subscribers: list[tuple[str, Any]] = []
        self._lag_reported: set[str] = set()

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
        max_records: int = 2000,
        timeout_ms: int = 100,
        max_partition_fetch_bytes: int = 4 * 1024 * 1024,
    ) -> Callable[[BatchHandler[E]], BatchHandler[E]]:
        """``async def handle(events, session)``: the new events (redelivered ids left out) of
        up to ``max_records`` messages of one partition, as many as arrived within
        ``timeout_ms``, in offset order and in one transaction. A fetch brings at most
        ``max_partition_fetch_bytes`` of a partition (4 MiB; Kafka's default is 1 MiB, about
        2,000 small events): topics of large events raise it, or their batches stay small
        whatever ``max_records``. Bigger batches spread the per-batch costs (a transaction,
        an offset commit, FastStream's middlewares) over more events."""

        def register(func: BatchHandler[E]) -> BatchHandler[E]:
            batch = (max_records, timeout_ms, max_partition_fetch_bytes)
            self._subscribe(_Route(event_cls, func), batch=batch)
            return func

        return register

    def _subscribe(self, route: _Route[E], *, batch: tuple[int, int, int] | None) -> None:
        async def on_message(msg: KafkaMessage) -> None:
            raw: Any = msg.raw_message
            records = raw if isinstance(raw, tuple) else (raw,)
            # Each partition in its own transaction, side by side: their database round
            # trips overlap, while each partition's records stay in order. _consume settles
            # every record (or rewinds the partition) and does not raise.
            await asyncio.gather(
                *(
                    self._consume(route, msg.consumer, partition, delivered)
                    for partition, delivered in _by_partition(records).items()
                )
            )

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
        subscriber = self.broker.subscriber(
            route.topic,
            group_id=kafka_group(self.group_id, route.topic),
            ack_policy=AckPolicy.MANUAL,
            auto_offset_reset="earliest",
            title=title,
            description=on_message.__doc__,
            parser=parse_batch if batch is not None else parse_record,
            decoder=raw_body,
            **batching,
        )
        subscriber(on_message)
        self.subscribers.append((route.topic, subscriber))

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
        token = otel_context.attach(propagate.extract(headers_of(delivery.record)))
        try:
            if delivery.poison is not None:
                raise delivery.poison
            (outcome,) = await self._apply(route, [delivery], handler_attempts=self.max_attempts)
            return outcome
        except Exception as exc:
            log.warning("event on %s dead-lettered: %s", route.topic, exc)
            try:
                await dead_letter(self.broker, delivery.record, route.topic, self.group_id, exc)
            except Exception:
                log.exception("dead-lettering failed on %s; will redeliver", route.topic)
                return None
            metrics.DEAD_LETTERS.labels(self.group_id, route.topic).inc()
            return "dead_lettered"
        finally:
            otel_context.detach(token)

    async def report_lag(self) -> None:
        """Set ``socialseed_consumer_lag_messages`` for each topic from the partitions this
        process holds: the broker's high watermark (one ListOffsets request per consumer)
        minus the group's committed offset. Topics whose partitions all moved to another
        worker read 0 here (the workers' values add up)."""
        for topic, subscriber in self.subscribers:
            consumer: Any = getattr(subscriber, "consumer", None)
            partitions = list(consumer.assignment()) if consumer is not None else []
            lag = 0
            if consumer is not None and partitions:
                ends = await consumer.end_offsets(partitions)
                committed = await asyncio.gather(*(consumer.committed(tp) for tp in partitions))
                for tp, done in zip(partitions, committed, strict=True):
                    lag += max(0, ends[tp] - (done or 0))
            elif topic not in self._lag_reported:
                continue  # nothing held, nothing said before: no series yet
            metrics.CONSUMER_LAG.labels(self.group_id, topic).set(lag)
            self._lag_reported.add(topic)

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

        processing = tracing.processing(
            self.tracer,
            topic,
            kafka_group(self.group_id, topic),
            [d.record for d in deliveries],
            [str(d.meta.id) for d in deliveries if d.meta is not None],
        )
        try:
            with processing:
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


def _by_partition(records: tuple[Record, ...]) -> dict[TopicPartition, list[Record]]:
    partitions: dict[TopicPartition, list[Record]] = defaultdict(list)
    for record in records:
        partitions[TopicPartition(record.topic, record.partition)].append(record)
    return partitions
