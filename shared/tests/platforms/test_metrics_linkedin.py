"""LinkedIn analytics: posts from the Posts API's author finder, an organization's share
statistics for up to 20 posts in one call, a member's reactions and comments in one batch
socialActions call, deleted and out-of-window posts per item, follower counts, throttles."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from urllib.parse import quote

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
    PlatformCredentials,
    PlatformError,
    PlatformPost,
    PublishedPost,
    TokenSet,
)
from socialseed.platforms.linkedin import VERSION, LinkedInProvider
from socialseed.platforms.parsing import seconds_until_midnight

LINKEDIN = Platform.LINKEDIN
DAY = 86_400
SCOPES = [
    "openid",
    "profile",
    "w_member_social",
    "r_organization_social",
    "r_member_postAnalytics",
    "r_member_followersCount",
]


async def connected(sandbox: Sandbox) -> tuple[LinkedInProvider, TokenSet, TokenSet]:
    """The provider, alice's member tokens, and the same grant acting for her organization."""
    provider = sandbox.provider(LINKEDIN, linkedin=PlatformCredentials(scopes=SCOPES))
    assert isinstance(provider, LinkedInProvider)
    _, [connection] = await sandbox.connect(provider)
    member = dataclasses.replace(
        connection.tokens, platform_user_id=connection.profile.platform_user_id
    )
    accounts = await sandbox.control.get("/_sandbox/accounts", params={"platform": "linkedin"})
    [org] = [a for a in accounts.json()["accounts"] if a["kind"] == "organization"]
    organization = dataclasses.replace(member, platform_user_id=f"urn:li:organization:{org['id']}")
    return provider, member, organization


async def delete(sandbox: Sandbox, tokens: TokenSet, urn: str) -> None:
    response = await sandbox.http.delete(
        f"{sandbox.url}/linkedin/rest/posts/{quote(urn, safe='')}",
        headers={
            "Authorization": f"Bearer {tokens.access_token}",
            "LinkedIn-Version": VERSION,
            "X-Restli-Protocol-Version": "2.0.0",
        },
    )
    response.raise_for_status()


async def test_organization_posts_share_statistics_in_one_call(sandbox: Sandbox) -> None:
    provider, _, org = await connected(sandbox)
    await freeze(sandbox)
    org_id = str(org.platform_user_id).rsplit(":", 1)[1]
    entries = await seeded(sandbox, LINKEDIN, org_id)
    recent = [
        e["platform_post_id"]
        for e in entries
        if e["created_ts"] > sandbox.now().timestamp() - 365 * DAY
    ]
    assert provider.metrics_batch_size == 20
    assert provider.metrics_cost(recent, org.platform_user_id) == 1

    batch = await provider.fetch_post_metrics(org, recent)
    assert batch.calls == 1 and not batch.failures
    calls = await calls_per_endpoint(sandbox, LINKEDIN, "alice")  # the member's token, for her page
    assert calls["GET /rest/organizationalEntityShareStatistics"] == 1
    assert [m.post_id for m in batch.metrics] == recent
    for metrics in batch.metrics:
        stats = (await truth(sandbox, LINKEDIN, metrics.post_id))["totalShareStatistics"]
        assert (
            metrics.impressions,
            metrics.reach,
            metrics.clicks,
            metrics.likes,
            metrics.comments,
            metrics.shares,
        ) == (
            stats["impressionCount"],
            stats["uniqueImpressionsCount"],
            stats["clickCount"],
            stats["likeCount"],
            stats["commentCount"],
            stats["shareCount"],
        )
        assert metrics.views is None and metrics.saves is None  # LinkedIn has no such numbers

    await sandbox.advance(6 * 3600)
    later = await provider.fetch_post_metrics(org, recent[:1])
    assert (later.metrics[0].impressions or 0) > (batch.metrics[0].impressions or 0)


async def test_deleted_and_too_old_posts_fail_alone(history: Sandbox) -> None:
    sandbox = history
    provider, member, org = await connected(sandbox)
    org_id = str(org.platform_user_id).rsplit(":", 1)[1]
    entries = await seeded(sandbox, LINKEDIN, org_id)
    oldest = entries[-1]["platform_post_id"]  # 400 days: past the 12-month window
    alive, doomed = entries[0]["platform_post_id"], entries[1]["platform_post_id"]
    await delete(sandbox, member, doomed)

    batch = await provider.fetch_post_metrics(org, [alive, doomed, oldest])
    assert [m.post_id for m in batch.metrics] == [alive]
    gaps = {f.post_id: f.gap for f in batch.failures}
    assert gaps == {doomed: MetricsGap.DELETED, oldest: MetricsGap.OUT_OF_WINDOW}
    assert batch.calls == 2


