"""The read API's rules: tenancy (another workspace's ids are 404), periods, and turning rows
into answers with the formulas. SQL lives in ``repository``; shapes in ``schemas``."""

from __future__ import annotations

import statistics
import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from analytics.models import Account, TrackedPost
from analytics.queries import formulas
from analytics.queries.periods import Interval, Period, buckets, resolve, zone
from analytics.queries.repository import PostFilter, QueryRepository, Row
from analytics.queries.schemas import (
    AccountMetricsOut,
    AccountRef,
    AccountTotals,
    BestTimesOut,
    Bucket,
    Change,
    CompareOut,
    CompareRow,
    DashboardOut,
    HistoryPoint,
    PeriodOut,
    PlatformTotals,
    PostBucket,
    PostDetailOut,
    PostMetricsOut,
    PostPageOut,
    PostSeries,
    PostTargetOut,
    PostTimeseriesOut,
    Slot,
    TimeseriesOut,
    TrackedPostOut,
)
from socialseed.errors import AccountNotFound, PostNotFound
from socialseed.platforms.base import ACCOUNT_METRICS, POST_METRICS
from socialseed.repository import KeyType, Number, decode_cursor, page_of
from socialseed.security import Principal

HISTORY_LIMIT = 1000
#: What ``compare`` can put side by side: the account counters and the post totals.
POST_TOTALS = (
    "posts_published",
    *POST_METRICS,
    "engagements",
    "engagement_rate",
    "ctr",
    "viral_score",
)
COMPARE_METRICS = tuple(dict.fromkeys((*ACCOUNT_METRICS, *POST_TOTALS)))


def member_of(principal: Principal, workspace_id: uuid.UUID) -> bool:
    # Viewers and up read analytics; every role is at least a viewer.
    return workspace_id in principal.roles


def require_workspace(principal: Principal, workspace_id: uuid.UUID) -> None:
    principal.require(workspace_id, "viewer")


async def require_account(
    repo: QueryRepository, principal: Principal, account_id: uuid.UUID
) -> Account:
    return await repo.get(principal, account_id)


async def require_accounts(
    repo: QueryRepository, principal: Principal, ids: Sequence[uuid.UUID]
) -> list[Account]:
    """All of them, in the order asked, or AccountNotFound (one foreign id is enough)."""
    found = {a.id: a for a in await repo.accounts(principal, ids)}
    if any(i not in found for i in ids):
        raise AccountNotFound()
    return [found[i] for i in ids]


# Shapes --------------------------------------------------------------------------------------
def period_out(period: Period) -> PeriodOut:
    return PeriodOut(start=period.start, end=period.end)


def account_ref(account: Account | Mapping[str, Any]) -> AccountRef:
    """An account, or a row with its columns."""
    return AccountRef.model_validate(account, from_attributes=True)


def metrics_out(values: Mapping[str, Any] | None) -> PostMetricsOut:
    if values is None:
        return PostMetricsOut()
    base = {m: values.get(m) for m in POST_METRICS}
    return PostMetricsOut(**base, **formulas.derived(base))


def post_out(row: Mapping[str, Any]) -> TrackedPostOut:
    return TrackedPostOut(
        id=row["id"],
        account_id=row["account_id"],
        platform=row["platform"],
        platform_post_id=row["platform_post_id"],
        publisher_post_id=row["publisher_post_id"],
        url=row["url"],
        text=row["text"],
        published_at=row["published_at"],
        status=row["status"],
        fetched_at=row["fetched_at"],
        metrics=metrics_out(row if row["fetched_at"] is not None else None),
    )


def change(value: Any, previous: Any) -> Change:
    diff = value - previous if value is not None and previous is not None else None
    return Change(
        value=value, previous=previous, change=diff, growth=formulas.growth(value, previous)
    )


