"""The metrics that say whether SocialSeed does its job, beside the request metrics of
``socialseed.telemetry``: named constants every service shares, the build info, and ``Facts``,
the gauges that are facts of the database (targets by state, the outbox backlog, accounts by
status...), read when ``/metrics`` is scraped rather than kept up to date on the hot path.

Labels are bounded: a platform, a state, an outcome, a topic, a bounded endpoint name — never
a user, post, workspace or account id. ``docs/operations.md`` ("Metrics") lists every metric
and what it watches.

With several worker processes (``socialseed.workers``) counters and histograms add up across
workers; each gauge here says how its workers' values combine (``multiprocess_mode``).
``Facts`` are not process state at all: whichever worker answers the scrape reads them.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import re
import subprocess
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Table, and_, func, literal, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

if TYPE_CHECKING:
    from socialseed.db import Database

log = logging.getLogger(__name__)

# -- build ------------------------------------------------------------------------------------
BUILD_INFO = Gauge(
    "socialseed_build_info",
    "1, labelled with the service's version and the commit it was built from",
    ["service", "version", "commit"],
    multiprocess_mode="livemax",
)

# -- publishing (publisher) ---------------------------------------------------------------------
PUBLISH_LATENESS = Histogram(
    "socialseed_publish_lateness_seconds",
    "From a post's due time to the platform accepting it, once per published target",
    ["platform"],
    buckets=(1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600),
)
PUBLISH_ATTEMPTS = Counter(
    "socialseed_publish_attempts_total",
    "Publish attempts by how they ended (published, pending, retry, in_doubt, failed) and "
    "the class of the platform's error (none when there was none)",
    ["platform", "outcome", "error_class"],
)
PLATFORM_CIRCUIT = Gauge(
    "socialseed_platform_circuit_state",
    "A platform's circuit breaker: 0 closed, 1 half-open (probing), 2 open (calls paused)",
    ["service", "platform"],
    # With several workers: the most open of the live workers' breakers.
    multiprocess_mode="livemax",
)
PUBLISH_RATE_LIMIT_WAITS = Counter(
    "socialseed_publish_rate_limit_waits_total",
    "Targets held back (waiting) by a rate limit: ours before the call, or the platform's 429",
    ["platform"],
)

# -- platform calls (every service that calls the platforms) ------------------------------------
PLATFORM_CALLS = Counter(
    "socialseed_platform_calls_total",
    "Requests to the platforms by bounded endpoint name and HTTP status (error: no answer)",
    ["service", "platform", "endpoint", "status"],
)
PLATFORM_RATE_LIMITED = Counter(
    "socialseed_platform_rate_limited_total",
    "429 answers the platforms sent us (the budgets should keep this at zero)",
    ["service", "platform"],
)

# -- analytics sync ---------------------------------------------------------------------------
SNAPSHOTS_INGESTED = Counter(
    "socialseed_snapshots_ingested_total",
    "Metric snapshots written by the ingester (kind: post or account)",
    ["kind"],
)
INGEST_BATCH = Histogram(
    "socialseed_ingest_batch_seconds",
    "Time to write one batch of fetched metrics (one partition's events, one transaction)",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)

# -- the bus ----------------------------------------------------------------------------------
CONSUMER_LAG = Gauge(
    "socialseed_consumer_lag_messages",
    "Messages not yet committed by a consumer group: high watermark minus committed offset, "
    "summed over the partitions this service holds",
    ["consumer", "topic"],
    # Each worker reports the partitions it holds; the service's lag is their sum.
    multiprocess_mode="livesum",
)
DEAD_LETTERS = Counter(
    "socialseed_dead_letters_total",
    "Messages a consumer gave up on and wrote to <topic>.dlq",
    ["consumer", "topic"],
)

# -- accounts ---------------------------------------------------------------------------------
TOKEN_REFRESHES = Counter(
    "socialseed_token_refreshes_total",
    "Platform token refreshes by outcome (refreshed, failed, reauth_required)",
    ["platform", "outcome"],
)

# -- webhooks ---------------------------------------------------------------------------------
WEBHOOK_DELIVERIES = Counter(
    "socialseed_webhook_deliveries_total",
    "Webhook delivery attempts by how they ended: succeeded (a 2xx), retry (failed, another "
    "attempt scheduled), failed (the last attempt failed: the endpoint is turned off)",
    ["outcome"],
)
WEBHOOK_ATTEMPT_DURATION = Histogram(
    "socialseed_webhook_attempt_duration_seconds",
    "One webhook attempt, from the request's start to the receiver's answer read (or the "
    "timeout, or the connection failing), by outcome",
    ["outcome"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
WEBHOOK_ENDPOINTS_DISABLED = Counter(
    "socialseed_webhook_endpoints_disabled_total",
    "Webhook endpoints turned off because every attempt of a delivery failed",
)


# -- build info -------------------------------------------------------------------------------
def record_build_info(service: str) -> None:
    BUILD_INFO.labels(service, _version(service), build_commit()).set(1)


def _version(service: str) -> str:
    for name in (f"socialseed-{service}", "socialseed-shared"):
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return "unknown"


@functools.cache
def build_commit() -> str:
    """``SOCIALSEED_COMMIT`` (set by an image build), else the checkout's ``git rev-parse``
    (once per process), else ``unknown``."""
    if commit := os.environ.get("SOCIALSEED_COMMIT", "").strip():
        return commit[:40]
    try:
        done = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=2,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    commit = done.stdout.strip()
    return commit if done.returncode == 0 and re.fullmatch(r"[0-9a-f]{4,40}", commit) else "unknown"


# -- platform calls ---------------------------------------------------------------------------
_ID_LIKE = re.compile(r"\d{4,}|[0-9a-fA-F-]{16,}|.*[:%=@].*|.{41,}")
_ENDPOINTS_PER_PLATFORM = 64
_endpoints: dict[tuple[str, str], str] = {}
# The names given so far, per platform (what the cap counts): kept beside the cache of URLs,
# so a URL not seen before (most carry ids) costs a lookup, not a walk over the whole cache.
_names: dict[str, set[str]] = {}


def endpoint_name(platform: str, url: str) -> str:
    """A bounded name for the endpoint of ``url``: its path with the sandbox's platform prefix
    dropped and every segment that looks like an id (long numbers, hex, URNs, escapes, very
    long segments) replaced by ``{id}``, e.g. ``/2/tweets/{id}``. Past 64 names for one
    platform, ``other``: a path shape we did not foresee can never explode the label set."""
    key = (platform, url)
    name = _endpoints.get(key)
    if name is not None:
        return name
    segments = [s for s in urlsplit(url).path.split("/") if s]
    if segments[:1] == [platform]:
        segments = segments[1:]
    name = "/" + "/".join("{id}" if _ID_LIKE.fullmatch(s) else s for s in segments)
    known = _names.setdefault(platform, set())
    if name not in known:
        if len(known) >= _ENDPOINTS_PER_PLATFORM:
            name = "other"
        else:
            known.add(name)
    if len(_endpoints) < 10_000:  # a cache of URLs (ids in them): bounded too
        _endpoints[key] = name
    return name


def count_platform_call(service: str, platform: str, url: str, status: int | None) -> None:
    """One request to a platform (``status`` None: no answer came)."""
    PLATFORM_CALLS.labels(
        service, platform, endpoint_name(platform, url), str(status) if status else "error"
    ).inc()
    if status == 429:
        PLATFORM_RATE_LIMITED.labels(service, platform).inc()


# -- facts of the database --------------------------------------------------------------------
Reader = Callable[[AsyncConnection, datetime], Awaitable[Iterable[Metric]]]


def gauge(name: str, documentation: str, labels: Iterable[str] = ()) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, labels=list(labels))


class _Fixed(Collector):
    def __init__(self, families: list[Metric]) -> None:
        self.families = families

    def collect(self) -> Iterator[Metric]:
        return iter(self.families)


class Facts:
    """Gauges read from the database when ``/metrics`` is scraped: each ``reader`` runs a few
    cheap (indexed, bounded) queries on one connection and returns metric families.

    A scrape never waits more than ``timeout`` seconds on the database (and each statement is
    cancelled by PostgreSQL after that too): when it is slow or away the facts are left out of
    that answer — an absent series, not a stale value — and the rest is served. Answers are
    reused for ``fresh_for`` seconds, so several Prometheus servers (or a curious operator)
    scraping at once cost one round of queries."""

    def __init__(self, db: Database, *, timeout: float = 2.0, fresh_for: float = 5.0) -> None:
        self.db = db
        self.timeout = timeout
        self.fresh_for = fresh_for
        self.readers: list[Reader] = []
        self._lock = asyncio.Lock()
        self._at = -float("inf")
        self._text = b""

    def add(self, reader: Reader) -> None:
        self.readers.append(reader)

    async def exposition(self) -> bytes:
        """The facts in Prometheus' text format (empty when they could not be read)."""
        if not self.readers:
            return b""
        async with self._lock:
            if time.monotonic() - self._at < self.fresh_for:
                return self._text
            try:
                families = await asyncio.wait_for(self._read(), self.timeout)
            except Exception as exc:  # the scrape still answers, without the facts
                log.warning("metrics: database facts not read (%s: %s)", type(exc).__name__, exc)
                families = []
            registry = CollectorRegistry(auto_describe=False)
            registry.register(_Fixed(families))
            self._text = generate_latest(registry)
            self._at = time.monotonic()
            return self._text

    async def _read(self) -> list[Metric]:
        now = datetime.now(UTC)
        families: list[Metric] = []
        async with self.db.engine.connect() as conn:
            await conn.execute(
                text(f"SET LOCAL statement_timeout = {max(1, int(self.timeout * 1000))}")
            )
            for reader in self.readers:
                families += await reader(conn, now)
            await conn.rollback()
        return families


