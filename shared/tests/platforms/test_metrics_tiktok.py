"""TikTok metrics: video/query in batches of 20, videos absent from the answer, video/list
paged by cursor for listings, user/info stats, and the per-minute rate limit."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

import pytest

from sandbox.testing import MP4
from shared.tests.platforms.helpers import Sandbox, stored_media
from shared.tests.platforms.metrics_helpers import (
    Expected,
    account_calls,
    assert_a_deleted_post_fails_alone,
    assert_listed_when_published,
    fetched,
    platform_get,
    posts_of,
    views_over_time,
    younger_than,
)
from socialseed.platforms import ErrorKind, MetricsGap, Platform, PlatformError, PlatformPost
from socialseed.platforms.tiktok import TikTokProvider

TIKTOK = Platform.TIKTOK
QUERY = "POST /v2/video/query/"
LIST = "POST /v2/video/list/"


def standard(true: dict[str, Any]) -> Expected:
    """TikTok's true counters in the standard model; what the Display API does not report is
    unknown, never 0."""
    return {
        "views": true["view_count"],
        "video_views": true["view_count"],
        "likes": true["like_count"],
        "comments": true["comment_count"],
        "shares": true["share_count"],
        "saves": None,
        "impressions": None,
        "reach": None,
        "clicks": None,
        "watch_time_s": None,
    }


async def test_a_full_batch_is_one_call_and_every_number_is_the_truth(history: Sandbox) -> None:
    provider, tokens = await history.connected(TikTokProvider)
    ids = [e["platform_post_id"] for e in await posts_of(history, TIKTOK, "alice")][:20]
    assert len(ids) == provider.metrics_batch_size == 20
    assert provider.metrics_cost(ids) == 1 and provider.metrics_cost([*ids, "1"]) == 2  # requests

    batch = await fetched(history, provider, tokens, ids, standard)

    assert batch.failures == () and batch.calls == 1 and batch.signals == ()
    assert await account_calls(history, TIKTOK, "alice", QUERY) == 1
    assert [m.post_id for m in batch.metrics] == ids
    assert all(m.raw["view_count"] == m.views for m in batch.metrics)


async def test_a_deleted_video_fails_alone(sandbox: Sandbox) -> None:
    provider, tokens = await sandbox.connected(TikTokProvider)
    await assert_a_deleted_post_fails_alone(sandbox, provider, tokens, standard)


async def test_a_new_videos_counts_grow_as_time_passes(sandbox: Sandbox) -> None:
    provider, tokens = await sandbox.connected(TikTokProvider)
    clip = PlatformPost(
        text="Behind the scenes",
        marker="t1",
        media=(stored_media(MP4, duration_s=12.0),),
        options={"privacy_level": "PUBLIC_TO_EVERYONE"},
    )
    published, _ = await sandbox.publish_until_done(provider, tokens, clip)

    views = await views_over_time(sandbox, provider, tokens, published.id, standard, (600, 10_800))

    assert views[1] > views[0] > 0


async def test_a_private_video_is_unavailable_never_deleted(sandbox: Sandbox) -> None:
    """Published SELF_ONLY, a video has no public id (its publish_id stands for it): TikTok
    still has it, so it is not called deleted, and no call is made for it."""
    provider, tokens = await sandbox.connected(TikTokProvider)
    clip = PlatformPost(
        text="Only me",
        marker="p1",
        media=(stored_media(MP4, duration_s=12.0),),
        options={"privacy_level": "SELF_ONLY"},
    )
    published, _ = await sandbox.publish_until_done(provider, tokens, clip)
    shown = dataclasses.replace(clip, marker="p2", options={"privacy_level": "PUBLIC_TO_EVERYONE"})
    public = (await sandbox.publish_until_done(provider, tokens, shown))[0].id
    assert provider.metrics_cost([published.id]) == 0
    assert provider.metrics_cost([published.id, public]) == 1

    alone = await provider.fetch_post_metrics(tokens, [published.id])
    assert alone.calls == 0 and alone.metrics == ()
    [failure] = alone.failures
    assert failure.post_id == published.id and failure.gap is MetricsGap.UNAVAILABLE
    assert "private" in failure.message and "still has the video" in failure.message
    assert await account_calls(sandbox, TIKTOK, "alice", QUERY) == 0

    both = await provider.fetch_post_metrics(tokens, [published.id, public])
    assert [m.post_id for m in both.metrics] == [public] and both.calls == 1
    assert [(f.post_id, f.gap) for f in both.failures] == [(published.id, MetricsGap.UNAVAILABLE)]


async def test_list_posts_pages_by_cursor_newest_first_since_the_date(history: Sandbox) -> None:
    provider, tokens = await history.connected(TikTokProvider)
    entries = await posts_of(history, TIKTOK, "alice")
    since = history.now() - timedelta(days=10)
    expected = younger_than(entries, history.now(), 10)
    assert len(expected) == 75  # aged 1, 3 and 8 days, published outside SocialSeed

    listing = await provider.list_posts(tokens, since)

    assert [p.id for p in listing.posts] == expected  # newest first, none older than since
    # TikTok gives create_time in seconds.
    assert_listed_when_published(listing.posts, entries, timedelta(seconds=1))
    assert listing.posts[0].url and listing.posts[0].url.endswith(f"/video/{expected[0]}")
    # Pages of 20: the 4th reaches past since, so there is no 5th.
    assert listing.calls == 4 == await account_calls(history, TIKTOK, "alice", LIST)
    assert listing.signals == ()


async def test_account_metrics_are_the_user_info_stats(sandbox: Sandbox) -> None:
    provider, tokens = await sandbox.connected(TikTokProvider)
    fields = {"fields": "follower_count,following_count,likes_count,video_count"}
    user = (await platform_get(sandbox, tokens, "/tiktok/v2/user/info/", fields))["data"]["user"]

    account = await provider.fetch_account_metrics(tokens)

    assert account.followers == user["follower_count"]
    assert account.following == user["following_count"]
    assert account.posts == user["video_count"] == 5
    assert account.raw["likes_count"] == user["likes_count"]
    assert account.views is None and account.signals == ()


async def test_a_rate_limited_query_waits_a_minute(sandbox: Sandbox) -> None:
    provider, tokens = await sandbox.connected(TikTokProvider)
    ids = [e["platform_post_id"] for e in await posts_of(sandbox, TIKTOK, "alice")]
    await sandbox.fault(TIKTOK, endpoint="/v2/video/query/", burst_429=1)

    with pytest.raises(PlatformError) as caught:
        await provider.fetch_post_metrics(tokens, ids)

    assert caught.value.kind is ErrorKind.RATE_LIMITED
    assert caught.value.code == "rate_limit_exceeded" and caught.value.retry_after == 60