def add_totals(total: Row | None, row: Row) -> Row:
    """Two groups' sums added up (a sum of nothing stays null, not 0)."""
    if total is None:
        return dict(row)
    out: Row = {"posts_published": total["posts_published"] + row["posts_published"]}
    for m in POST_METRICS:
        a, b = total[m], row[m]
        out[m] = b if a is None else a if b is None else a + b
    return out


def post_totals(row: Mapping[str, Any] | None) -> dict[str, Any]:
    """``posts_published``, the sums and the derived numbers of one group of posts."""
    if row is None:
        return {"posts_published": 0, **{m: None for m in POST_METRICS}, **formulas.derived({})}
    base = {m: row[m] for m in POST_METRICS}
    return {"posts_published": row["posts_published"], **base, **formulas.derived(base)}


# Reads ---------------------------------------------------------------------------------------
async def account_metrics(
    repo: QueryRepository, account: Account, period: Period
) -> AccountMetricsOut:
    prev = period.previous()
    now_values = await repo.account_values_at([account.id], period.end)
    then_values = await repo.account_values_at([account.id], period.start)
    current = await _totals_by_account(repo, account, period)
    previous = await _totals_by_account(repo, account, prev)
    at_end, at_start = now_values.get(account.id), then_values.get(account.id)
    return AccountMetricsOut(
        account=account_ref(account),
        period=period_out(period),
        counters={
            m: change(at_end[m] if at_end else None, at_start[m] if at_start else None)
            for m in ACCOUNT_METRICS
        },
        posts={m: change(current[m], previous[m]) for m in POST_TOTALS},
    )


async def _totals_by_account(
    repo: QueryRepository, account: Account, period: Period
) -> dict[str, Any]:
    rows = await repo.post_totals(
        PostFilter(account.workspace_id, period, [account.id]), "account_id"
    )
    return post_totals(rows[0] if rows else None)


class Owned(Protocol):
    """What some answers need of an account: its id and its workspace (an ``Account`` row,
    or an ``AccountKey`` when its workspace is known without the row)."""

    @property
    def id(self) -> uuid.UUID: ...

    @property
    def workspace_id(self) -> uuid.UUID: ...


@dataclass(frozen=True)
class AccountKey:
    id: uuid.UUID
    workspace_id: uuid.UUID


async def timeseries(
    repo: QueryRepository,
    account: Owned,
    metric: str,
    interval: Interval,
    period: Period,
    *,
    max_buckets: int,
) -> TimeseriesOut:
    tz_name = await repo.timezone(account.workspace_id)
    tz = zone(tz_name)
    bounds = buckets(period, interval, tz, limit=max_buckets)
    values = await repo.account_series(account.id, metric, bounds)
    return TimeseriesOut(
        account_id=account.id,
        metric=metric,
        interval=interval,
        timezone=tz.key,
        period=period_out(period),
        buckets=[
            Bucket(
                start=bounds[i - 1].astimezone(tz),
                end=bounds[i].astimezone(tz),
                value=values.get(i),
            )
            for i in range(1, len(bounds))
        ],
    )


def cursor_types(sort: str) -> tuple[KeyType, ...]:
    """A post list's cursor: the last post's sort key (an instant for ``published_at``, else
    a metric: a number) and its id; the sort is the cursor's scope."""
    return (datetime if sort == "published_at" else Number, uuid.UUID)


async def account_posts(
    repo: QueryRepository, account: Account, sort: str, limit: int, cursor: str | None
) -> PostPageOut:
    after = decode_cursor(cursor, sort, *cursor_types(sort)) if cursor is not None else None
    rows = await repo.account_posts(account.id, sort, limit + 1, after)
    page = page_of(rows, limit, sort, lambda row: (row["sort_key"], row["id"]))
    return PostPageOut(items=[post_out(r) for r in page.items], next_cursor=page.next_cursor)


