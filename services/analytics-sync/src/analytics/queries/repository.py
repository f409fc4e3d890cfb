"""Every query of the read API. Raw snapshots are read where they are kept (``fetched_at`` at
or after the retention cutoff), the daily rollups before it; the same instant is never read
from both. Metric names reach SQL only from the fixed lists (``POST_METRICS`` /
``ACCOUNT_METRICS``), never from a request."""

from __future__ import annotations

import functools
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from analytics.models import FLOAT_METRICS, SCHEMA, Account, TrackedPost
from analytics.queries.formulas import sql_engagements
from analytics.queries.periods import Period
from socialseed.errors import AccountNotFound
from socialseed.platforms.base import ACCOUNT_METRICS, POST_METRICS
from socialseed.repository import WorkspaceScoped, of_workspaces
from socialseed.security import Principal

POST_COLS = ", ".join(f"l.{m}" for m in POST_METRICS)
# sum(bigint) is numeric: cast back so that Python sees ints (and floats for float columns).
# Float metrics are summed as numeric (exact, whatever the order), so that totals read from
# the daily post totals equal those summed from the posts, to the last bit.
POST_SUMS = ", ".join(
    f"CAST(sum(CAST(l.{m} AS numeric)) AS float8) AS {m}"
    if m in FLOAT_METRICS
    else f"CAST(sum(l.{m}) AS bigint) AS {m}"
    for m in POST_METRICS
)
# Numeric sums of numeric sums (``post_totals_daily`` and the posts beside it), cast at the end.
_RESUMS = ", ".join(
    f"CAST(sum(s.{m}) AS {'float8' if m in FLOAT_METRICS else 'bigint'}) AS {m}"
    for m in POST_METRICS
)
# Beside the rollups' columns: bigint sums stay bigint (a union with numeric ones would add
# every rollup row up as numeric, several times slower), float ones numeric as the rollups'.
_RAW_SUMS = ", ".join(
    f"sum(CAST(l.{m} AS numeric)) AS {m}"
    if m in FLOAT_METRICS
    else f"CAST(sum(l.{m}) AS bigint) AS {m}"
    for m in POST_METRICS
)
ACCOUNT_COLS = ", ".join(ACCOUNT_METRICS)
ENGAGEMENTS = sql_engagements("l.")

#: Post list sorts: the column (or expression) each sorts on, newest/largest first.
POST_SORTS = {
    "published_at": "t.published_at",
    **{m: f"coalesce(l.{m}, -1)" for m in POST_METRICS},
    "engagements": f"coalesce({ENGAGEMENTS}, -1)",
}


#: One result row, by column name.
Row = dict[str, Any]

#: A statement's ``text()`` made once: its bind parameters are found by a regular expression
#: on every construction. The SQL strings are built from constants and the fixed metric lists
#: only, so there are few of them.
sql_text = functools.lru_cache(maxsize=512)(text)


def day_start(at: datetime) -> datetime:
    return datetime.combine(at.astimezone(UTC).date(), time(), tzinfo=UTC)


def whole_days(period: Period) -> tuple[datetime, datetime] | None:
    """The first and the end of the whole UTC days inside ``period``; None if there is none."""
    first = day_start(period.start)
    if first < period.start:
        first += timedelta(days=1)
    last = day_start(period.end)
    return (first, last) if first < last else None


def _values_at(account: str, suffix: str) -> str:
    """The counters of the account ``account`` (a SQL expression) as of ``:at<suffix>``: the
    last snapshot of that UTC day up to it (``:day_start<suffix>``, kept raw from
    ``:cutoff``), else the rollup of the last day before (``:day<suffix>``); one index probe
    each. A subquery for a ``LATERAL`` join."""
    return f"""
    SELECT * FROM (
        (SELECT fetched_at, {ACCOUNT_COLS} FROM {SCHEMA}.account_snapshots
         WHERE account_id = {account} AND fetched_at <= :at{suffix}
               AND fetched_at >= :day_start{suffix} AND fetched_at >= :cutoff
         ORDER BY fetched_at DESC LIMIT 1)
        UNION ALL
        (SELECT fetched_at, {ACCOUNT_COLS} FROM {SCHEMA}.account_daily
         WHERE account_id = {account} AND day < :day{suffix} ORDER BY day DESC LIMIT 1)
    ) c ORDER BY fetched_at DESC LIMIT 1"""


