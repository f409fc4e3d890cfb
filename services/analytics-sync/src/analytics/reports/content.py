"""What a report says, gathered from the read API's own answers (``queries.service``), so the
report's numbers are the ones the API gives: the dashboard of the period and of the period
before it (for growth), each account's followers by local day or week, and the workspace's
best times."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from analytics.queries import service
from analytics.queries.periods import Interval, Period, zone
from analytics.queries.repository import PostFilter, QueryRepository
from analytics.queries.schemas import (
    AccountRef,
    Change,
    PostMetricsOut,
    Slot,
    TimeseriesOut,
    TrackedPostOut,
)
from analytics.queries.service import change
from socialseed.security import Principal

# The totals a report shows for each platform and account, in this order.
TOTALS = ("posts_published", "impressions", "reach", "engagements", "engagement_rate")
# Periods longer than this are charted by week.
DAILY_UP_TO = timedelta(days=92)


@dataclass(frozen=True)
class Row:
    """One platform's or one account's line: the totals against the previous period."""

    platform: str
    account: AccountRef | None  # None: the platform's line
    totals: dict[str, Change]
    followers: Change | None  # accounts only


@dataclass(frozen=True)
class Report:
    workspace_id: uuid.UUID
    workspace_name: str
    timezone: str
    period: Period
    platforms: list[Row]
    accounts: list[Row]
    followers: list[tuple[AccountRef, TimeseriesOut]]
    top_posts: list[TrackedPostOut]
    best_times: list[Slot]
    best_times_min_posts: int


def _totals(posts_published: int, metrics: PostMetricsOut) -> dict[str, Any]:
    return {"posts_published": posts_published, **metrics.model_dump()}


def _changes(now: dict[str, Any], before: dict[str, Any] | None) -> dict[str, Change]:
    before = before or {}
    return {m: change(now.get(m), before.get(m)) for m in TOTALS}


async def gather(
    repo: QueryRepository,
    principal: Principal,
    workspace_id: uuid.UUID,
    period: Period,
    *,
    top: int,
    min_posts: int,
    max_buckets: int,
) -> Report:
    current = await service.dashboard(repo, principal, workspace_id, period, top=top)
    previous = await service.dashboard(repo, principal, workspace_id, period.previous(), top=0)
    platforms_before = {
        p.platform: _totals(p.posts_published, p.metrics) for p in previous.platforms
    }
    accounts_before = {
        a.account.id: _totals(a.posts_published, a.metrics) for a in previous.accounts
    }
    interval = Interval.DAY if period.end - period.start <= DAILY_UP_TO else Interval.WEEK
    accounts = {a.id: a for a in await repo.workspace_accounts(principal, workspace_id)}
    followers = [
        (
            row.account,
            await service.timeseries(
                repo,
                accounts[row.account.id],
                "followers",
                interval,
                period,
                max_buckets=max_buckets,
            ),
        )
        for row in current.accounts
        if row.account.id in accounts
    ]
    best = await service.best_times(repo, PostFilter(workspace_id, period), min_posts=min_posts)
    name = await repo.workspace_name(workspace_id)
    return Report(
        workspace_id=workspace_id,
        workspace_name=name or f"Workspace {workspace_id}",
        timezone=best.timezone,
        period=period,
        platforms=[
            Row(
                p.platform,
                None,
                _changes(_totals(p.posts_published, p.metrics), platforms_before.get(p.platform)),
                None,
            )
            for p in current.platforms
        ],
        accounts=[
            Row(
                a.account.platform,
                a.account,
                _changes(_totals(a.posts_published, a.metrics), accounts_before.get(a.account.id)),
                a.followers,
            )
            for a in current.accounts
        ],
        followers=followers,
        top_posts=current.top_posts,
        best_times=best.best,
        best_times_min_posts=best.min_posts,
    )


def local(report: Report, at: datetime) -> datetime:
    """An instant in the workspace's zone (what every date in the report is shown in)."""
    return at.astimezone(zone(report.timezone))
