"""The long-lived resources of one service process (``Runtime``) and their lifespan: the
database, the Kafka broker, the outbox relay, consumers and background jobs. No web framework
here: ``socialseed.app`` builds the app around a runtime."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, TypeVar

import httpx
from aiokafka.errors import KafkaError
from faststream.kafka import KafkaBroker
from opentelemetry.sdk.trace import TracerProvider
from sqlalchemy import Table, text
from tenacity import (
    AsyncRetrying,
    retry_if_exception_type,
    stop_after_delay,
    wait_exponential_jitter,
)

from socialseed import tracing
from socialseed.bus import EventConsumer, make_broker, process_broker_metrics
from socialseed.db import Database
from socialseed.membership import MembershipCache
from socialseed.metrics import Facts, outbox_facts
from socialseed.notify import Listener
from socialseed.outbox import OutboxRelay
from socialseed.security import JWTVerifier
from socialseed.settings import ServiceSettings

log = logging.getLogger(__name__)

HealthCheck = Callable[[], Awaitable[None]]
S = TypeVar("S", bound=ServiceSettings)


#: Allocations between two young-generation collections (CPython's default is 700).
GC_YOUNG_THRESHOLD = 10_000


def settle_heap() -> None:
    """Once a process has started: what startup made (modules, the app, pools) lives as long
    as the process, so it is moved out of the collector's generations (``gc.freeze``, as
    long-lived servers use it) and a full collection walks only what the work allocates.
    The young generation is collected every 10,000 allocations instead of 700: a batch of
    thousands of rows otherwise pays for a collection every few hundred of them (measured
    with ``bench/ingest.py``: the ingester's Python CPU 0.88 → 0.57 s for 50,000 rows, most
    of it from the freeze)."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_THRESHOLD, middle, old)


@dataclass
class Runtime(Generic[S]):
    """The long-lived resources of one service process, and their lifespan.

    What every service has (settings, database, broker, relay, consumers, background jobs,
    health checks); a service's own domain resources live in its context object
    (``AccountsContext``, ``AuthContext``), which references this one instead of copying it.
    """

    settings: S
    db: Database | None = None
    broker: KafkaBroker | None = None
    relay: OutboxRelay | None = None
    health_checks: dict[str, HealthCheck] = field(default_factory=dict)
    background: list[Callable[[], Coroutine[Any, Any, None]]] = field(default_factory=list)
    cleanups: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    verifier: JWTVerifier | None = None
    consumers: list[EventConsumer] = field(default_factory=list)
    # Outgoing clients to instrument for tracing (only these; never every client in the process).
    http_clients: list[httpx.AsyncClient] = field(default_factory=list)
    # The membership changes this service records (``socialseed.membership``): tokens issued
    # before a change lose or lower that workspace's role. None: token roles are taken as is.
    member_changes: Table | None = None
    # The notification listener of the process's caches (``socialseed.notify``), run for the
    # runtime's life; ``membership``: the members' changes held in memory through it.
    listener: Listener | None = None
    membership: MembershipCache | None = None
    # The service's tracer provider, when something built before the app (its Kafka broker)
    # needs it too; otherwise create_service_app makes one.
    tracer_provider: TracerProvider | None = None
    # Gauges read from the database when /metrics is scraped (``socialseed.metrics.Facts``):
    # the outbox's backlog for every service with a database; a service adds its own readers.
    facts: Facts | None = None

    def __post_init__(self) -> None:
        if self.db is not None:
            self.health_checks.setdefault("database", self._check_db)
        if self.relay is not None:
            self.health_checks.setdefault("kafka", self._check_relay)

    @property
    def database(self) -> Database:
        """The database, for a service that has one."""
        assert self.db is not None, "this service has no database"
        return self.db

    async def _check_db(self) -> None:
        assert self.db is not None
        async with self.db.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def _check_relay(self) -> None:
        assert self.relay is not None
        producer = self.relay.producer
        if producer is None:
            raise RuntimeError("relay not started")
        await producer.client.fetch_all_metadata()

    @contextlib.asynccontextmanager
    async def lifespan(self, _app: object) -> AsyncIterator[None]:
        tasks: list[asyncio.Task[None]] = []
        if self.broker is not None:
            await self._when_reachable("the Kafka broker", self.broker.start)
        if self.relay is not None:
            await self._when_reachable("the outbox relay's producer", self.relay.start)
            tasks.append(asyncio.create_task(self.relay.run(), name="outbox-relay"))
        if self.listener is not None:
            tasks.append(asyncio.create_task(self.listener.run(), name="notify-listener"))
        tasks += [asyncio.create_task(job()) for job in self.background]
        if self.db is not None and self.consumers:
            tasks.append(asyncio.create_task(self._purge_inboxes(), name="inbox-purge"))
        if self.consumers:
            tasks.append(asyncio.create_task(self._report_lag(), name="consumer-lag"))
        settle_heap()
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if self.relay is not None:
                await self.relay.stop()
            for consumer in self.consumers:
                await consumer.close()
            if self.broker is not None:
                await self.broker.stop()
            if self.db is not None:
                await self.db.dispose()
            for cleanup in self.cleanups:
                await cleanup()

    async def _when_reachable(self, what: str, start: Callable[[], Awaitable[None]]) -> None:
        """``start`` once the broker answers: a process started while Kafka restarts (a
        worker the supervisor replaces, a deploy during an outage) waits for it, up to
        ``startup_wait`` seconds, instead of failing its startup, which would stop every
        worker of the service for good (uvicorn's supervisor does not retry a failed start)."""
        async for attempt in AsyncRetrying(
            retry=retry_if_exception_type((KafkaError, OSError)),
            wait=wait_exponential_jitter(initial=0.5, max=5.0),
            stop=stop_after_delay(self.settings.startup_wait),
            before_sleep=lambda state: log.warning(
                "%s is not reachable yet (%s); retrying",
                what,
                state.outcome and state.outcome.exception(),
            ),
            reraise=True,
        ):
            with attempt:
                await start()

    async def _report_lag(self) -> None:
        """Every ``consumer_lag_interval`` seconds: each consumer's lag, for the metrics (off
        the consuming path: one offsets request per subscription)."""
        while True:
            await asyncio.sleep(self.settings.consumer_lag_interval)
            for consumer in self.consumers:
                try:
                    await consumer.report_lag()
                except Exception as exc:  # the broker away: the next round tries again
                    log.info("consumer lag not read (%s: %s)", type(exc).__name__, exc)

    async def _purge_inboxes(self) -> None:
        """Hourly: drop inbox ids older than ``inbox_retention_days`` (any replica may run it;
        deleting in batches with SKIP LOCKED lets them overlap)."""
        assert self.db is not None
        retention = timedelta(days=self.settings.inbox_retention_days)
        while True:
            for inbox in {id(c.inbox): c.inbox for c in self.consumers}.values():
                try:
                    await inbox.purge(self.db, older_than=datetime.now(UTC) - retention)
                except Exception:  # housekeeping must not take the service down; next hour
                    log.warning("inbox purge failed", exc_info=True)
            await asyncio.sleep(3600)


