"""The ingester's writes: every fetched batch lands in a few set statements, never a row at a
time. Post snapshots go in by binary ``COPY`` under a savepoint, or, when one of them is
already there, with one ``INSERT ... SELECT ... ON CONFLICT DO NOTHING`` whose rows
PostgreSQL reads from the events' JSON bodies; account snapshots with one from
``unnest(...)`` arrays; the latest values (and the accounts' daily rollups) are upserted in
the same statements from the rows they actually inserted (``RETURNING``), so a redelivered
batch writes nothing anywhere.

Rows of posts (or accounts) that are not tracked under the account the batch names are left
out: a batch cannot write into another account's series."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import asyncpg
import msgspec
from msgspec.structs import astuple
from pydantic_core import to_json
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from analytics.ingest.batch import POST_RECORD, FetchedBatch
from analytics.models import FLOAT_METRICS, OUTBOX, SCHEMA, SyncStatus, TrackedPostStatus, sql_type
from analytics.queries.formulas import sql_engagements
from socialseed.contracts import SyncCompleted
from socialseed.platforms.base import ACCOUNT_METRICS, POST_METRICS
from socialseed.repository import RepositoryBase

#: The most per-post errors a sync keeps (its counters keep counting).
MAX_SYNC_ERRORS = 100


def _columns(metrics: Sequence[str], prefix: str = "") -> str:
    return ", ".join(f"{prefix}{m}" for m in metrics)


def _assign(metrics: Sequence[str]) -> str:
    return ", ".join(f"{m} = EXCLUDED.{m}" for m in ["fetched_at", *metrics])


def _latest(kind: str, key: str, metrics: Sequence[str], source: str) -> str:
    """The CTE upserting ``<kind>_latest`` from ``source`` (rows just inserted, with their
    workspace): the newest values win, an older fetch never does."""
    cols = _columns(metrics)
    owner = "account_id, workspace_id" if kind == "post" else "workspace_id"
    return f"""
latest AS (
    INSERT INTO {SCHEMA}.{kind}_latest ({key}, {owner},
                                       fetched_at, {cols})
    SELECT DISTINCT ON ({key}) {key}, {owner},
           fetched_at, {cols}
    FROM {source} ORDER BY {key}, fetched_at DESC
    ON CONFLICT ({key}) DO UPDATE SET {_assign(metrics)}
    WHERE {kind}_latest.fetched_at < EXCLUDED.fetched_at
)"""


def _daily(kind: str, key: str, metrics: Sequence[str], source: str) -> str:
    """The CTE upserting ``<kind>_daily`` (the last values of each UTC day) from ``source``."""
    cols = _columns(metrics)
    owner = "account_id, workspace_id" if kind == "post" else "workspace_id"
    return f"""
daily AS (
    INSERT INTO {SCHEMA}.{kind}_daily ({key}, day, {owner},
                                      fetched_at, {cols})
    SELECT DISTINCT ON ({key}, day) {key}, day, {owner},
           fetched_at, {cols}
    FROM (SELECT *, (fetched_at AT TIME ZONE 'UTC')::date AS day FROM {source}) d
    ORDER BY {key}, day, fetched_at DESC
    ON CONFLICT ({key}, day) DO UPDATE SET {_assign(metrics)}
    WHERE {kind}_daily.fetched_at < EXCLUDED.fetched_at
)"""


# The fast path (see ``IngestRepository.insert_post_snapshots``): which of the batches' posts
# are tracked under the account and workspace their batch names, and which of them have a
# gap of an earlier fetch to clear (by the post's id as the batch spells it).
OWNED_POSTS = text(f"""
SELECT u.id, t.account_id, t.workspace_id, t.published_at, t.gap IS NOT NULL AS has_gap
FROM unnest(CAST(:id AS text[]), CAST(:account_id AS uuid[]), CAST(:workspace_id AS uuid[]))
    AS u(id, account_id, workspace_id)
JOIN {SCHEMA}.tracked_posts t
    ON t.id = CAST(u.id AS uuid) AND t.account_id = u.account_id
       AND t.workspace_id = u.workspace_id