# A period's whole UTC days are read from the daily rollups and its partial first and last
# days from the posts, unless the part of such a day outside the period holds none of the
# workspace's posts: the day's rollup is then that day's share of the period. The usual
# "last N days" ends at the next whole hour, after every post of today.
EDGES = f"""
edges AS (
    SELECT CASE WHEN whole_first THEN CAST(:first_day AS date) - 1 ELSE :first_day END AS lo_day,
           CASE WHEN whole_last THEN CAST(:last_day AS date) + 1 ELSE :last_day END AS hi_day,
           CASE WHEN whole_first THEN CAST(:lo AS timestamptz) ELSE :first END AS first_end,
           CASE WHEN whole_last THEN CAST(:hi AS timestamptz) ELSE :last END AS last_start
    FROM (SELECT
        CAST(:first_partial AS boolean) AND NOT EXISTS (
            SELECT FROM {SCHEMA}.tracked_posts
            WHERE workspace_id = :ws AND published_at >= :first_day_start AND published_at < :lo
        ) AS whole_first,
        CAST(:last_partial AS boolean) AND NOT EXISTS (
            SELECT FROM {SCHEMA}.tracked_posts
            WHERE workspace_id = :ws AND published_at >= :hi AND published_at < :last_day_end
        ) AS whole_last
    ) w
)"""
#: The daily rollups' days, and the posts read beside them, as ``EDGES`` decided.
LO_DAY, HI_DAY = "(SELECT lo_day FROM edges)", "(SELECT hi_day FROM edges)"
FIRST_END, LAST_START = "(SELECT first_end FROM edges)", "(SELECT last_start FROM edges)"


def _day_params(
    workspace_id: uuid.UUID, period: Period, first: datetime, last: datetime
) -> dict[str, Any]:
    """``EDGES``' parameters: ``first`` and ``last`` are ``whole_days``."""
    return {
        "ws": workspace_id,
        "lo": period.start,
        "hi": period.end,
        "first": first,
        "last": last,
        "first_day": first.date(),
        "last_day": last.date(),
        "first_partial": first > period.start,
        "first_day_start": first - timedelta(days=1),
        "last_partial": last < period.end,
        "last_day_end": last + timedelta(days=1),
    }


@dataclass(frozen=True)
class PostFilter:
    workspace_id: uuid.UUID
    period: Period
    account_ids: Sequence[uuid.UUID] | None = None
    platform: str | None = None

    def where(self) -> tuple[str, dict[str, Any]]:
        sql = "t.workspace_id = :ws AND t.published_at >= :lo AND t.published_at < :hi"
        params: dict[str, Any] = {
            "ws": self.workspace_id,
            "lo": self.period.start,
            "hi": self.period.end,
        }
        if self.account_ids is not None:
            sql += " AND t.account_id = ANY(CAST(:accounts AS uuid[]))"
            params["accounts"] = list(self.account_ids)
        if self.platform is not None:
            sql += " AND t.platform = :platform"
            params["platform"] = self.platform
        return sql, params