async def test_member_posts_measured_by_the_creator_analytics(sandbox: Sandbox) -> None:
    """A member's posts: which exist from one batch socialActions call, then each living
    post's impressions, reach, reactions, comments and reshares from memberCreatorPostAnalytics
    (one metric a call), equal to the sandbox's truth; a deleted post fails alone."""
    provider, member, _ = await connected(sandbox)
    await freeze(sandbox)
    published = await provider.publish(member, PlatformPost(text="hello", marker="m1"))
    assert isinstance(published, PublishedPost)
    await sandbox.advance(DAY)
    ids = [
        e["platform_post_id"] for e in await seeded(sandbox, LINKEDIN, str(member.platform_user_id))
    ]
    gone = ids[-1]
    await delete(sandbox, member, gone)
    cost = provider.metrics_cost(ids, member.platform_user_id)

    batch = await provider.fetch_post_metrics(member, ids)
    calls = await calls_per_endpoint(sandbox, LINKEDIN, "alice")
    assert calls["GET /rest/socialActions"] == 1
    assert calls["GET /rest/memberCreatorPostAnalytics"] == 5 * (len(ids) - 1)
    assert batch.calls == 1 + 5 * (len(ids) - 1)  # the calls it made, counted for the budget
    assert cost == 1 + 5 * len(ids) >= batch.calls  # reserved before: the deleted one unknown
    [failure] = batch.failures
    assert failure.post_id == gone and failure.gap is MetricsGap.DELETED
    assert [m.post_id for m in batch.metrics] == ids[:-1]
    for metrics in batch.metrics:
        stats = (await truth(sandbox, LINKEDIN, metrics.post_id))["totalShareStatistics"]
        assert (
            metrics.impressions,
            metrics.reach,
            metrics.likes,
            metrics.comments,
            metrics.shares,
        ) == (
            stats["impressionCount"],
            stats["uniqueImpressionsCount"],
            stats["likeCount"],
            stats["commentCount"],
            stats["shareCount"],
        )
        assert metrics.views is None and metrics.clicks is None  # LinkedIn gives members neither
    assert any(m.impressions for m in batch.metrics)


async def test_a_page_s_posts_cost_one_call_a_member_s_one_per_metric(sandbox: Sandbox) -> None:
    provider, _, _ = await connected(sandbox)
    ids = ["urn:li:share:1", "urn:li:share:2"]
    assert provider.metrics_cost(ids, "urn:li:organization:7") == 1
    assert provider.metrics_cost(ids, "7") == 1
    assert provider.metrics_cost(ids, "abcDEF") == 1 + 5 * 2
    assert provider.metrics_cost([], "abcDEF") == 0


async def test_a_connection_without_the_member_scopes_is_told_to_reconnect(
    sandbox: Sandbox,
) -> None:
    """Connected before the member analytics scopes were asked: no post analytics call is made
    and the error says which permission is missing and to reconnect; the follower count's 403
    says the same in words (LinkedIn's own message names no permission)."""
    old = [s for s in SCOPES if s not in ("r_member_postAnalytics", "r_member_followersCount")]
    provider = sandbox.provider(LINKEDIN, linkedin=PlatformCredentials(scopes=old))
    assert isinstance(provider, LinkedInProvider)
    _, [connection] = await sandbox.connect(provider)
    member = dataclasses.replace(
        connection.tokens, platform_user_id=connection.profile.platform_user_id
    )
    assert "r_member_postAnalytics" not in member.scopes and member.scopes
    with pytest.raises(PlatformError) as caught:
        await provider.fetch_post_metrics(member, ["urn:li:share:1"])
    assert caught.value.kind is ErrorKind.PERMANENT
    assert "r_member_postAnalytics" in caught.value.message
    assert "reconnect the account" in caught.value.message
    calls = await calls_per_endpoint(sandbox, LINKEDIN, "alice")
    assert "GET /rest/memberCreatorPostAnalytics" not in calls
    assert "GET /rest/socialActions" not in calls

    with pytest.raises(PlatformError) as refused:
        await provider.fetch_account_metrics(member)
    assert refused.value.kind is ErrorKind.PERMANENT and refused.value.status == 403
    assert "r_member_followersCount" in refused.value.message
    assert "reconnect the account" in refused.value.message


async def test_the_default_scopes_ask_for_member_analytics(sandbox: Sandbox) -> None:
    provider = sandbox.provider(LINKEDIN)
    assert {"r_member_postAnalytics", "r_member_followersCount"} <= set(provider.scopes)
    _, [connection] = await sandbox.connect(provider)
    assert {"r_member_postAnalytics", "r_member_followersCount"} <= set(connection.tokens.scopes)


async def test_list_posts_newest_first_since(sandbox: Sandbox) -> None:
    provider, member, org = await connected(sandbox)
    for text in ("one", "two"):
        assert isinstance(
            await provider.publish(member, PlatformPost(text=text, marker=text)), PublishedPost
        )
        await sandbox.advance(60)
    since = sandbox.now() - timedelta(days=10)
    listing = await provider.list_posts(member, since)
    assert [p.text for p in listing.posts[:2]] == ["two", "one"]
    stored = [
        e["platform_post_id"]
        for e in await seeded(sandbox, LINKEDIN, str(member.platform_user_id))
        if e["created_ts"] >= since.timestamp()
    ]
    assert [p.id for p in listing.posts] == stored and len(stored) == 5
    assert all(p.url and p.url.endswith(p.id) for p in listing.posts)

    org_listing = await provider.list_posts(org, sandbox.now() - timedelta(days=1000))
    assert len(org_listing.posts) == 5 and org_listing.calls == 1


async def test_follower_counts(sandbox: Sandbox) -> None:
    provider, member, org = await connected(sandbox)
    people = await provider.fetch_account_metrics(member)
    company = await provider.fetch_account_metrics(org)
    assert people.followers and company.followers and people.followers != company.followers
    assert company.raw == {"firstDegreeSize": company.followers}
    assert people.following is None and people.views is None
    await sandbox.advance(30 * DAY)
    assert ((await provider.fetch_account_metrics(org)).followers or 0) > company.followers


async def test_a_throttle_waits_until_midnight_utc(sandbox: Sandbox) -> None:
    provider, _, org = await connected(sandbox)
    await sandbox.fault(LINKEDIN, endpoint="/rest/organizationalEntityShareStatistics", burst_429=1)
    with pytest.raises(PlatformError) as caught:
        await provider.fetch_post_metrics(org, ["urn:li:share:1"])
    assert caught.value.kind is ErrorKind.RATE_LIMITED
    assert caught.value.retry_after is not None
    assert abs(caught.value.retry_after - seconds_until_midnight(sandbox.now(), "UTC")) < 5