""")

_LATEST_UNNEST = ", ".join(
    [
        "CAST(:tracked_post_id AS uuid[])",
        "CAST(:account_id AS uuid[])",
        "CAST(:workspace_id AS uuid[])",
        "CAST(:fetched_at AS timestamptz[])",
        *(f"CAST(:{m} AS {sql_type(m)}[])" for m in POST_METRICS),
    ]
)

# The newest values of posts whose snapshots were just copied in (one row per post, sorted:
# concurrent ingesters lock the rows in one order); an older fetch never replaces a newer one.
UPSERT_POST_LATEST = text(f"""
INSERT INTO {SCHEMA}.post_latest (tracked_post_id, account_id, workspace_id, fetched_at,
                                  {_columns(POST_METRICS)})
SELECT * FROM unnest({_LATEST_UNNEST})
ON CONFLICT (tracked_post_id) DO UPDATE SET {_assign(POST_METRICS)}
WHERE post_latest.fetched_at < EXCLUDED.fetched_at
""")

CLEAR_GAPS = text(f"""
UPDATE {SCHEMA}.tracked_posts SET gap = NULL, gap_message = NULL
WHERE id = ANY(CAST(:ids AS uuid[])) AND gap IS NOT NULL
""")

#: The columns the fast path copies into ``post_snapshots``, in its records' order.
SNAPSHOT_COLUMNS = ("tracked_post_id", *POST_METRICS, "fetched_at", "account_id", "raw")

# The slow path. ``e``: the batches (one row each, in order); ``u``: their posts, read from
# the bodies by PostgreSQL (see ``analytics.ingest.batch``). The insert keeps only posts
# tracked under the account and workspace their batch names; ``new`` gives the inserted rows
# their workspace back from their batch. The daily rollups of posts are not written here: no
# reader needs them while the raw snapshots are kept, and retention writes them from each
# day's partition before it drops it. The tracked post itself is only written to when a gap of
# an earlier fetch must be cleared: its last fetch time is ``post_latest.fetched_at``, and
# rewriting every fetched post's row would cost more than the snapshot itself. Answers how
# many rows were inserted and how many posts each batch carried (in the batches' order).
INSERT_POST_SNAPSHOTS = text(f"""
WITH e AS (
    SELECT * FROM unnest(CAST(:account_id AS uuid[]), CAST(:workspace_id AS uuid[]),
                         CAST(:fetched_at AS timestamptz[]), CAST(:body AS text[]))
        WITH ORDINALITY AS e(account_id, workspace_id, fetched_at, body, n)
),
u AS (
    SELECT e.n, e.account_id, e.workspace_id, e.fetched_at, p.*
    FROM e CROSS JOIN LATERAL jsonb_to_recordset(CAST(e.body AS jsonb) -> 'posts')
        AS p({POST_RECORD})
),
ins AS (
    INSERT INTO {SCHEMA}.post_snapshots (tracked_post_id, fetched_at, account_id,
                                         {_columns(POST_METRICS)}, raw)
    SELECT u.tracked_post_id, u.fetched_at, u.account_id, {_columns(POST_METRICS, "u.")}, u.raw
    FROM u JOIN {SCHEMA}.tracked_posts t
        ON t.id = u.tracked_post_id AND t.account_id = u.account_id
           AND t.workspace_id = u.workspace_id
    ON CONFLICT DO NOTHING
    RETURNING tracked_post_id, fetched_at, account_id, {_columns(POST_METRICS)}
),
new AS (
    SELECT DISTINCT ON (ins.tracked_post_id, ins.fetched_at) ins.*, e.workspace_id
    FROM ins JOIN e ON e.account_id = ins.account_id AND e.fetched_at = ins.fetched_at
),
{_latest("post", "tracked_post_id", POST_METRICS, "new")},
cleared AS (
    UPDATE {SCHEMA}.tracked_posts t SET gap = NULL, gap_message = NULL
    FROM (SELECT DISTINCT tracked_post_id FROM ins) f
    WHERE t.id = f.tracked_post_id AND t.gap IS NOT NULL
),
touched AS (
    SELECT DISTINCT t.workspace_id, t.account_id,
           CAST(t.published_at AT TIME ZONE 'UTC' AS date) AS day
    FROM (SELECT DISTINCT tracked_post_id FROM ins) i
    JOIN {SCHEMA}.tracked_posts t ON t.id = i.tracked_post_id
    WHERE t.published_at IS NOT NULL
)
SELECT (SELECT count(*) FROM ins) AS inserted,
       (SELECT array_agg(coalesce(c.posts, 0) ORDER BY e.n)
        FROM e LEFT JOIN (SELECT n, count(*) AS posts FROM u GROUP BY n) c USING (n)) AS posts,
       g.workspaces AS touched_workspaces, g.accounts AS touched_accounts,
       g.days AS touched_days