class QueryRepository(WorkspaceScoped[Account]):
    """The caller's accounts through ``readable`` (``get``, ``accounts``,
    ``workspace_accounts``) and their tracked posts through ``readable_posts``; the metric
    reads below take the ids of rows read that way (or of a workspace the caller was checked
    against), and read nothing else."""

    model = Account
    not_found = AccountNotFound

    def __init__(self, session: AsyncSession, *, cutoff: datetime) -> None:
        """``cutoff``: the oldest instant raw snapshots are kept from."""
        super().__init__(session)
        self.cutoff = cutoff

    def readable_posts(self, principal: Principal) -> Select[TrackedPost]:
        """The tracked posts ``principal`` may read: those of their workspaces."""
        return of_workspaces(select(TrackedPost), TrackedPost, principal)

    async def _rows(self, sql: str, params: dict[str, Any]) -> list[Row]:
        # On the session's connection, past the ORM's execution of a statement (a text
        # statement has nothing for it to do); rows zipped with the keys, not mapped one by one
        connection = await self.session.connection()
        result = await connection.execute(sql_text(sql), params)
        keys = tuple(result.keys())
        return [dict(zip(keys, row, strict=True)) for row in result.all()]

    # Objects ------------------------------------------------------------------------------
    async def accounts(self, principal: Principal, ids: Sequence[uuid.UUID]) -> list[Account]:
        """The caller's accounts among ``ids`` (another workspace's are absent)."""
        return await self.all(self.readable(principal).where(Account.id.in_(ids)))

    async def workspace_accounts(
        self, principal: Principal, workspace_id: uuid.UUID
    ) -> list[Account]:
        return await self.all(
            self.readable(principal)
            .where(Account.workspace_id == workspace_id)
            .order_by(Account.platform, Account.username)
        )

    async def timezone(self, workspace_id: uuid.UUID) -> str | None:
        return await self._workspace_field(workspace_id, "timezone")

    async def workspace_name(self, workspace_id: uuid.UUID) -> str | None:
        return await self._workspace_field(workspace_id, "name")

    async def _workspace_field(self, workspace_id: uuid.UUID, field: str) -> str | None:
        """One column of the workspace's projection (``field`` from this class, never a
        request); None before its projection arrived."""
        sql = f"SELECT {field} FROM {SCHEMA}.workspaces WHERE id = :id"
        rows = await self._rows(sql, {"id": workspace_id})
        return rows[0][field] if rows else None

    async def data_versions(self, workspace_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, int]:
        """Each workspace's data version (0: no data ingested or tracked yet)."""
        rows = await self.session.execute(
            text(
                f"SELECT workspace_id, version FROM {SCHEMA}.data_versions "
                "WHERE workspace_id = ANY(CAST(:ids AS uuid[]))"
            ),
            {"ids": list(workspace_ids)},
        )
        return {w: 0 for w in workspace_ids} | {r.workspace_id: r.version for r in rows}

    async def tracked_posts_of(self, principal: Principal, post_id: uuid.UUID) -> list[TrackedPost]:
        """A publisher post's targets, or the one tracked post with that id, among the
        caller's workspaces."""
        rows = await self.session.scalars(
            self.readable_posts(principal)
            .where((TrackedPost.publisher_post_id == post_id) | (TrackedPost.id == post_id))
            .order_by(TrackedPost.platform, TrackedPost.account_id)
        )
        return list(rows)

    # Account values --------------------------------------------------------------------------
    async def account_values_at(
        self, account_ids: Sequence[uuid.UUID], at: datetime
    ) -> dict[uuid.UUID, Row]:
        """Each account's counters as of ``at``: its last snapshot of that UTC day up to
        ``at``, else the rollup of the last day before (one index probe each)."""
        sql = f"""
SELECT a.id AS account_id, v.*
FROM unnest(CAST(:ids AS uuid[])) AS a(id)
CROSS JOIN LATERAL ({_values_at("a.id", "")}) v"""
        params = {"ids": list(account_ids), **self._values_at_params(at, "")}
        return {r["account_id"]: r for r in await self._rows(sql, params)}

    def _values_at_params(self, at: datetime, suffix: str) -> dict[str, Any]:
        start = day_start(at)
        return {
            f"at{suffix}": at,
            f"day_start{suffix}": start,
            f"day{suffix}": start.date(),
            "cutoff": self.cutoff,
        }

    async def account_series(
        self, account_id: uuid.UUID, metric: str, bounds: Sequence[datetime]
    ) -> dict[int, int | float]:
        """The last value of ``metric`` in each bucket (``bounds[i-1] <= t < bounds[i]`` is
        bucket ``i``); buckets without a value are absent."""
        assert metric in ACCOUNT_METRICS
        sql = f"""
SELECT DISTINCT ON (k) k, v FROM (
    SELECT width_bucket(fetched_at, CAST(:bounds AS timestamptz[])) AS k, {metric} AS v,
           fetched_at
    FROM {SCHEMA}.account_snapshots
    WHERE account_id = :id AND fetched_at >= :lo AND fetched_at < :hi
          AND fetched_at >= :cutoff AND {metric} IS NOT NULL
    UNION ALL
    SELECT width_bucket(fetched_at, CAST(:bounds AS timestamptz[])), {metric}, fetched_at
    FROM {SCHEMA}.account_daily
    WHERE account_id = :id AND day >= :day_lo AND day <= :day_hi
          AND fetched_at >= :lo AND fetched_at < :hi AND fetched_at < :cutoff
          AND {metric} IS NOT NULL
) s ORDER BY k, fetched_at DESC"""
        lo, hi = bounds[0], bounds[-1]
        params = {
            "bounds": list(bounds),
            "id": account_id,
            "lo": lo,
            "hi": hi,
            "cutoff": self.cutoff,
            "day_lo": lo.astimezone(UTC).date(),
            "day_hi": hi.astimezone(UTC).date(),
        }
        return {int(r["k"]): r["v"] for r in await self._rows(sql, params)}

    # Posts ---------------------------------------------------------------------------------
    async def post_totals(self, where: PostFilter, by: str) -> list[Row]:
        """Posts published in the period and the sums of their latest values, grouped by
        ``by`` (``account_id`` or ``platform``)."""
        return await self._rows(*self._post_totals(where, by))

    def _post_totals(self, where: PostFilter, by: str) -> tuple[str, dict[str, Any]]:
        assert by in ("account_id", "platform")
        cond, params = where.where()
        sql = f"""
SELECT t.{by} AS key, count(*) AS posts_published, {POST_SUMS}
FROM {SCHEMA}.tracked_posts t
LEFT JOIN {SCHEMA}.post_latest l ON l.tracked_post_id = t.id
WHERE {cond}
GROUP BY t.{by}"""
        return sql, params

    def _account_totals(
        self, workspace_id: uuid.UUID, period: Period
    ) -> tuple[str, dict[str, Any]]:
        """The statement of ``post_totals(PostFilter(workspace_id, period), "account_id")``
        and its parameters, equal to it, reading ``post_totals_daily`` (one row per account
        and UTC day of publication) for the whole UTC days of the period and the posts
        themselves for its partial first and last days (``EDGES``)."""
        days = whole_days(period)
        if days is None:  # no whole day: the posts themselves
            return self._post_totals(PostFilter(workspace_id, period), "account_id")
        first, last = days
        cols = ", ".join(POST_METRICS)
        edge = f"""
    SELECT t.account_id, count(*), {_RAW_SUMS}
    FROM {SCHEMA}.tracked_posts t
    LEFT JOIN LATERAL (
        SELECT * FROM {SCHEMA}.post_latest WHERE tracked_post_id = t.id LIMIT 1
    ) l ON true
    WHERE t.workspace_id = :ws AND t.published_at >= {{lo}} AND t.published_at < {{hi}}
    GROUP BY t.account_id"""
        sql = f"""
WITH {EDGES}
SELECT s.key, CAST(sum(s.posts_published) AS bigint) AS posts_published, {_RESUMS}
FROM (
    SELECT account_id AS key, posts_published, {cols}
    FROM {SCHEMA}.post_totals_daily
    WHERE workspace_id = :ws AND day >= {LO_DAY} AND day < {HI_DAY}
    UNION ALL {edge.format(lo=":lo", hi=FIRST_END)}
    UNION ALL {edge.format(lo=LAST_START, hi=":hi")}
) s
GROUP BY s.key"""
        return sql, _day_params(workspace_id, period, first, last)

    async def dashboard_accounts(
        self, principal: Principal, workspace_id: uuid.UUID, period: Period
    ) -> list[Row]:
        """The caller's accounts of the workspace (by platform and username), each with its
        posts published in the period and their sums as ``post_totals`` gives them, read
        from the daily rollups (``_account_totals``; null, not 0, for an account with none),
        and its followers as of the period's end and start (``followers_end``,
        ``followers_start``; as ``account_values_at``): one statement."""
        totals, params = self._account_totals(workspace_id, period)
        sums = ", ".join(f"t.{m}" for m in ("posts_published", *POST_METRICS))
        sql = f"""
WITH totals AS ({totals})
SELECT a.id, a.platform, a.username, a.status, a.last_synced_at, {sums},
       e.followers AS followers_end, s.followers AS followers_start
FROM {SCHEMA}.accounts a
LEFT JOIN totals t ON t.key = a.id
LEFT JOIN LATERAL ({_values_at("a.id", "_end")}) e ON true
LEFT JOIN LATERAL ({_values_at("a.id", "_start")}) s ON true
WHERE a.workspace_id = :ws AND a.workspace_id = ANY(CAST(:readable AS uuid[]))
ORDER BY a.platform, a.username"""
        params |= {
            "ws": workspace_id,
            "readable": list(principal.roles),
            **self._values_at_params(period.end, "_end"),
            **self._values_at_params(period.start, "_start"),
        }
        return await self._rows(sql, params)

    # ``post_latest`` is read per post (``LATERAL ... LIMIT 1``, one row by its key: the LIMIT
    # keeps the planner from flattening it into a hash join that scans every post's latest
    # values to find a few hundred).
    async def workspace_top_posts(
        self, workspace_id: uuid.UUID, period: Period, limit: int
    ) -> list[Row]:
        """``top_posts(PostFilter(workspace_id, period), limit)``, equal to it, reading the
        posts of at most ``limit`` (account, day) groups of the whole days: those whose best
        post ranks highest (``post_totals_daily.best_*``), and the posts of the partial
        first and last days. A post of another group cannot be among the top ``limit``:
        the best posts of ``limit`` groups rank above it."""
        days = whole_days(period)
        if days is None:
            return await self.top_posts(PostFilter(workspace_id, period), limit)
        first, last = days
        sql = f"""
WITH {EDGES},
best AS (
    SELECT account_id, day FROM {SCHEMA}.post_totals_daily
    WHERE workspace_id = :ws AND day >= {LO_DAY} AND day < {HI_DAY}
          AND best_engagements IS NOT NULL
    ORDER BY best_engagements DESC, best_post_id DESC
    LIMIT :limit
),
candidates AS (
    SELECT t.id FROM best b
    JOIN {SCHEMA}.tracked_posts t
        ON t.account_id = b.account_id AND t.workspace_id = :ws
           AND t.published_at >= CAST(b.day AS timestamp) AT TIME ZONE 'UTC'
           AND t.published_at < CAST(b.day + 1 AS timestamp) AT TIME ZONE 'UTC'
    UNION ALL
    SELECT id FROM {SCHEMA}.tracked_posts
    WHERE workspace_id = :ws AND published_at >= :lo AND published_at < {FIRST_END}
    UNION ALL
    SELECT id FROM {SCHEMA}.tracked_posts
    WHERE workspace_id = :ws AND published_at >= {LAST_START} AND published_at < :hi
),
-- ranked by their ids and latest values alone; the posts' own rows read for the winners
ranked AS (
    SELECT c.id, l.* FROM candidates c
    CROSS JOIN LATERAL (
        SELECT fetched_at, {", ".join(POST_METRICS)} FROM {SCHEMA}.post_latest
        WHERE tracked_post_id = c.id LIMIT 1
    ) l
    WHERE {ENGAGEMENTS} IS NOT NULL
    ORDER BY {ENGAGEMENTS} DESC, c.id DESC
    LIMIT :limit
)
SELECT t.id, t.account_id, t.platform, t.platform_post_id, t.publisher_post_id, t.url,
       t.text, t.published_at, t.status, l.fetched_at, {POST_COLS}
FROM ranked l
JOIN {SCHEMA}.tracked_posts t ON t.id = l.id
ORDER BY {ENGAGEMENTS} DESC, t.id DESC"""
        params = _day_params(workspace_id, period, first, last)
        return await self._rows(sql, {**params, "limit": limit})

    async def top_posts(self, where: PostFilter, limit: int) -> list[Row]:
        cond, params = where.where()
        sql = f"""
SELECT t.id, t.account_id, t.platform, t.platform_post_id, t.publisher_post_id, t.url,
       t.text, t.published_at, t.status, l.fetched_at, {POST_COLS}
FROM {SCHEMA}.tracked_posts t
JOIN {SCHEMA}.post_latest l ON l.tracked_post_id = t.id
WHERE {cond} AND {ENGAGEMENTS} IS NOT NULL
ORDER BY {ENGAGEMENTS} DESC, t.id DESC
LIMIT :limit"""
        return await self._rows(sql, {**params, "limit": limit})

    async def post_rates_input(self, where: PostFilter) -> list[Row]:
        """Publication time and latest values of each post in the period (best times)."""
        cond, params = where.where()
        sql = f"""
SELECT t.published_at, {POST_COLS}
FROM {SCHEMA}.tracked_posts t
JOIN {SCHEMA}.post_latest l ON l.tracked_post_id = t.id
WHERE {cond}"""
        return await self._rows(sql, params)

    async def account_posts(
        self,
        account_id: uuid.UUID,
        sort: str,
        limit: int,
        after: tuple[Any, uuid.UUID] | None,
    ) -> list[Row]:
        """One keyset page of an account's posts, largest ``sort`` first (ties: id)."""
        key = POST_SORTS[sort]
        keyset = f"AND ({key}, t.id) < (:after_key, :after_id)" if after else ""
        sql = f"""
SELECT t.id, t.account_id, t.platform, t.platform_post_id, t.publisher_post_id, t.url,
       t.text, t.kind, t.published_at, t.status, t.gap, t.gap_message, l.fetched_at,
       {POST_COLS}, {key} AS sort_key
FROM {SCHEMA}.tracked_posts t
LEFT JOIN {SCHEMA}.post_latest l ON l.tracked_post_id = t.id
WHERE t.account_id = :account {keyset}
ORDER BY {key} DESC, t.id DESC
LIMIT :limit"""
        params: dict[str, Any] = {"account": account_id, "limit": limit}
        if after:
            params["after_key"], params["after_id"] = after
        return await self._rows(sql, params)

    async def post_latest(self, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Row]:
        sql = f"""
SELECT l.tracked_post_id, l.fetched_at, {POST_COLS} FROM {SCHEMA}.post_latest l
WHERE l.tracked_post_id = ANY(CAST(:ids AS uuid[]))"""
        return {r["tracked_post_id"]: r for r in await self._rows(sql, {"ids": list(ids)})}

    async def post_history(self, post_id: uuid.UUID, limit: int) -> list[Row]:
        """The post's fetches, oldest first: raw snapshots where kept, daily rollups before;
        the newest ``limit`` of them."""
        cols = ", ".join(POST_METRICS)
        sql = f"""
SELECT * FROM (
    SELECT fetched_at, {cols} FROM {SCHEMA}.post_snapshots
    WHERE tracked_post_id = :id AND fetched_at >= :cutoff
    UNION ALL
    SELECT fetched_at, {cols} FROM {SCHEMA}.post_daily
    WHERE tracked_post_id = :id AND fetched_at < :cutoff
    ORDER BY fetched_at DESC LIMIT :limit
) h ORDER BY fetched_at"""
        return await self._rows(sql, {"id": post_id, "cutoff": self.cutoff, "limit": limit})

    async def post_series(
        self, post_ids: Sequence[uuid.UUID], metrics: Sequence[str], bounds: Sequence[datetime]
    ) -> dict[tuple[uuid.UUID, int], Row]:
        """Per post and bucket (``bounds[i-1] <= t < bounds[i]`` is bucket ``i``) the last
        fetch's ``metrics``: raw snapshots where kept, daily rollups before the cutoff;
        buckets without a fetch are absent."""
        assert metrics and all(m in POST_METRICS for m in metrics)
        cols = ", ".join(metrics)
        sql = f"""
SELECT DISTINCT ON (p, k) p, k, {cols} FROM (
    SELECT tracked_post_id AS p, width_bucket(fetched_at, CAST(:bounds AS timestamptz[])) AS k,
           fetched_at, {cols}
    FROM {SCHEMA}.post_snapshots
    WHERE tracked_post_id = ANY(:ids) AND fetched_at >= :lo AND fetched_at < :hi
          AND fetched_at >= :cutoff
    UNION ALL
    SELECT tracked_post_id, width_bucket(fetched_at, CAST(:bounds AS timestamptz[])),
           fetched_at, {cols}
    FROM {SCHEMA}.post_daily
    WHERE tracked_post_id = ANY(:ids) AND day >= :day_lo AND day <= :day_hi
          AND fetched_at >= :lo AND fetched_at < :hi AND fetched_at < :cutoff
) s ORDER BY p, k, fetched_at DESC"""
        lo, hi = bounds[0], bounds[-1]
        rows = await self._rows(
            sql,
            {
                "bounds": list(bounds),
                "ids": list(post_ids),
                "lo": lo,
                "hi": hi,
                "cutoff": self.cutoff,
                "day_lo": lo.astimezone(UTC).date(),
                "day_hi": hi.astimezone(UTC).date(),
            },
        )
        return {(r["p"], int(r["k"])): r for r in rows}


