"""Instagram analytics: media listed through the cursors, insights by their current names and
per kind of media through one Graph batch request per 50, "Not enough viewers" and missing
media per item, account counters and insights, throttles and usage."""

from __future__ import annotations

from datetime import timedelta

import pytest

from sandbox.testing import JPEG
from shared.tests.platforms.helpers import MediaServer, Sandbox
from shared.tests.platforms.metrics_helpers import (
    calls_per_endpoint,
    freeze,
    seeded,
    truth,
)
from socialseed.platforms import (
    ErrorKind,
    MediaKind,
    MetricsGap,
    Platform,
    PlatformError,
    PlatformPost,
)
from socialseed.platforms.instagram import InstagramProvider

INSTAGRAM = Platform.INSTAGRAM
DAY = 86_400
COUNTERS = ("views", "reach", "likes", "comments", "shares", "saves")


def expected(insights: dict[str, int]) -> dict[str, int]:
    return {**{k: insights[k] for k in COUNTERS if k != "saves"}, "saves": insights["saved"]}


async def test_fifty_media_in_one_call_equal_the_truth(history: Sandbox) -> None:
    provider, tokens = await history.connected(InstagramProvider)
    await freeze(history)
    account = str(tokens.platform_user_id)
    entries = (await seeded(history, INSTAGRAM, account))[:50]
    ids = [e["platform_post_id"] for e in entries]
    assert provider.metrics_batch_size == 50 and provider.metrics_cost(ids) == 50

    batch = await provider.fetch_post_metrics(tokens, ids)
    assert batch.calls == 1
    assert (await calls_per_endpoint(history, INSTAGRAM, account)).get("POST /batch") == 1
    # Insights lag 48 hours: media a day old have no viewers yet, the others are all there.
    young = {
        e["platform_post_id"]
        for e in entries
        if e["created_ts"] > history.now().timestamp() - 2 * DAY
    }
    assert young and {f.post_id for f in batch.failures} == young
    for failure in batch.failures:
        assert failure.gap is MetricsGap.NOT_ENOUGH_VIEWERS
        assert "Not enough viewers" in failure.message
    assert len(batch.metrics) == 50 - len(young)
    for metrics in batch.metrics:
        insights = (await truth(history, INSTAGRAM, metrics.post_id))["insights"]
        assert {k: getattr(metrics, k) for k in COUNTERS} == expected(insights)
        assert metrics.impressions is None and metrics.video_views is None  # deprecated
        assert {d["name"] for d in metrics.raw["data"]} >= {"views", "saved"}
    [signal] = [s for s in batch.signals if s.bucket == f"meta:buc:{account}"]
    assert signal.used_percent is not None and signal.regain_after_s == 0


async def test_reels_known_from_the_listing_get_their_watch_time(sandbox: Sandbox) -> None:
    provider, tokens = await sandbox.connected(InstagramProvider)
    await freeze(sandbox)
    since = sandbox.now() - timedelta(days=30)
    provider.timeline_page = 2  # see the cursors at work on five media
    listing = await provider.list_posts(tokens, since)
    account = str(tokens.platform_user_id)
    stored = [
        e for e in await seeded(sandbox, INSTAGRAM, account) if e["created_ts"] >= since.timestamp()
    ]
    assert [p.id for p in listing.posts] == [e["platform_post_id"] for e in stored]
    # Ages 1, 3, 8 and 20 days on two pages of two; the third page starts older: the last read.
    assert len(listing.posts) == 4 and listing.calls == 3
    assert all(p.url and "instagram.com/" in p.url for p in listing.posts)
    recent = await provider.list_posts(tokens, sandbox.now() - timedelta(days=5))
    # Ages 1 and 3 days on the first page; the second holds older media only: the last read.
    assert len(recent.posts) == 2 and recent.calls == 2

    batch = await provider.fetch_post_metrics(tokens, [p.id for p in listing.posts])
    reels = [
        m
        for m in batch.metrics
        if "/reel/" in str(next(p.url for p in listing.posts if p.id == m.post_id))
    ]
    feed = [m for m in batch.metrics if m not in reels]
    assert reels and feed
    for reel in reels:
        total = next(d for d in reel.raw["data"] if d["name"] == "ig_reels_video_view_total_time")
        assert reel.watch_time_s == total["values"][0]["value"] / 1000 and reel.watch_time_s
    assert all(m.watch_time_s is None for m in feed)

    older = batch.metrics[0]
    await sandbox.advance(DAY)
    later = await provider.fetch_post_metrics(tokens, [older.post_id])
    assert (later.metrics[0].views or 0) > (older.views or 0)
    insights = (await truth(sandbox, INSTAGRAM, older.post_id))["insights"]
    assert later.metrics[0].views == insights["views"]


async def test_a_missing_media_fails_alone(sandbox: Sandbox) -> None:
    provider, tokens = await sandbox.connected(InstagramProvider)
    account = str(tokens.platform_user_id)
    old = [e["platform_post_id"] for e in await seeded(sandbox, INSTAGRAM, account)][1:3]
    gone = "17999999999999999"
    batch = await provider.fetch_post_metrics(tokens, [old[0], gone, old[1]])
    assert [m.post_id for m in batch.metrics] == old
    [failure] = batch.failures
    assert failure.post_id == gone and failure.gap is MetricsGap.DELETED


async def test_a_story_is_asked_again_with_a_storys_metrics(
    sandbox: Sandbox, media_files: MediaServer
) -> None:
    provider, tokens = await sandbox.connected(InstagramProvider)
    story = PlatformPost(
        text="",
        marker="s1",
        media=(media_files.media(MediaKind.IMAGE, JPEG, "image/jpeg"),),
        options={"media_type": "STORIES"},
    )
    published, _ = await sandbox.publish_until_done(provider, tokens, story)
    await sandbox.advance(3 * DAY)  # past the insights' lag
    await freeze(sandbox)

    first = await provider.fetch_post_metrics(tokens, [published.id])
    assert first.calls == 2  # a story refuses a feed post's metrics: asked again as one
    [metrics] = first.metrics
    insights = (await truth(sandbox, INSTAGRAM, published.id))["insights"]
    assert (metrics.views, metrics.reach, metrics.shares) == (
        insights["views"],
        insights["reach"],
        insights["shares"],
    )
    assert metrics.likes is None and metrics.saves is None  # stories have no such numbers
    again = await provider.fetch_post_metrics(tokens, [published.id])
    assert again.calls == 1 and again.metrics  # now known as a story


async def test_account_metrics(sandbox: Sandbox) -> None:
    provider, tokens = await sandbox.connected(InstagramProvider)
    account = await provider.fetch_account_metrics(tokens)
    profile = await provider.profile(tokens)
    assert (account.followers, account.following, account.posts) == (
        profile.followers,
        profile.following,
        profile.post_count,
    )
    assert account.posts == 5 and account.calls == 2
    assert account.views and account.reach and account.views >= account.reach
    names = {d["name"] for d in account.raw["insights"]["data"]}
    assert names == {"reach", "views"}


async def test_throttled_batch_raises_with_the_wait(tight: Sandbox) -> None:
    # The tight sandbox allows 2 calls an hour; the connection took 1, a batch item is 1.
    provider, tokens = await tight.connected(InstagramProvider)
    ids = [e["platform_post_id"] for e in await seeded(tight, INSTAGRAM, "alice")][1:4]
    with pytest.raises(PlatformError) as caught:
        await provider.fetch_post_metrics(tokens, ids)
    assert caught.value.kind is ErrorKind.RATE_LIMITED and caught.value.code == "80002"
    assert caught.value.retry_after == 60 * 60