FROM (SELECT array_agg(workspace_id) AS workspaces, array_agg(account_id) AS accounts,
             array_agg(day) AS days FROM touched) g
""")

_ACCOUNT_UNNEST = ", ".join(
    [
        "CAST(:account_id AS uuid[])",
        "CAST(:workspace_id AS uuid[])",
        "CAST(:fetched_at AS timestamptz[])",
        *(f"CAST(:{m} AS {sql_type(m)}[])" for m in ACCOUNT_METRICS),
        "CAST(:raw AS text[])",
    ]
)

INSERT_ACCOUNT_SNAPSHOTS = text(f"""
WITH u AS (
    SELECT * FROM unnest({_ACCOUNT_UNNEST})
        AS u(account_id, workspace_id, fetched_at, {_columns(ACCOUNT_METRICS)}, raw)
),
ins AS (
    INSERT INTO {SCHEMA}.account_snapshots (account_id, fetched_at, {_columns(ACCOUNT_METRICS)},
                                            raw)
    SELECT u.account_id, u.fetched_at, {_columns(ACCOUNT_METRICS, "u.")}, u.raw::jsonb
    FROM u JOIN {SCHEMA}.accounts a ON a.id = u.account_id AND a.workspace_id = u.workspace_id
    ON CONFLICT DO NOTHING
    RETURNING account_id, fetched_at, {_columns(ACCOUNT_METRICS)}
),
new AS (
    SELECT ins.*, a.workspace_id FROM ins JOIN {SCHEMA}.accounts a ON a.id = ins.account_id
),
{_latest("account", "account_id", ACCOUNT_METRICS, "new")},
{_daily("account", "account_id", ACCOUNT_METRICS, "new")},
synced AS (
    UPDATE {SCHEMA}.accounts a
    SET last_synced_at = GREATEST(a.last_synced_at, f.fetched_at)
    FROM (SELECT account_id, max(fetched_at) AS fetched_at FROM ins GROUP BY 1) f
    WHERE a.id = f.account_id
)
SELECT count(*) FROM ins
""")

MARK_FAILURES = text(f"""
UPDATE {SCHEMA}.tracked_posts t
SET gap = u.gap, gap_message = u.message,
    status = CASE WHEN u.gap = 'deleted' THEN '{TrackedPostStatus.DELETED}' ELSE t.status END,
    updated_at = now()
FROM unnest(CAST(:tracked_post_id AS uuid[]), CAST(:account_id AS uuid[]),
            CAST(:gap AS text[]), CAST(:message AS text[])) AS u(id, account_id, gap, message)
WHERE t.id = u.id AND t.account_id = u.account_id
""")

BUMP_SYNC = text(f"""
UPDATE {SCHEMA}.syncs s
SET synced = s.synced + :synced,
    failed = s.failed + :failed,
    by_platform = s.by_platform || (
        SELECT coalesce(jsonb_object_agg(p.platform,
            coalesce(s.by_platform -> p.platform, '{{}}'::jsonb) || jsonb_build_object(
                'synced', coalesce((s.by_platform -> p.platform ->> 'synced')::int, 0) + p.synced,
                'failed', coalesce((s.by_platform -> p.platform ->> 'failed')::int, 0) + p.failed
            )), '{{}}'::jsonb)
        FROM unnest(CAST(:platforms AS text[]), CAST(:platform_synced AS int[]),
                    CAST(:platform_failed AS int[])) AS p(platform, synced, failed)
    ),
    errors = CASE WHEN jsonb_array_length(s.errors) >= {MAX_SYNC_ERRORS} THEN s.errors
                  ELSE s.errors || CAST(:errors AS jsonb) END