def outbox_facts(outbox: Table, service: str) -> Reader:
    """The outbox backlog (rows not yet sent, parked ones left out; counted up to 100,000)
    and the age of its oldest row, from the partial index on unsent rows."""
    waiting = and_(outbox.c.sent_at.is_(None), outbox.c.parked_at.is_(None))
    unsent = select(literal(1)).where(waiting).limit(100_000).subquery("unsent")
    backlog_sql = select(func.count()).select_from(unsent)
    oldest_sql = select(outbox.c.created_at).where(waiting).order_by(outbox.c.id).limit(1)

    async def read(conn: AsyncConnection, now: datetime) -> list[Metric]:
        backlog = int((await conn.execute(backlog_sql)).scalar_one())
        oldest: datetime | None = (await conn.execute(oldest_sql)).scalar()
        size = gauge("socialseed_outbox_backlog", "Outbox rows not yet sent to Kafka", ["service"])
        size.add_metric([service], backlog)
        oldest_age = gauge(
            "socialseed_outbox_oldest_age_seconds",
            "Age of the oldest outbox row not yet sent (0 when none)",
            ["service"],
        )
        oldest_age.add_metric([service], age(now, oldest))
        return [size, oldest_age]

    return read


def age(now: datetime, since: datetime | None) -> float:
    """Seconds from ``since`` to ``now`` (0 when ``since`` is None or in the future)."""
    return max(0.0, (now - since).total_seconds()) if since is not None else 0.0


__all__ = [
    "BUILD_INFO",
    "CONSUMER_LAG",
    "DEAD_LETTERS",
    "INGEST_BATCH",
    "PLATFORM_CALLS",
    "PLATFORM_CIRCUIT",
    "PLATFORM_RATE_LIMITED",
    "PUBLISH_ATTEMPTS",
    "PUBLISH_LATENESS",
    "PUBLISH_RATE_LIMIT_WAITS",
    "SNAPSHOTS_INGESTED",
    "TOKEN_REFRESHES",
    "WEBHOOK_ATTEMPT_DURATION",
    "WEBHOOK_DELIVERIES",
    "WEBHOOK_ENDPOINTS_DISABLED",
    "Facts",
    "Reader",
    "age",
    "count_platform_call",
    "endpoint_name",
    "gauge",
    "outbox_facts",
    "record_build_info",
]
