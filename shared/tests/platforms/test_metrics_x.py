"""X metrics: GET /2/tweets in batches of 100 with private metrics where X gives them, deleted
tweets per item, the user timeline for listings, users/me for the account, and the
x-rate-limit-* signals of every response."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from shared.tests.platforms.helpers import Sandbox, only
from shared.tests.platforms.metrics_helpers import (
    Expected,
    account_calls,
    assert_between,
    assert_listed_when_published,
    delete,
    fetched,
    older_than,
    platform_get,
    posts_of,
    truths,
    views_over_time,
    younger_than,
)
from socialseed.platforms import (
    ErrorKind,
    Platform,
    PlatformError,
    PlatformPost,
    PublishedPost,
    build_providers,
)
from socialseed.platforms.base import MetricsGap
from socialseed.platforms.x import XProvider, snowflake_time

X = Platform.X
LOOKUP = "GET /2/tweets"
TIMELINE = "GET /2/users/{user_id}/tweets"


def standard(private: bool) -> Callable[[dict[str, Any]], Expected]:
    """X's true counters in the standard model (clicks only with private metrics)."""

    def expected(true: dict[str, Any]) -> Expected:
        public = true["public_metrics"]
        clicks = true["non_public_metrics"]["url_link_clicks"] if private else None
        return {
            "views": public["impression_count"],
            "impressions": public["impression_count"],
            "likes": public["like_count"],
            "comments": public["reply_count"],
            "shares": public["retweet_count"],
            "saves": public["bookmark_count"],
            "clicks": clicks,
            "reach": None,  # X has no such numbers
            "video_views": None,
            "watch_time_s": None,
        }

    return expected


async def test_a_full_batch_is_one_call_and_every_number_is_the_truth(history: Sandbox) -> None:
    provider, tokens = await history.connected(XProvider)
    young = younger_than(await posts_of(history, X, "alice"), history.now(), 30)
    assert len(young) == provider.metrics_batch_size == 100
    assert provider.metrics_cost(young) == 1  # requests

    batch = await fetched(history, provider, tokens, young, standard(private=True))

    assert batch.failures == () and batch.calls == 1
    assert await account_calls(history, X, "alice", LOOKUP) == 1
    assert [m.post_id for m in batch.metrics] == young
    assert all(m.raw["non_public_metrics"]["url_link_clicks"] == m.clicks for m in batch.metrics)
    signal = only(batch.signals)
    assert signal.bucket == f"x:GET /2/tweets:user:{tokens.platform_user_id}"
    assert (signal.limit, signal.remaining) == (5_000, 4_999)
    assert signal.reset_at is not None
    window = signal.reset_at - history.now()
    assert timedelta(minutes=14) < window <= timedelta(minutes=15)


async def test_old_posts_are_asked_without_private_metrics_from_the_start(
    sandbox: Sandbox,
) -> None:
    """Tweet ids are Snowflakes: their age is known before the call, so a batch of tweets
    past the private metrics' 30 days is one call without them, not a refused one first."""
    provider, tokens = await sandbox.connected(XProvider)
    entries = await posts_of(sandbox, X, "alice")
    for entry in entries:
        created = snowflake_time(entry["platform_post_id"]).timestamp()
        assert abs(created - entry["created_ts"]) < 0.001
    old = older_than(entries, sandbox.now(), 32)
    assert old and provider.metrics_cost(old) == 1

    batch = await fetched(sandbox, provider, tokens, old, standard(private=False))

    assert batch.failures == () and batch.calls == 1
    assert await account_calls(sandbox, X, "alice", LOOKUP) == 1


async def test_a_tweets_age_is_told_on_the_providers_clock(sandbox: Sandbox) -> None:
    """The age split follows the provider's clock (a shifted sandbox clock in tests, the
    platform's time in production), not this machine's: on a clock 60 days on, the young
    tweets are old too and the batch costs one call."""
    provider, _ = await sandbox.connected(XProvider)
    entries = await posts_of(sandbox, X, "alice")
    young, old = younger_than(entries, sandbox.now(), 30), older_than(entries, sandbox.now(), 30)
    later = build_providers(
        sandbox.config(), sandbox.http, clock=lambda: sandbox.now() + timedelta(days=60)
    )[X]
    assert provider.metrics_cost([*old, *young]) == 2
    assert later.metrics_cost([*old, *young]) == 1