WHERE s.id = :sync_id
""")

# A running sync whose every post is accounted for is over; "partial" when some failed.
FINISH_SYNCS = text(f"""
UPDATE {SCHEMA}.syncs
SET status = CASE WHEN failed + rate_limited > 0 THEN '{SyncStatus.PARTIAL}'
                  ELSE '{SyncStatus.COMPLETED}' END,
    finished_at = now()
WHERE id = ANY(CAST(:ids AS uuid[])) AND status = '{SyncStatus.RUNNING}'
  AND synced + failed + rate_limited >= total_posts
RETURNING id, workspace_id, account_id, status, total_posts, synced, failed, rate_limited,
          finished_at
""")


async def finish_syncs(session: AsyncSession, ids: Sequence[uuid.UUID]) -> None:
    """The syncs among ``ids`` whose every post is accounted for are over, and
    ``sync.completed`` says so, in the same transaction (a sync ends once: only a running one
    is finished)."""
    if not ids:
        return
    finished = (await session.execute(FINISH_SYNCS, {"ids": list(ids)})).mappings().all()
    await OUTBOX.add_many(session, [sync_completed(row) for row in finished])


#: What ``sync.completed`` tells of a sync, besides its id.
SYNC_COMPLETED_FIELDS = (
    "workspace_id",
    "account_id",
    "status",
    "total_posts",
    "synced",
    "failed",
    "rate_limited",
    "finished_at",
)


def sync_completed(sync: Mapping[Any, Any]) -> tuple[SyncCompleted, str]:
    """The ``sync.completed`` event of a finished sync (its row), keyed by the sync."""
    event = SyncCompleted(sync_id=sync["id"], **{f: sync[f] for f in SYNC_COMPLETED_FIELDS})
    return event, str(event.sync_id)


#: Notified with a workspace id when its data version moves (``DATA_VERSIONS_CHANNEL``).
DATA_VERSIONS_CHANNEL = f"{SCHEMA}.data_versions"

# The read API's ETags follow this counter (one small row per workspace, HOT updates). The
# notification is delivered when the transaction commits: the read API's processes hold the
# versions in memory and drop the workspace's on it (``socialseed.notify``).
BUMP_DATA_VERSIONS = text(f"""
WITH bumped AS (
    INSERT INTO {SCHEMA}.data_versions (workspace_id, version)
    SELECT w, 1 FROM unnest(CAST(:workspace_ids AS uuid[])) AS w ORDER BY w
    ON CONFLICT (workspace_id) DO UPDATE
    SET version = data_versions.version + 1, updated_at = now()
    RETURNING workspace_id
)
SELECT count(pg_notify('{DATA_VERSIONS_CHANNEL}', CAST(workspace_id AS text))) FROM bumped
""")


async def bump_data_versions(session: AsyncSession, workspace_ids: Iterable[uuid.UUID]) -> None:
    """New data for these workspaces: metrics ingested, a post newly tracked, an account
    renamed (sorted: concurrent transactions lock the rows in one order). The read API's
    ETags and stored answers follow."""
    ids = sorted(set(workspace_ids))
    if ids:
        await session.execute(BUMP_DATA_VERSIONS, {"workspace_ids": ids})


def _post_sums(prefix: str) -> str:
    """Sums of the post metrics; ``watch_time_s`` exactly (numeric), so that a sum of daily
    sums is the sum of the values, whatever the order."""
    return ", ".join(
        f"sum(CAST({prefix}{m} AS numeric))" if m in FLOAT_METRICS else f"sum({prefix}{m})"
        for m in POST_METRICS
    )


_ENGAGEMENTS = sql_engagements("l.")

# Serializes the refreshes of one (account, day) group: the refresh's snapshot is taken after
# the lock, so it sees every change committed by an earlier refresher of the group (under READ
# COMMITTED a statement waiting on a row would otherwise write sums computed before it).
LOCK_POST_TOTALS = text("""
SELECT count(pg_advisory_xact_lock(k)) FROM (
    SELECT DISTINCT hashtextextended('post_totals:' || a || ':' || d, 0) AS k
    FROM unnest(CAST(:accounts AS uuid[]), CAST(:days AS date[])) AS g(a, d) ORDER BY k
) s
""")

# Each group's totals recomputed from its posts (so they are exact whatever changed: a new
# post, newer latest values, a post moved to another day), with its best post by engagements
# (ties: the larger id, as the top posts are ordered); a group left without posts loses its
# row.
REFRESH_POST_TOTALS = text(f"""
WITH g AS (
    SELECT DISTINCT * FROM unnest(CAST(:workspaces AS uuid[]), CAST(:accounts AS uuid[]),
                                  CAST(:days AS date[])) AS g(workspace_id, account_id, day)
),
sums AS (
    SELECT g.workspace_id, g.day, g.account_id, count(t.id) AS posts_published,
           {_post_sums("l.")}
    FROM g
    LEFT JOIN {SCHEMA}.tracked_posts t
        ON t.account_id = g.account_id AND t.workspace_id = g.workspace_id
           AND t.published_at >= CAST(g.day AS timestamp) AT TIME ZONE 'UTC'
           AND t.published_at < CAST(g.day + 1 AS timestamp) AT TIME ZONE 'UTC'
    LEFT JOIN {SCHEMA}.post_latest l ON l.tracked_post_id = t.id
    GROUP BY g.workspace_id, g.day, g.account_id
),
best AS (
    SELECT DISTINCT ON (g.workspace_id, g.day, g.account_id)
           g.workspace_id, g.day, g.account_id, {_ENGAGEMENTS} AS engagements, t.id
    FROM g
    JOIN {SCHEMA}.tracked_posts t
        ON t.account_id = g.account_id AND t.workspace_id = g.workspace_id
           AND t.published_at >= CAST(g.day AS timestamp) AT TIME ZONE 'UTC'
           AND t.published_at < CAST(g.day + 1 AS timestamp) AT TIME ZONE 'UTC'
    JOIN {SCHEMA}.post_latest l ON l.tracked_post_id = t.id
    WHERE {_ENGAGEMENTS} IS NOT NULL
    ORDER BY g.workspace_id, g.day, g.account_id, {_ENGAGEMENTS} DESC, t.id DESC
),
gone AS (
    DELETE FROM {SCHEMA}.post_totals_daily d USING sums s
    WHERE s.posts_published = 0 AND d.workspace_id = s.workspace_id AND d.day = s.day
          AND d.account_id = s.account_id
)
INSERT INTO {SCHEMA}.post_totals_daily (workspace_id, day, account_id, posts_published,
                                        {_columns(POST_METRICS)}, best_engagements,
                                        best_post_id)
