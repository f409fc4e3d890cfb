"""The ingester: ``metrics.fetched`` batches into the time series, many events per
transaction (``EventConsumer.batch_handler``), a few set statements per transaction."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from analytics.ingest.repository import (
    AccountRows,
    Failures,
    IngestRepository,
    PostRows,
    SyncDelta,
)
from analytics.settings import AnalyticsSettings
from socialseed.bus import EventConsumer, EventMeta
from socialseed.contracts import MetricsFetched


async def ingest(session: AsyncSession, events: list[MetricsFetched]) -> int:
    """Write the events' snapshots, latest values, daily rollups, failures and sync counters;
    returns how many post snapshots were new (0 for a batch seen before)."""
    posts, accounts, failures = PostRows(), AccountRows(), Failures()
    syncs: dict[uuid.UUID, SyncDelta] = {}
    for event in events:
        for item in event.posts:
            posts.add(
                item.tracked_post_id, event.account_id, event.workspace_id, event.fetched_at, item
            )
        for failure in event.failures:
            failures.add(failure.tracked_post_id, event.account_id, failure.gap, failure.message)
        if event.account is not None:
            accounts.add(event.account_id, event.workspace_id, event.fetched_at, event.account)
        if event.sync_id is not None:
            delta = syncs.setdefault(event.sync_id, SyncDelta())
            delta.synced += len(event.posts)
            delta.failed += len(event.failures)
            counts = delta.by_platform.setdefault(event.platform, [0, 0])
            counts[0] += len(event.posts)
            counts[1] += len(event.failures)
            delta.errors += [
                {
                    "tracked_post_id": str(f.tracked_post_id),
                    "platform": event.platform,
                    "gap": f.gap,
                    "message": f.message,
                }
                for f in event.failures
            ]
    repo = IngestRepository(session)
    inserted = await repo.insert_post_snapshots(posts)
    await repo.insert_account_snapshots(accounts)
    await repo.mark_failures(failures)
    await repo.bump_syncs(syncs)
    await repo.bump_data_versions({event.workspace_id for event in events})
    return inserted


def ingest_metrics(consumer: EventConsumer, settings: AnalyticsSettings) -> None:
    @consumer.batch_handler(
        MetricsFetched,
        max_records=settings.ingest_max_records,
        timeout_ms=settings.ingest_timeout_ms,
    )
    async def on_fetched(
        events: list[tuple[MetricsFetched, EventMeta]], session: AsyncSession
    ) -> None:
        await ingest(session, [event for event, _ in events])
