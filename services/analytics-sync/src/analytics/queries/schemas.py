"""The read API's answers (only shapes: the numbers come from ``service`` and ``formulas``)."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from analytics.queries.formulas import (
    CTR_DOC,
    ENGAGEMENT_RATE_DOC,
    ENGAGEMENTS_DOC,
    GROWTH_DOC,
    VIRAL_SCORE_DOC,
)

Number = int | float | None


class PeriodOut(BaseModel):
    start: datetime = Field(alias="from", description="Inclusive")
    end: datetime = Field(alias="to", description="Exclusive")

    model_config = {"populate_by_name": True}


class PostMetricsOut(BaseModel):
    """A post's (or a sum of posts') standard metrics and the numbers derived from them; null
    where the platform has no such number."""

    views: int | None = None
    impressions: int | None = None
    reach: int | None = None
    likes: int | None = None
    comments: int | None = None
    shares: int | None = None
    saves: int | None = None
    clicks: int | None = None
    video_views: int | None = None
    watch_time_s: float | None = None
    engagements: int | None = Field(default=None, description=ENGAGEMENTS_DOC)
    engagement_rate: float | None = Field(default=None, description=ENGAGEMENT_RATE_DOC)
    ctr: float | None = Field(default=None, description=CTR_DOC)
    viral_score: float | None = Field(default=None, description=VIRAL_SCORE_DOC)


class Change(BaseModel):
    value: Number = Field(description="This period's")
    previous: Number = Field(description="The previous period's (same length, just before)")
    change: Number = Field(description="value - previous")
    growth: float | None = Field(description=GROWTH_DOC)


class AccountRef(BaseModel):
    id: uuid.UUID
    platform: str
    username: str
    status: str
    last_synced_at: datetime | None = Field(description="The newest account snapshot's time")


class AccountMetricsOut(BaseModel):
    account: AccountRef
    period: PeriodOut
    counters: dict[str, Change] = Field(
        description="The account's own counters (followers, following, posts, views, "
        "impressions, reach): `value` as of `to`, `previous` as of `from`"
    )
    posts: dict[str, Change] = Field(
        description="Posts published in the period: `posts_published` and the sums of their "
        "latest metrics, against the posts published in the previous period; the derived "
        "numbers are computed from the sums"
    )


class Bucket(BaseModel):
    start: datetime = Field(description="Local start (with its UTC offset)")
    end: datetime = Field(description="Local end; a day is 23 or 25 h across a DST change")
    value: Number = Field(description="The last value fetched in the bucket; null: none")


class TimeseriesOut(BaseModel):
    account_id: uuid.UUID
    metric: str
    interval: str
    timezone: str
    period: PeriodOut
    buckets: list[Bucket]


class PostBucket(BaseModel):
    start: datetime = Field(description="Local start (with its UTC offset)")
    end: datetime = Field(description="Local end; a day is 23 or 25 h across a DST change")
    values: dict[str, Number] = Field(
        description="Per metric asked, the last value fetched in the bucket: the post's "
        "running total then (the platforms report lifetime counts); null: no fetch in it"
    )


class PostSeries(BaseModel):
    id: uuid.UUID = Field(description="The tracked post's own id")
    account_id: uuid.UUID
    platform: str
    published_at: datetime
    buckets: list[PostBucket]


class PostTimeseriesOut(BaseModel):
    publisher_post_id: uuid.UUID | None
    metrics: list[str]
    interval: str
    timezone: str
    period: PeriodOut
    targets: list[PostSeries] = Field(description="One series per account the post went to")


class TrackedPostOut(BaseModel):
    id: uuid.UUID = Field(description="The tracked post's own id")
    account_id: uuid.UUID
    platform: str
    platform_post_id: str
    publisher_post_id: uuid.UUID | None
    url: str | None
    text: str | None
    published_at: datetime
    status: str
    fetched_at: datetime | None = Field(description="When the latest values were fetched")
    metrics: PostMetricsOut


class PostPageOut(BaseModel):
    items: list[TrackedPostOut]
    next_cursor: str | None


class HistoryPoint(BaseModel):
    fetched_at: datetime
    metrics: PostMetricsOut


class PostTargetOut(TrackedPostOut):
    gap: str | None = Field(
        description="Why the last fetch had no metrics, if it had none: deleted (the platform "
        "no longer has it), unavailable, out_of_window, not_enough_viewers"
    )
    gap_message: str | None = Field(default=None, description="The same, in words")
    history: list[HistoryPoint] = Field(
        description="Every fetch (raw snapshots while kept, one per UTC day before), oldest "
        "first, the newest 1,000 at most"
    )


class PostDetailOut(BaseModel):
    publisher_post_id: uuid.UUID | None
    targets: list[PostTargetOut]


class Slot(BaseModel):
    weekday: int = Field(ge=0, le=6, description="0 = Monday, in the workspace's time zone")
    hour: int = Field(ge=0, le=23, description="Local hour of publication")
    posts: int = Field(description="How many posts (with an engagement rate) it holds")
    enough_data: bool = Field(description="false: fewer posts than the minimum; no median")
    median_engagement_rate: float | None = Field(description=ENGAGEMENT_RATE_DOC)


class BestTimesOut(BaseModel):
    workspace_id: uuid.UUID
    timezone: str
    period: PeriodOut
    min_posts: int = Field(description="The fewest posts a slot needs for a median")
    slots: list[Slot] = Field(description="All 168 hour-of-week slots, Monday 00:00 first")
    best: list[Slot] = Field(description="The slots with enough data, best median first")
    scope: str = Field(
        description="Whose posts the slots are from: `account`, `platform` (as asked) or "
        "`workspace` (asked, or the fallback)"
    )
    fallback: str | None = Field(
        default=None,
        description="Set when an account's or a platform's posts were too few for any slot "
        "to have a median, so the workspace's posts answer instead: why, in words",
    )


class Totals(BaseModel):
    posts_published: int
    metrics: PostMetricsOut


class PlatformTotals(Totals):
    platform: str


class AccountTotals(Totals):
    account: AccountRef
    followers: Change = Field(description="`value` as of `to`, `previous` as of `from`")


class DashboardOut(BaseModel):
    workspace_id: uuid.UUID
    period: PeriodOut
    platforms: list[PlatformTotals]
    accounts: list[AccountTotals]
    top_posts: list[TrackedPostOut] = Field(description="Most engagements among the period's posts")


class CompareRow(BaseModel):
    account: AccountRef
    counters: dict[str, Change] = Field(description="The asked account counters, as in /metrics")
    posts: dict[str, Change] = Field(description="The asked post totals, as in /metrics")


class CompareOut(BaseModel):
    period: PeriodOut
    accounts: list[CompareRow]