SELECT s.*, b.engagements, b.id
FROM sums s LEFT JOIN best b USING (workspace_id, day, account_id)
WHERE s.posts_published > 0
ON CONFLICT (workspace_id, day, account_id) DO UPDATE
SET posts_published = EXCLUDED.posts_published,
    {", ".join(f"{m} = EXCLUDED.{m}" for m in POST_METRICS)},
    best_engagements = EXCLUDED.best_engagements, best_post_id = EXCLUDED.best_post_id
""")


@dataclass(frozen=True)
class PostGroups:
    """(workspace, account, UTC day of publication) groups whose post totals may have moved."""

    workspaces: list[uuid.UUID] = field(default_factory=list)
    accounts: list[uuid.UUID] = field(default_factory=list)
    days: list[date] = field(default_factory=list)

    def add(self, workspace_id: uuid.UUID, account_id: uuid.UUID, published_at: datetime) -> None:
        self.workspaces.append(workspace_id)
        self.accounts.append(account_id)
        self.days.append(published_at.astimezone(UTC).date())


async def refresh_post_totals(session: AsyncSession, groups: PostGroups) -> None:
    """Recompute the per-account, per-day post totals of ``groups`` (``post_totals_daily``,
    what the dashboard reads), in the caller's transaction: every writer of tracked posts or
    of their latest values calls it after its writes."""
    if not groups.accounts:
        return
    params = {"workspaces": groups.workspaces, "accounts": groups.accounts, "days": groups.days}
    await session.execute(LOCK_POST_TOTALS, params)
    await session.execute(REFRESH_POST_TOTALS, params)


@dataclass(frozen=True)
class PostsInserted:
    inserted: int
    per_batch: list[int]  # posts each batch carried, in the batches' order


@dataclass
class AccountRows:
    columns: dict[str, list[Any]] = field(
        default_factory=lambda: {
            k: [] for k in ("account_id", "workspace_id", "fetched_at", *ACCOUNT_METRICS, "raw")
        }
    )

    def add(
        self, account_id: uuid.UUID, workspace_id: uuid.UUID, fetched_at: datetime, item: Any
    ) -> None:
        c = self.columns
        c["account_id"].append(account_id)
        c["workspace_id"].append(workspace_id)
        c["fetched_at"].append(fetched_at)
        for m in ACCOUNT_METRICS:
            c[m].append(getattr(item, m))
        c["raw"].append(to_json(item.raw).decode())

    def __len__(self) -> int:
        return len(self.columns["account_id"])


@dataclass
class Failures:
    """The latest failure of each post (a post failing twice in one batch: the later wins)."""

    by_post: dict[uuid.UUID, tuple[uuid.UUID, str, str]] = field(default_factory=dict)

    def add(self, tracked_post_id: uuid.UUID, account_id: uuid.UUID, gap: str, msg: str) -> None:
        self.by_post.pop(tracked_post_id, None)
        self.by_post[tracked_post_id] = (account_id, gap, msg)


@dataclass
class SyncDelta:
    synced: int = 0
    failed: int = 0
    by_platform: dict[str, list[int]] = field(default_factory=dict)
    errors: list[dict[str, Any]] = field(default_factory=list)


class IngestRepository(RepositoryBase):
    async def insert_post_snapshots(self, batches: Sequence[FetchedBatch]) -> PostsInserted:
        """Inserts the batches' new snapshots and the latest values they change.

        The fast path: the posts decoded in Python (``FetchedBatch.posts``), those tracked
        under their batch's account and workspace found with one query, their snapshots sent
        with binary ``COPY`` straight into ``post_snapshots`` under a savepoint, then the
        latest values upserted from the same rows (and the gaps of earlier fetches cleared,
        when some post has one). ``COPY`` knows no ``ON CONFLICT``: if any snapshot is
        already there (the same fetch under another event id, or twice in the batch), the
        savepoint is rolled back and the batch goes through the slow path, one statement
        that skips the rows already there. Either way a snapshot seen again inserts nothing
        and changes no latest value. A post that does not fit the columns goes the slow
        path too, which fails the batch on it as before."""
        if not batches:
            return PostsInserted(0, [])
        try:
            posts = [batch.posts() for batch in batches]
        except msgspec.DecodeError:
            # A post that does not fit the columns: the slow path fails on it in PostgreSQL's
            # words (the batch is then retried event by event, the bad one dead-lettered).
            return await self._insert_post_snapshots_skipping_existing(batches)
        per_batch = [len(p) for p in posts]
        owned, gaps, owned_at = await self._owned_posts(batches, posts)
        records: list[tuple[Any, ...]] = []
        newest: dict[str, tuple[int, tuple[Any, ...]]] = {}  # post -> (batch, its row)
        # Oldest fetch first: a later one overwrites a post's newest row.
        for i in sorted(range(len(batches)), key=lambda i: batches[i].fetched_at):
            batch = batches[i]
            at, account, owner = batch.fetched_at, batch.account_id, batch.owner
            for p in posts[i]:
                row = astuple(p)  # PostRow: the id, POST_METRICS, raw
                if owned.get(row[0]) != owner:
                    continue  # not tracked under this batch's account and workspace
                records.append((*row[:-1], at, account, bytes(row[-1]).decode()))
                newest[row[0]] = (i, row)
        if records and not await self._copy_snapshots(records):
            return await self._insert_post_snapshots_skipping_existing(batches)
        if newest:
            latest = []
            for post in sorted(newest):
                i, row = newest[post]
                b = batches[i]
                latest.append((post, b.account_id, b.workspace_id, b.fetched_at, *row[1:-1]))
            columns = ("tracked_post_id", "account_id", "workspace_id", "fetched_at", *POST_METRICS)
            await self.session.execute(
                UPSERT_POST_LATEST, {c: [r[i] for r in latest] for i, c in enumerate(columns)}
            )
        cleared = sorted(gaps.intersection(newest))
        if cleared:
            await self.session.execute(CLEAR_GAPS, {"ids": cleared})
        # The daily post totals of the groups whose latest values moved (the dashboard's).
        touched = PostGroups()
        for post in newest:
            workspace_id, account_id, published_at = owned_at[post]
            touched.add(workspace_id, account_id, published_at)
        await refresh_post_totals(self.session, touched)
        return PostsInserted(len(records), per_batch)

    async def _owned_posts(
        self, batches: Sequence[FetchedBatch], posts: list[list[Any]]
    ) -> tuple[
        dict[str, tuple[uuid.UUID, uuid.UUID]],
        set[str],
        dict[str, tuple[uuid.UUID, uuid.UUID, datetime]],
    ]:
        """The batches' posts tracked under the account and workspace their batch names
        (post -> account, workspace), those of them with a gap to clear, and each one's
        daily-totals group (post -> workspace, account, publication time)."""
        asked = {
            (p.tracked_post_id, *b.owner)
            for b, rows in zip(batches, posts, strict=True)
            for p in rows
        }
        if not asked:
            return {}, set(), {}
        ids, accounts, workspaces = zip(*asked, strict=True)
        result = await self.session.execute(
            OWNED_POSTS,
            {"id": list(ids), "account_id": list(accounts), "workspace_id": list(workspaces)},
        )
        owned, gaps, groups = {}, set(), {}
        for row in result:
            owned[row.id] = (row.account_id, row.workspace_id)
            groups[row.id] = (row.workspace_id, row.account_id, row.published_at)
            if row.has_gap:
                gaps.add(row.id)
        return owned, gaps, groups

    async def _copy_snapshots(self, records: list[tuple[Any, ...]]) -> bool:
        """``COPY`` the snapshots into ``post_snapshots`` under a savepoint; False (and
        nothing written) if one of them was already there."""
        connection = await self.session.connection()
        driver = (await connection.get_raw_connection()).driver_connection
        assert driver is not None
        try:
            async with connection.begin_nested():
                await driver.copy_records_to_table(
                    "post_snapshots",
                    schema_name=SCHEMA,
                    columns=SNAPSHOT_COLUMNS,
                    records=records,
                )
        except asyncpg.UniqueViolationError:
            return False
        return True

    async def _insert_post_snapshots_skipping_existing(
        self, batches: Sequence[FetchedBatch]
    ) -> PostsInserted:
        """The slow path: one ``INSERT ... ON CONFLICT DO NOTHING`` reading the posts from
        the bodies, the latest values and gaps following the rows it actually inserted."""
        params = {
            "account_id": [b.account_id for b in batches],
            "workspace_id": [b.workspace_id for b in batches],
            "fetched_at": [b.fetched_at for b in batches],
            "body": [b.body for b in batches],
        }
        row = (await self.session.execute(INSERT_POST_SNAPSHOTS, params)).one()
        touched = PostGroups(
            row.touched_workspaces or [], row.touched_accounts or [], row.touched_days or []
        )
        await refresh_post_totals(self.session, touched)
        return PostsInserted(int(row.inserted), list(row.posts))

    async def insert_account_snapshots(self, rows: AccountRows) -> int:
        if not len(rows):
            return 0
        result = await self.session.execute(INSERT_ACCOUNT_SNAPSHOTS, rows.columns)
        return int(result.scalar_one())

    async def bump_data_versions(self, workspace_ids: set[uuid.UUID]) -> None:
        await bump_data_versions(self.session, workspace_ids)

    async def mark_failures(self, failures: Failures) -> None:
        if not failures.by_post:
            return
        ids = list(failures.by_post)
        values = list(failures.by_post.values())
        await self.session.execute(
            MARK_FAILURES,
            {
                "tracked_post_id": ids,
                "account_id": [v[0] for v in values],
                "gap": [v[1] for v in values],
                "message": [v[2] for v in values],
            },
        )

    async def bump_syncs(self, deltas: dict[uuid.UUID, SyncDelta]) -> None:
        """One statement per sync named in the batch (a handful), then the finished ones."""
        for sync_id, d in deltas.items():
            await self.session.execute(
                BUMP_SYNC,
                {
                    "sync_id": sync_id,
                    "synced": d.synced,
                    "failed": d.failed,
                    "platforms": list(d.by_platform),
                    "platform_synced": [v[0] for v in d.by_platform.values()],
                    "platform_failed": [v[1] for v in d.by_platform.values()],
                    "errors": json.dumps(d.errors[:MAX_SYNC_ERRORS], default=str),
                },
            )
        await finish_syncs(self.session, list(deltas))
