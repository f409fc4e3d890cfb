"""YouTube metrics: videos.list statistics in batches of 50 (counts as strings), videos absent
from items, the uploads playlist for listings, channel statistics, and the daily quota."""

from __future__ import annotations

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
from socialseed.platforms import ErrorKind, Platform, PlatformError, PlatformPost
from socialseed.platforms.parsing import seconds_until_midnight
from socialseed.platforms.youtube import PACIFIC, YouTubeProvider

YOUTUBE = Platform.YOUTUBE
VIDEOS = "GET /youtube/v3/videos"
PLAYLIST = "GET /youtube/v3/playlistItems"


def standard(true: dict[str, Any]) -> Expected:
    """YouTube's true counters (strings) in the standard model; what the Data API does not
    report is unknown, never 0."""
    stats = true["statistics"]
    views = int(stats["viewCount"])
    return {
        "views": views,
        "video_views": views,
        "likes": int(stats["likeCount"]),
        "comments": int(stats["commentCount"]),
        "shares": None,
        "saves": None,
        "impressions": None,
        "reach": None,
        "clicks": None,
        "watch_time_s": None,
    }


async def test_a_full_batch_is_one_call_and_every_number_is_the_truth(history: Sandbox) -> None:
    provider, tokens = await history.connected(YouTubeProvider)
    ids = [e["platform_post_id"] for e in await posts_of(history, YOUTUBE, "alice")][:50]
    assert len(ids) == provider.metrics_batch_size == 50

    batch = await fetched(history, provider, tokens, ids, standard)

    assert batch.failures == () and batch.calls == 1 and batch.signals == ()
    assert await account_calls(history, YOUTUBE, "alice", VIDEOS) == 1
    assert provider.metrics_cost(ids) == 1  # one quota unit
    assert [m.post_id for m in batch.metrics] == ids
    assert all(m.raw["statistics"]["viewCount"] == str(m.views) for m in batch.metrics)


async def test_a_deleted_video_fails_alone(sandbox: Sandbox) -> None:
    provider, tokens = await sandbox.connected(YouTubeProvider)
    await assert_a_deleted_post_fails_alone(sandbox, provider, tokens, standard)


async def test_a_new_videos_counts_grow_as_time_passes(sandbox: Sandbox) -> None:
    provider, tokens = await sandbox.connected(YouTubeProvider)
    video = PlatformPost(
        text="How we brew", marker="t1", media=(stored_media(MP4, duration_s=12.0),)
    )
    published, _ = await sandbox.publish_until_done(provider, tokens, video)

    # Both fetches within the access token's hour.
    views = await views_over_time(sandbox, provider, tokens, published.id, standard, (600, 1_800))

    assert views[1] > views[0] > 0


async def test_list_posts_reads_the_uploads_playlist_newest_first_since_the_date(
    history: Sandbox,
) -> None:
    provider, tokens = await history.connected(YouTubeProvider)
    provider.uploads_page_size = 20
    entries = await posts_of(history, YOUTUBE, "alice")
    since = history.now() - timedelta(days=10)
    expected = younger_than(entries, history.now(), 10)
    assert len(expected) == 75  # aged 1, 3 and 8 days, published outside SocialSeed

    listing = await provider.list_posts(tokens, since)

    assert [p.id for p in listing.posts] == expected  # newest first, none older than since
    # YouTube prints times to the second.
    assert_listed_when_published(listing.posts, entries, timedelta(seconds=1))
    assert listing.posts[0].url == f"https://www.youtube.com/watch?v={expected[0]}"
    # channels.list for the playlist, then 4 pages of 20 (the 4th reaches past since).
    assert listing.calls == 5 and listing.signals == ()
    assert await account_calls(history, YOUTUBE, "alice", PLAYLIST) == 4


async def test_account_metrics_are_the_channel_statistics(sandbox: Sandbox) -> None:
    provider, tokens = await sandbox.connected(YouTubeProvider)
    mine = {"mine": "true", "part": "statistics"}
    answer = await platform_get(sandbox, tokens, "/youtube/youtube/v3/channels", mine)
    stats = answer["items"][0]["statistics"]

    account = await provider.fetch_account_metrics(tokens)

    assert account.followers == int(stats["subscriberCount"])
    assert account.posts == int(stats["videoCount"]) == 5
    assert account.views == int(stats["viewCount"])
    assert account.following is None and account.signals == ()
    assert account.raw["statistics"] == stats

    hide = {"hidden_subscriber_count": True}
    (await sandbox.control.put("/_sandbox/youtube/channels/alice", json=hide)).raise_for_status()
    hidden = await provider.fetch_account_metrics(tokens)
    assert hidden.followers is None  # hidden: no number, not 0
    assert hidden.posts == account.posts and hidden.views is not None


async def test_the_daily_quota_waits_until_pacific_midnight(tight: Sandbox) -> None:
    provider, tokens = await tight.connected(YouTubeProvider)  # its profile used 1 of 2 units
    ids = [e["platform_post_id"] for e in await posts_of(tight, YOUTUBE, "alice")]
    await provider.fetch_post_metrics(tokens, ids)

    with pytest.raises(PlatformError) as caught:
        await provider.fetch_post_metrics(tokens, ids)

    assert caught.value.kind is ErrorKind.RATE_LIMITED and caught.value.code == "quotaExceeded"
    expected = seconds_until_midnight(tight.now(), PACIFIC)
    assert caught.value.retry_after is not None
    assert abs(caught.value.retry_after - expected) < 5