#: The export's columns, in order.
EXPORT_COLUMNS = (
    "fetched_at",
    "account_id",
    "platform",
    "username",
    "tracked_post_id",
    "platform_post_id",
    "publisher_post_id",
    "published_at",
    *POST_METRICS,
)


def export_query(
    workspace_id: uuid.UUID,
    period: Period,
    account_ids: Sequence[uuid.UUID] | None,
    cutoff: datetime,
) -> tuple[str, dict[str, Any]]:
    """Every snapshot of the workspace's posts fetched in the period (raw where kept, daily
    rollups before), in no particular order: no sort, so the database streams it too."""
    cols = ", ".join(f"s.{m}" for m in POST_METRICS)
    accounts = "AND t.account_id = ANY(CAST(:accounts AS uuid[]))" if account_ids else ""
    select = f"""
SELECT s.fetched_at, t.account_id, t.platform, a.username, t.id AS tracked_post_id,
       t.platform_post_id, t.publisher_post_id, t.published_at, {cols}
FROM {{table}} s
JOIN {SCHEMA}.tracked_posts t ON t.id = s.tracked_post_id
JOIN {SCHEMA}.accounts a ON a.id = t.account_id
WHERE t.workspace_id = :ws AND s.fetched_at >= :lo AND s.fetched_at < :hi {accounts}"""
    sql = (
        "/* analytics-export */ "
        + select.format(table=f"{SCHEMA}.post_snapshots")
        + " AND s.fetched_at >= :cutoff UNION ALL "
        + select.format(table=f"{SCHEMA}.post_daily")
        + " AND s.fetched_at < :cutoff"
    )
    params: dict[str, Any] = {
        "ws": workspace_id,
        "lo": period.start,
        "hi": period.end,
        "cutoff": cutoff,
    }
    if account_ids:
        params["accounts"] = list(account_ids)
    return sql, params


async def stream_export(
    conn: AsyncConnection, sql: str, params: dict[str, Any], chunk: int
) -> AsyncIterator[Sequence[Any]]:
    """The export's rows ``chunk`` at a time through a server-side cursor: memory stays the
    same whatever the export's size."""
    result = await conn.stream(text(sql).execution_options(yield_per=chunk), params)
    async for rows in result.partitions(chunk):
        yield rows


def retention_cutoff(now: datetime, raw_retention_days: int) -> datetime:
    """The oldest instant raw snapshots are still kept from (partitions are UTC days)."""
    return day_start(now) - timedelta(days=raw_retention_days)