async def test_a_batch_of_young_and_old_posts_asks_each_group_once(
    sandbox: Sandbox,
) -> None:
    provider, tokens = await sandbox.connected(XProvider)
    entries = await posts_of(sandbox, X, "alice")
    young, old = younger_than(entries, sandbox.now(), 30), older_than(entries, sandbox.now(), 30)
    assert young and old
    assert provider.metrics_cost([*old, *young]) == 2  # known before the call

    low = await truths(sandbox, X, young, standard(private=True))
    low |= await truths(sandbox, X, old, standard(private=False))
    batch = await provider.fetch_post_metrics(tokens, [*old, *young])
    high = await truths(sandbox, X, young, standard(private=True))
    high |= await truths(sandbox, X, old, standard(private=False))

    assert batch.failures == () and batch.calls == 2
    assert await account_calls(sandbox, X, "alice", LOOKUP) == 2
    assert {m.post_id for m in batch.metrics} == {*old, *young}
    for metrics in batch.metrics:  # the old ones: public numbers only, clicks unknown (not 0)
        assert_between(metrics, low[metrics.post_id], high[metrics.post_id])


async def test_a_deleted_post_fails_alone(sandbox: Sandbox) -> None:
    provider, tokens = await sandbox.connected(XProvider)
    published = await provider.publish(tokens, PlatformPost(text="soon deleted", marker="t1"))
    assert isinstance(published, PublishedPost)
    others = younger_than(await posts_of(sandbox, X, "alice"), sandbox.now(), 30)[1:3]
    await delete(sandbox, X, published.id)

    batch = await provider.fetch_post_metrics(tokens, [others[0], published.id, "x1", others[1]])

    assert [m.post_id for m in batch.metrics] == others and batch.calls == 1
    deleted, not_an_id = batch.failures
    assert deleted.post_id == published.id and deleted.gap is MetricsGap.DELETED
    assert published.id in deleted.message  # X's words: "Could not find tweet with ids: [...]"
    assert not_an_id.post_id == "x1" and not_an_id.gap is MetricsGap.DELETED


async def test_metrics_grow_as_time_passes(sandbox: Sandbox) -> None:
    provider, tokens = await sandbox.connected(XProvider)
    published = await provider.publish(tokens, PlatformPost(text="fresh", marker="t1"))
    assert isinstance(published, PublishedPost)

    # Both fetches within the access token's two hours.
    views = await views_over_time(
        sandbox, provider, tokens, published.id, standard(private=True), (600, 3_600)
    )

    assert views[1] > views[0] > 0


async def test_list_posts_pages_the_timeline_newest_first_since_the_date(
    history: Sandbox,
) -> None:
    provider, tokens = await history.connected(XProvider)
    provider.timeline_page_size = 20
    published = await provider.publish(tokens, PlatformPost(text="through SocialSeed", marker="t1"))
    assert isinstance(published, PublishedPost)
    entries = await posts_of(history, X, "alice")
    since = history.now() - timedelta(days=10)
    expected = younger_than(entries, history.now(), 10)  # ages 1, 3 and 8 days, and the new one
    assert len(expected) == 76 and published.id in expected

    listing = await provider.list_posts(tokens, since)

    assert [p.id for p in listing.posts] == expected  # newest first, none older than since
    assert listing.posts[0].id == published.id
    # X prints times to the millisecond.
    assert_listed_when_published(listing.posts, entries, timedelta(milliseconds=1))
    texts = {e["platform_post_id"]: e["text"] for e in entries}
    assert all(p.text == texts[p.id] for p in listing.posts)
    assert listing.calls == 4 == await account_calls(history, X, "alice", TIMELINE)
    assert (
        only(listing.signals).bucket == f"x:GET /2/users/:id/tweets:user:{tokens.platform_user_id}"
    )


async def test_account_metrics_are_the_users_public_metrics(sandbox: Sandbox) -> None:
    provider, tokens = await sandbox.connected(XProvider)
    fields = {"user.fields": "public_metrics"}
    counts = (await platform_get(sandbox, tokens, "/x/2/users/me", fields))["data"][
        "public_metrics"
    ]

    account = await provider.fetch_account_metrics(tokens)

    assert account.followers == counts["followers_count"]
    assert account.following == counts["following_count"]
    assert account.posts == counts["tweet_count"] == 5  # the seeded history
    assert (account.views, account.impressions, account.reach) == (None, None, None)
    assert only(account.signals).bucket == f"x:GET /2/users/me:user:{tokens.platform_user_id}"
    await sandbox.advance(30 * 86_400)
    later = await provider.fetch_account_metrics(await provider.refresh(tokens))
    assert later.followers is not None and account.followers is not None
    assert later.followers > account.followers


async def test_a_rate_limited_lookup_waits_for_the_window_to_reset(sandbox: Sandbox) -> None:
    provider, tokens = await sandbox.connected(XProvider)
    young = younger_than(await posts_of(sandbox, X, "alice"), sandbox.now(), 30)
    await sandbox.fault(X, endpoint="/2/tweets", method="GET", burst_429=1)

    with pytest.raises(PlatformError) as caught:
        await provider.fetch_post_metrics(tokens, young)

    assert caught.value.kind is ErrorKind.RATE_LIMITED
    assert caught.value.retry_after is not None and 14 * 60 < caught.value.retry_after <= 15 * 60