async def post_targets(
    repo: QueryRepository, principal: Principal, post_id: uuid.UUID
) -> list[TrackedPost]:
    """A publisher post's targets (if this id is one), else the tracked post with this id,
    in the caller's workspaces; PostNotFound when neither."""
    posts = await repo.tracked_posts_of(principal, post_id)
    targets = [p for p in posts if p.publisher_post_id == post_id] or posts
    if not targets:
        raise PostNotFound()
    return targets


async def post_detail(repo: QueryRepository, targets: Sequence[TrackedPost]) -> PostDetailOut:
    latest = await repo.post_latest([p.id for p in targets])
    out = []
    for post in targets:
        row = latest.get(post.id)
        history = await repo.post_history(post.id, HISTORY_LIMIT)
        out.append(
            PostTargetOut(
                **_post_fields(post),
                fetched_at=row["fetched_at"] if row else None,
                metrics=metrics_out(row),
                gap=post.gap,
                gap_message=post.gap_message,
                history=[
                    HistoryPoint(fetched_at=h["fetched_at"], metrics=metrics_out(h))
                    for h in history
                ],
            )
        )
    return PostDetailOut(publisher_post_id=targets[0].publisher_post_id, targets=out)


#: A growth curve's default length from the post's publishing, per bucket size.
GROWTH_SPAN = {Interval.HOUR: timedelta(hours=72), Interval.DAY: timedelta(days=90)}
GROWTH_METRICS = ("views", "impressions", "likes", "comments", "shares")


def growth_period(
    targets: Sequence[TrackedPost],
    interval: Interval,
    start: datetime | None,
    end: datetime | None,
    now: datetime,
) -> Period:
    """A growth curve's period: from the post's publishing (its earliest target's) for
    ``GROWTH_SPAN`` or until the next whole hour, whichever comes first, unless asked."""
    published = min(t.published_at for t in targets)
    span = GROWTH_SPAN[interval]
    next_hour = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    lo = start if start is not None else published
    hi = end if end is not None else max(min(next_hour, lo + span), lo + timedelta(hours=1))
    return resolve(lo, hi, now=now, default=span)


async def post_timeseries(
    repo: QueryRepository,
    targets: Sequence[TrackedPost],
    metrics: Sequence[str],
    interval: Interval,
    period: Period,
    *,
    max_buckets: int,
) -> PostTimeseriesOut:
    tz = zone(await repo.timezone(targets[0].workspace_id))
    bounds = buckets(period, interval, tz, limit=max_buckets)
    found = await repo.post_series([t.id for t in targets], metrics, bounds)
    series = []
    for post in targets:
        points = []
        for i in range(1, len(bounds)):
            row = found.get((post.id, i))
            points.append(
                PostBucket(
                    start=bounds[i - 1].astimezone(tz),
                    end=bounds[i].astimezone(tz),
                    values={m: row[m] if row else None for m in metrics},
                )
            )
        series.append(
            PostSeries(
                id=post.id,
                account_id=post.account_id,
                platform=post.platform,
                published_at=post.published_at,
                buckets=points,
            )
        )
    return PostTimeseriesOut(
        publisher_post_id=targets[0].publisher_post_id,
        metrics=list(metrics),
        interval=interval,
        timezone=tz.key,
        period=period_out(period),
        targets=series,
    )


def _post_fields(post: TrackedPost) -> dict[str, Any]:
    return {
        "id": post.id,
        "account_id": post.account_id,
        "platform": post.platform,
        "platform_post_id": post.platform_post_id,
        "publisher_post_id": post.publisher_post_id,
        "url": post.url,
        "text": post.text,
        "published_at": post.published_at,
        "status": post.status,
    }


