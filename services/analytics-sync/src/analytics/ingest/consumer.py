"""The ingester: ``metrics.fetched`` batches into the time series, many events per
transaction (``EventConsumer.batch_handler``), a few set statements per transaction. The
events are read as ``FetchedBatch``: their posts stay JSON until the repository decodes them
(msgspec) for a binary ``COPY``, or PostgreSQL reads them on the statement path."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from analytics.ingest.batch import FetchedBatch
from analytics.ingest.repository import AccountRows, Failures, IngestRepository, SyncDelta
from analytics.models import sync_error
from analytics.settings import AnalyticsSettings
from socialseed.bus import BatchHandler, EventConsumer, EventMeta
from socialseed.metrics import INGEST_BATCH, SNAPSHOTS_INGESTED


async def ingest(session: AsyncSession, batches: list[FetchedBatch]) -> int:
    """Write the batches' snapshots, latest values, failures and sync counters; returns how
    many post snapshots were new (0 for a batch seen before)."""
    accounts, failures = AccountRows(), Failures()
    for batch in batches:
        for failure in batch.failures:
            failures.add(failure.tracked_post_id, batch.account_id, failure.gap, failure.message)
        if batch.account is not None:
            accounts.add(batch.account_id, batch.workspace_id, batch.fetched_at, batch.account)
    repo = IngestRepository(session)
    with INGEST_BATCH.time():
        posts = await repo.insert_post_snapshots(batches)
        account_snapshots = await repo.insert_account_snapshots(accounts)
        await repo.mark_failures(failures)
        await repo.bump_syncs(sync_deltas(batches, posts.per_batch))
        await repo.bump_data_versions({batch.workspace_id for batch in batches})
    # Written in the handler's transaction: a batch rolled back and applied again (one by
    # one) counts twice, which the rate of a busy ingester does not notice.
    SNAPSHOTS_INGESTED.labels("post").inc(posts.inserted)
    SNAPSHOTS_INGESTED.labels("account").inc(account_snapshots)
    return posts.inserted


def sync_deltas(batches: list[FetchedBatch], posts: list[int]) -> dict[uuid.UUID, SyncDelta]:
    """What the batches that belong to a sync add to its counters (``posts``: how many posts
    each batch carried)."""
    syncs: dict[uuid.UUID, SyncDelta] = {}
    for batch, synced in zip(batches, posts, strict=True):
        if batch.sync_id is None:
            continue
        delta = syncs.setdefault(batch.sync_id, SyncDelta())
        delta.synced += synced
        delta.failed += len(batch.failures)
        counts = delta.by_platform.setdefault(batch.platform, [0, 0])
        counts[0] += synced
        counts[1] += len(batch.failures)
        delta.errors += [
            sync_error(f.tracked_post_id, batch.platform, f.gap, f.message) for f in batch.failures
        ]
    return syncs


async def on_fetched(events: list[tuple[FetchedBatch, EventMeta]], session: AsyncSession) -> None:
    """The ingester's batch handler: one partition's new events, in one transaction."""
    await ingest(session, [event for event, _ in events])


def ingest_metrics(
    consumer: EventConsumer,
    settings: AnalyticsSettings,
    handler: BatchHandler[FetchedBatch] = on_fetched,
) -> None:
    """Subscribe ``handler`` (the ingester's, or a bench's wrapping it) to ``metrics.fetched``
    with the service's batch settings."""
    consumer.batch_handler(
        FetchedBatch,
        max_records=settings.ingest_max_records,
        timeout_ms=settings.ingest_timeout_ms,
        max_partition_fetch_bytes=settings.ingest_fetch_bytes,
    )(handler)
