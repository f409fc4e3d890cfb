"""Facebook Pages analytics: the page's posts from published_posts, post insights through one
Graph batch request per 50 posts, page insights, per-item failures, throttles and usage."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shared.tests.platforms.helpers import Sandbox
from shared.tests.platforms.metrics_helpers import (
    calls_per_endpoint,
    freeze,
    seeded,
    truth,
)
from socialseed.platforms import (
    ErrorKind,
    MetricsGap,
    Platform,
    PlatformError,
    PlatformPost,
    PublishedPost,
    TokenSet,
)
from socialseed.platforms.facebook import FacebookProvider
from socialseed.platforms.graph import GRAPH_VERSION

FACEBOOK = Platform.FACEBOOK


def expected(values: dict[str, object]) -> dict[str, object]:
    reactions = values["post_reactions_by_type_total"]
    assert isinstance(reactions, dict)
    return {
        "views": values["post_media_view"],
        "reach": values["post_total_media_view_unique"],
        "likes": sum(reactions.values()),
        "clicks": values["post_clicks"],
        "comments": values["comments"],
        "shares": values["shares"],
    }


async def delete(sandbox: Sandbox, tokens: TokenSet, post_id: str) -> None:
    response = await sandbox.http.delete(
        f"{sandbox.url}/facebook/{GRAPH_VERSION}/{post_id}",
        headers={"Authorization": f"Bearer {tokens.access_token}"},
    )
    response.raise_for_status()


async def test_fifty_posts_in_one_call_equal_the_truth_and_grow(history: Sandbox) -> None:
    provider, tokens = await history.connected(FacebookProvider)
    await freeze(history)
    page = str(tokens.platform_user_id)
    ids = [e["platform_post_id"] for e in await seeded(history, FACEBOOK, page)][:50]
    assert provider.metrics_batch_size == 50 and provider.metrics_cost(ids) == 50

    batch = await provider.fetch_post_metrics(tokens, ids)
    assert batch.calls == 1 and not batch.failures
    assert (await calls_per_endpoint(history, FACEBOOK, page)).get("POST /batch") == 1
    assert [m.post_id for m in batch.metrics] == ids
    for metrics in batch.metrics:
        values = await truth(history, FACEBOOK, metrics.post_id)
        got = {k: getattr(metrics, k) for k in expected(values)}
        assert got == expected(values)
        # Facebook has no such numbers in post insights: unknown, never 0.
        assert metrics.impressions is None and metrics.saves is None
        assert metrics.raw["insights"]["data"]
    buc = [s for s in batch.signals if s.bucket == f"meta:buc:{page}"]
    assert buc and buc[0].used_percent is not None and buc[0].used_percent > 0

    young = min(batch.metrics, key=lambda m: m.views or 0)
    await history.advance(6 * 3600)
    later = await provider.fetch_post_metrics(tokens, [young.post_id])
    assert (later.metrics[0].views or 0) > (young.views or 0)
    assert expected(await truth(history, FACEBOOK, young.post_id))["views"] == (
        later.metrics[0].views
    )


async def test_a_deleted_post_is_an_item_failure_and_the_rest_is_fine(sandbox: Sandbox) -> None:
    provider, tokens = await sandbox.connected(FacebookProvider)
    published = await provider.publish(tokens, PlatformPost(text="soon gone", marker="m1"))
    assert isinstance(published, PublishedPost)
    others = [e["platform_post_id"] for e in await seeded(sandbox, FACEBOOK, "alice.page1")][1:4]
    await delete(sandbox, tokens, published.id)

    batch = await provider.fetch_post_metrics(tokens, [published.id, *others])
    assert [m.post_id for m in batch.metrics] == others
    [failure] = batch.failures
    assert failure.post_id == published.id and failure.gap is MetricsGap.DELETED
    assert "does not exist" in failure.message


async def test_list_posts_pages_newest_first_since(sandbox: Sandbox) -> None:
    provider, tokens = await sandbox.connected(FacebookProvider)
    for text in ("first", "second", "third"):
        assert isinstance(
            await provider.publish(tokens, PlatformPost(text=text, marker=text)), PublishedPost
        )
        await sandbox.advance(60)
    provider.timeline_page = 2  # several pages for a handful of posts
    since = sandbox.now() - timedelta(days=10)
    listing = await provider.list_posts(tokens, since)

    page = str(tokens.platform_user_id)
    stored = [
        e for e in await seeded(sandbox, FACEBOOK, page) if e["created_ts"] >= since.timestamp()
    ]
    assert [p.id for p in listing.posts] == [e["platform_post_id"] for e in stored]
    assert [p.text for p in listing.posts[:3]] == ["third", "second", "first"]
    assert len(listing.posts) == 6  # three new, and the seeded 1, 3 and 8 days old
    assert (
        listing.calls
        == 3
        == (await calls_per_endpoint(sandbox, FACEBOOK, page))["GET /{page-id}/published_posts"]
    )
    assert all(p.url and p.url.startswith("https://www.facebook.com/") for p in listing.posts)
    assert listing.signals


async def test_page_metrics(sandbox: Sandbox) -> None:
    provider, tokens = await sandbox.connected(FacebookProvider)
    account = await provider.fetch_account_metrics(tokens)
    profile = await provider.profile(tokens)
    assert account.followers == profile.followers and account.followers
    assert account.views and account.reach and account.views >= account.reach
    assert account.following is None and account.impressions is None
    assert account.calls == 2
    series = account.raw["insights"]["data"]
    assert {s["name"] for s in series} == {
        "page_total_media_view_unique",
        "page_media_view",
        "page_post_engagements",
        "page_daily_follows",
    }
    await sandbox.advance(86_400)
    assert (await provider.fetch_account_metrics(tokens)).followers >= account.followers  # type: ignore[operator]


async def test_a_throttled_batch_item_raises_rate_limited_with_the_wait(tight: Sandbox) -> None:
    # The tight sandbox allows a page token 2 calls an hour; a batch item is a call.
    provider, tokens = await tight.connected(FacebookProvider)
    ids = [e["platform_post_id"] for e in await seeded(tight, FACEBOOK, "alice.page1")][:3]
    with pytest.raises(PlatformError) as caught:
        await provider.fetch_post_metrics(tokens, ids)
    assert caught.value.kind is ErrorKind.RATE_LIMITED
    assert caught.value.code == "80001"
    assert caught.value.retry_after == 60 * 60  # the hour's first call drops out in 60 min


async def test_app_throttle_of_the_whole_request_is_rate_limited(sandbox: Sandbox) -> None:
    provider, tokens = await sandbox.connected(FacebookProvider)
    await sandbox.fault(FACEBOOK, burst_429=1)
    with pytest.raises(PlatformError) as caught:
        await provider.fetch_post_metrics(tokens, ["1_2"])
    assert caught.value.kind is ErrorKind.RATE_LIMITED and caught.value.code == "4"
    assert caught.value.retry_after == provider.default_retry_after  # type: ignore[attr-defined]


async def test_user_token_calls_report_the_app_budget(sandbox: Sandbox) -> None:
    provider, tokens = await sandbox.connected(FacebookProvider)
    assert (await provider.fetch_post_metrics(tokens, [])).calls == 0  # nothing to ask
    user_tokens, _ = await sandbox.connect(provider)
    _, signals = await provider.graph_read("/me/accounts", user_tokens, {})
    [app] = signals
    assert app.bucket == "meta:app" and app.used_percent is not None and app.used_percent > 0
    assert app.regain_after_s is None