async def best_times(repo: QueryRepository, where: PostFilter, *, min_posts: int) -> BestTimesOut:
    """The median engagement rate of the posts published in each local hour of the week;
    a slot with fewer than ``min_posts`` posts says so and has no median. Asked for an account
    or a platform whose posts leave every slot without a median, the workspace's answer, saying
    so (``fallback``)."""
    scope = "account" if where.account_ids else "platform" if where.platform else "workspace"
    answer = await _best_times(repo, where, min_posts, scope)
    if scope == "workspace" or answer.best:
        return answer
    wider = await _best_times(
        repo, PostFilter(where.workspace_id, where.period), min_posts, "workspace"
    )
    whose = "This account's" if scope == "account" else "This platform's"
    wider.fallback = (
        f"{whose} posts of the period are too few: no hour of the week holds {min_posts} of "
        "them (the fewest a median is taken of), so these are the workspace's best times."
    )
    return wider


async def _best_times(
    repo: QueryRepository, where: PostFilter, min_posts: int, scope: str
) -> BestTimesOut:
    tz = zone(await repo.timezone(where.workspace_id))
    rates: dict[tuple[int, int], list[float]] = defaultdict(list)
    for row in await repo.post_rates_input(where):
        rate = formulas.engagement_rate(row)
        if rate is not None:
            local = row["published_at"].astimezone(tz)
            rates[(local.weekday(), local.hour)].append(rate)
    slots = []
    for weekday in range(7):
        for hour in range(24):
            sample = rates.get((weekday, hour), [])
            enough = len(sample) >= min_posts
            slots.append(
                Slot(
                    weekday=weekday,
                    hour=hour,
                    posts=len(sample),
                    enough_data=enough,
                    median_engagement_rate=statistics.median(sample) if enough else None,
                )
            )
    best = sorted(
        (s for s in slots if s.enough_data),
        key=lambda s: (-(s.median_engagement_rate or 0), s.weekday, s.hour),
    )[:3]
    return BestTimesOut(
        workspace_id=where.workspace_id,
        timezone=tz.key,
        period=period_out(where.period),
        min_posts=min_posts,
        slots=slots,
        best=best,
        scope=scope,
    )


async def dashboard(
    repo: QueryRepository,
    principal: Principal,
    workspace_id: uuid.UUID,
    period: Period,
    *,
    top: int,
) -> DashboardOut:
    accounts = await repo.dashboard_accounts(principal, workspace_id, period)

    def sums(account: Row) -> Row | None:
        """The account's post sums; none when it published nothing in the period."""
        return account if account["posts_published"] is not None else None

    # An account's posts are all of its platform: the platforms' totals are the sums of their
    # accounts'.
    by_platform: dict[str, Row | None] = {}
    for a in accounts:
        total, own = by_platform.get(a["platform"]), sums(a)
        by_platform[a["platform"]] = add_totals(total, own) if own is not None else total

    def totals(row: Mapping[str, Any] | None) -> dict[str, Any]:
        t = post_totals(row)
        return {"posts_published": t.pop("posts_published"), "metrics": PostMetricsOut(**t)}

    return DashboardOut(
        workspace_id=workspace_id,
        period=period_out(period),
        platforms=[
            PlatformTotals(platform=p, **totals(by_platform[p])) for p in sorted(by_platform)
        ],
        accounts=[
            AccountTotals(
                account=account_ref(a),
                followers=change(a["followers_end"], a["followers_start"]),
                **totals(sums(a)),
            )
            for a in accounts
        ],
        top_posts=[post_out(r) for r in await repo.workspace_top_posts(workspace_id, period, top)],
    )


async def compare(
    repo: QueryRepository, accounts: Sequence[Account], period: Period, metrics: Sequence[str]
) -> CompareOut:
    rows = []
    for account in accounts:
        full = await account_metrics(repo, account, period)
        rows.append(
            CompareRow(
                account=full.account,
                counters={m: v for m, v in full.counters.items() if m in metrics},
                posts={m: v for m, v in full.posts.items() if m in metrics},
            )
        )
    return CompareOut(period=period_out(period), accounts=rows)


def default_period(days: int) -> timedelta:
    return timedelta(days=days)