def service_runtime(
    settings: S,
    *,
    outbox: Table,
    client_id: str,
    http: httpx.AsyncClient | None = None,
    member_changes: Table | None = None,
    verifier: JWTVerifier | None = None,
    consumes: bool = True,
) -> Runtime[S]:
    """The ``Runtime`` of a service with its own database that writes events: its database,
    outbox relay and (when it ``consumes`` events) broker, all only when Kafka is enabled; a
    JWT verifier (auth's JWKS unless ``verifier`` is given); membership tracking; tracing;
    ``http`` instrumented and closed. The caller adds consumers, background jobs and cleanups
    of its own. Every service with a database is built by this one function."""
    db = Database(
        settings.database_url, pool_size=settings.db_pool_size, name=settings.service_name
    )
    tracer = tracing.tracer_provider(settings)
    traced = tracing.tracing_enabled(settings)
    kafka = settings.kafka_enabled
    facts = Facts(db)
    facts.add(outbox_facts(outbox, settings.service_name))
    return Runtime(
        settings=settings,
        http_clients=[http] if http is not None else [],
        db=db,
        relay=OutboxRelay(
            db,
            outbox,
            settings.kafka_bootstrap,
            poll_interval=settings.outbox_poll_interval,
            tracer=tracing.relay_tracer(tracer) if traced else None,
        )
        if kafka
        else None,
        broker=make_broker(
            settings.kafka_bootstrap,
            client_id=client_id,
            metrics=process_broker_metrics(),
            tracer_provider=tracer if traced else None,
        )
        if kafka and consumes
        else None,
        cleanups=[http.aclose] if http is not None else [],
        verifier=verifier or JWTVerifier.for_service(settings),
        member_changes=member_changes,
        tracer_provider=tracer,
        facts=facts,
    )
