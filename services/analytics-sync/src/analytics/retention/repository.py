"""The snapshot tables' daily partitions: created ahead, rolled up and dropped once expired.

A partition holds one UTC day, ``[day 00:00, day+1 00:00)``, and is named
``<table>_pYYYYMMDD``; the names are the only bookkeeping (``pg_inherits`` lists them)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import text

from analytics.models import SCHEMA
from socialseed.db import set_lock_timeout
from socialseed.platforms.base import ACCOUNT_METRICS, POST_METRICS
from socialseed.repository import RepositoryBase


@dataclass(frozen=True)
class SnapshotTable:
    name: str
    key: str
    daily: str
    metrics: tuple[str, ...]
    # How a rollup row gets its workspace (and account, for posts).
    owner_join: str
    owner_columns: str


POST_SNAPSHOTS = SnapshotTable(
    "post_snapshots",
    "tracked_post_id",
    "post_daily",
    POST_METRICS,
    f"JOIN {SCHEMA}.tracked_posts o ON o.id = s.tracked_post_id",
    "s.account_id, o.workspace_id",
)
ACCOUNT_SNAPSHOTS = SnapshotTable(
    "account_snapshots",
    "account_id",
    "account_daily",
    ACCOUNT_METRICS,
    f"JOIN {SCHEMA}.accounts o ON o.id = s.account_id",
    "o.workspace_id",
)
SNAPSHOT_TABLES = (POST_SNAPSHOTS, ACCOUNT_SNAPSHOTS)


def partition_name(table: SnapshotTable, day: date) -> str:
    return f"{table.name}_p{day:%Y%m%d}"


def _day_of(table: SnapshotTable, partition: str) -> date | None:
    suffix = partition.removeprefix(f"{table.name}_p")
    try:
        return datetime.strptime(suffix, "%Y%m%d").date()
    except ValueError:
        return None


class PartitionRepository(RepositoryBase):
    async def partitions(self, table: SnapshotTable) -> dict[date, str]:
        rows = await self.session.execute(
            text(
                "SELECT c.relname FROM pg_inherits i "
                "JOIN pg_class c ON c.oid = i.inhrelid "
                "JOIN pg_class p ON p.oid = i.inhparent "
                "JOIN pg_namespace n ON n.oid = p.relnamespace "
                "WHERE n.nspname = :schema AND p.relname = :parent"
            ),
            {"schema": SCHEMA, "parent": table.name},
        )
        found = {}
        for (name,) in rows:
            day = _day_of(table, name)
            if day is not None:
                found[day] = name
        return found

    async def create(self, table: SnapshotTable, day: date) -> None:
        await self.session.execute(
            text(
                f"CREATE TABLE IF NOT EXISTS {SCHEMA}.{partition_name(table, day)} "
                f"PARTITION OF {SCHEMA}.{table.name} FOR VALUES "
                f"FROM ('{day} 00:00+00') TO ('{day + timedelta(days=1)} 00:00+00')"
            )
        )

    async def roll_up(self, table: SnapshotTable, day: date, partition: str) -> int:
        """Write the day's last values into the daily rollup: for posts this is where their
        rollups come from (the ingester writes only the accounts' as it goes; for those it
        covers any row that reached the partition another way). Returns the rows written."""
        cols = ", ".join(table.metrics)
        assign = ", ".join(f"{m} = EXCLUDED.{m}" for m in ("fetched_at", *table.metrics))
        owner = "account_id, workspace_id" if table is POST_SNAPSHOTS else "workspace_id"
        result = await self.session.execute(
            text(
                f"INSERT INTO {SCHEMA}.{table.daily} ({table.key}, day, {owner}, fetched_at, "
                f"{cols}) "
                f"SELECT DISTINCT ON (s.{table.key}) s.{table.key}, CAST(:day AS date), "
                f"{table.owner_columns}, s.fetched_at, "
                f"{', '.join(f's.{m}' for m in table.metrics)} "
                f"FROM {SCHEMA}.{partition} s {table.owner_join} "
                f"ORDER BY s.{table.key}, s.fetched_at DESC "
                f"ON CONFLICT ({table.key}, day) DO UPDATE SET {assign} "
                f"WHERE {table.daily}.fetched_at < EXCLUDED.fetched_at"
            ),
            {"day": day},
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def drop(self, partition: str, *, lock_timeout: float = 5.0) -> None:
        # Dropping a partition takes a brief exclusive lock on its parent: give up rather
        # than queue the ingester behind a long reader.
        await set_lock_timeout(self.session, lock_timeout)
        await self.session.execute(text(f"DROP TABLE IF EXISTS {SCHEMA}.{partition}"))
