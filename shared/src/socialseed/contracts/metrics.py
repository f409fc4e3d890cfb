"""Metrics fetched from the platforms, on their way into analytics' time series."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from socialseed.contracts.base import Event

Gap = Literal["deleted", "not_enough_viewers", "out_of_window", "unavailable"]


class _Item(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class FetchedPostMetrics(_Item):
    """One post's metrics in the standard model; null where the platform has no such number
    (never 0)."""

    tracked_post_id: uuid.UUID = Field(description="Analytics' id of the tracked post")
    platform_post_id: str = Field(description="The post's id at the platform")
    views: int | None = Field(default=None, description="Views (or plays)")
    impressions: int | None = Field(default=None, description="Times it was shown")
    reach: int | None = Field(default=None, description="Distinct accounts it was shown to")
    likes: int | None = Field(default=None, description="Likes (or reactions)")
    comments: int | None = Field(default=None, description="Comments (or replies)")
    shares: int | None = Field(default=None, description="Shares, reposts or retweets")
    saves: int | None = Field(default=None, description="Saves or bookmarks")
    clicks: int | None = Field(default=None, description="Link or profile clicks")
    video_views: int | None = Field(default=None, description="Video views")
    watch_time_s: float | None = Field(default=None, description="Total watch time (seconds)")
    raw: dict[str, Any] = Field(description="The platform's own payload for this post, as it came")


class FetchedPostFailure(_Item):
    """A post of the batch the platform gave no metrics for this time."""

    tracked_post_id: uuid.UUID = Field(description="Analytics' id of the tracked post")
    platform_post_id: str = Field(description="The post's id at the platform")
    gap: Gap = Field(description="Why: deleted stops its syncing; the others are retried later")
    message: str = Field(description="The platform's own words, for users")


class FetchedAccountMetrics(_Item):
    """The account's own counters; null where the platform has no such number."""

    followers: int | None = Field(default=None, description="Followers (or subscribers)")
    following: int | None = Field(default=None, description="Accounts followed")
    posts: int | None = Field(default=None, description="Posts or videos")
    views: int | None = Field(default=None, description="Profile or channel views")
    impressions: int | None = Field(default=None, description="Impressions")
    reach: int | None = Field(default=None, description="Reach")
    raw: dict[str, Any] = Field(description="The platform's own payload, as it came")


class MetricsFetched(Event):
    """One batch of one account's metrics, as fetched together from its platform (keyed by
    the account id). Every post asked for is either in ``posts`` or in ``failures``."""

    topic = "metrics.fetched"
    key_field = "account_id"

    account_id: uuid.UUID = Field(description="The connected account (the key)")
    workspace_id: uuid.UUID = Field(description="Its workspace")
    platform: str = Field(description="tiktok, instagram, facebook, x, linkedin or youtube")
    fetched_at: datetime = Field(description="When the platform answered (UTC)")
    sync_id: uuid.UUID | None = Field(
        default=None, description="The sync this fetch was part of; null for scheduled fetches"
    )
    posts: list[FetchedPostMetrics] = Field(
        default_factory=list, description="The posts the platform reported on"
    )
    failures: list[FetchedPostFailure] = Field(
        default_factory=list, description="The posts it gave no metrics for, and why"
    )
    account: FetchedAccountMetrics | None = Field(
        default=None, description="The account's own counters, when fetched with this batch"
    )


class SyncCompleted(Event):
    """A sync (a refresh someone asked for) is over: every post it covered was fetched, failed
    or left for a spent budget. ``partial`` when some were not fetched; ``problems`` says why
    per account where a platform refused for good."""

    topic = "sync.completed"
    key_field = "sync_id"

    sync_id: uuid.UUID = Field(description="The sync (the key)")
    workspace_id: uuid.UUID = Field(description="Its workspace")
    account_id: uuid.UUID | None = Field(description="The one account it covered; null: several")
    status: Literal["completed", "partial", "failed"] = Field(description="How it ended")
    total_posts: int = Field(description="Posts it covered")
    synced: int = Field(description="Posts fetched")
    failed: int = Field(description="Posts the platform gave no numbers for")
    rate_limited: int = Field(description="Posts left for a spent rate budget (fetched later)")
    finished_at: datetime = Field(description="When (UTC)")
