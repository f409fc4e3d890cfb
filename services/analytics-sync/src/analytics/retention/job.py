"""Retention of the raw snapshots: one leader across replicas keeps each snapshot table's
daily partitions ``partitions_ahead_days`` ahead of today and, for every day older than
``raw_retention_days``, rolls the day up into the daily table and drops its partition in the
same transaction (the rollups are kept forever)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, date, timedelta

from analytics.context import AnalyticsContext
from analytics.retention.repository import SNAPSHOT_TABLES, PartitionRepository
from analytics.settings import AnalyticsSettings
from socialseed.db import Database
from socialseed.leader import run_as_leader

log = logging.getLogger(__name__)


@dataclass
class RetentionTurn:
    created: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)


async def retention_turn(db: Database, settings: AnalyticsSettings, today: date) -> RetentionTurn:
    """One pass; ``today`` is the current UTC day."""
    oldest_kept = today - timedelta(days=settings.raw_retention_days)
    done = RetentionTurn()
    for table in SNAPSHOT_TABLES:
        async with db.transaction() as session:
            repo = PartitionRepository(session)
            existing = await repo.partitions(table)
            for offset in range(-1, settings.partitions_ahead_days + 1):
                day = today + timedelta(days=offset)
                if day not in existing:
                    await repo.create(table, day)
                    done.created.append(f"{table.name}:{day}")
        expired: list[tuple[date, str]] = sorted(
            (day, name) for day, name in existing.items() if day < oldest_kept
        )
        for day, name in expired:
            # One day per transaction: the rollup and the drop commit together or not at all.
            async with db.transaction() as session:
                repo = PartitionRepository(session)
                await repo.roll_up(table, day, name)
                await repo.drop(name)
            done.dropped.append(name)
    if done.created or done.dropped:
        log.info("retention: created %s, dropped %s", done.created, done.dropped)
    return done


async def run_retention(ctx: AnalyticsContext) -> None:
    await run_as_leader(
        ctx.db,
        "analytics-retention",
        lambda: retention_turn(ctx.db, ctx.settings, ctx.clock().astimezone(UTC).date()),
        interval=ctx.settings.retention_interval,
    )
