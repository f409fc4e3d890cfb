"""What the metrics fetcher tests of every platform read from the sandbox: an account's posts
(seeded history included), each post's true counters, and the calls one account made. The
``history`` fixture (conftest) is a sandbox whose accounts come with a long history."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from shared.tests.platforms.helpers import Sandbox, only
from socialseed.platforms import Platform, Provider, TokenSet
from socialseed.platforms.base import ListedPost, MetricsBatch, MetricsGap, PostMetrics


async def posts_of(sandbox: Sandbox, platform: Platform, account: str) -> list[dict[str, Any]]:
    """The account's live posts, seeded history included, newest first."""
    response = await sandbox.control.get(
        "/_sandbox/ledger",
        params={"platform": platform.value, "account": account, "include_seeded": "true"},
    )
    entries: list[dict[str, Any]] = response.json()["entries"]
    return [e for e in reversed(entries) if not e["deleted"]]


def younger_than(entries: list[dict[str, Any]], now: datetime, days: float) -> list[str]:
    since = (now - timedelta(days=days)).timestamp()
    return [e["platform_post_id"] for e in entries if e["created_ts"] >= since]


def older_than(entries: list[dict[str, Any]], now: datetime, days: float) -> list[str]:
    before = (now - timedelta(days=days)).timestamp()
    return [e["platform_post_id"] for e in entries if e["created_ts"] < before]


def assert_listed_when_published(
    posts: Iterable[ListedPost], entries: list[dict[str, Any]], precision: timedelta
) -> None:
    """Each listed post's time is when it was published, to the platform's ``precision``."""
    created = {e["platform_post_id"]: datetime.fromtimestamp(e["created_ts"], UTC) for e in entries}
    for post in posts:
        assert abs(post.published_at - created[post.id]) < precision, post.id


async def truth(sandbox: Sandbox, platform: Platform, post_id: str) -> dict[str, Any]:
    response = await sandbox.control.get(f"/_sandbox/truth/{platform.value}/{post_id}")
    response.raise_for_status()
    metrics: dict[str, Any] = response.json()["metrics"]
    return metrics


async def delete(sandbox: Sandbox, platform: Platform, post_id: str) -> None:
    """The user deletes the post in the platform's app."""
    response = await sandbox.control.delete(f"/_sandbox/posts/{platform.value}/{post_id}")
    response.raise_for_status()


async def account_calls(sandbox: Sandbox, platform: Platform, account: str, endpoint: str) -> int:
    """Calls of one account to ``endpoint`` (``"<METHOD> <template>"``), whatever the status."""
    response = await sandbox.control.get("/_sandbox/stats", params={"account": account})
    endpoints = response.json()["platforms"].get(platform.value, {}).get("endpoints", {})
    return int(endpoints.get(endpoint, {}).get("calls", 0))


Expected = dict[str, int | None]


async def truths(
    sandbox: Sandbox, platform: Platform, ids: Iterable[str], standard: Callable[[Any], Expected]
) -> dict[str, Expected]:
    """Each post's true counters in the standard model (``standard`` maps the platform's)."""
    return {i: standard(await truth(sandbox, platform, i)) for i in ids}


def assert_between(metrics: PostMetrics, low: Expected, high: Expected) -> None:
    """The sandbox clock runs on while a test reads: each number is at least what the truth
    said before the fetch and at most what it said after; None stays None."""
    for name, before in low.items():
        value = getattr(metrics, name)
        if before is None:
            assert value is None, f"{metrics.post_id} {name}: {value}, expected None"
        else:
            after = high[name]
            assert after is not None and value is not None, f"{metrics.post_id} {name}: None"
            assert before <= value <= after, f"{metrics.post_id} {name}: {value}"


async def fetched(
    sandbox: Sandbox,
    provider: Provider,
    tokens: TokenSet,
    ids: list[str],
    standard: Callable[[Any], Expected],
) -> MetricsBatch:
    """``fetch_post_metrics``, every number checked against the truth read just before and
    just after it."""
    platform = provider.platform
    low = await truths(sandbox, platform, ids, standard)
    batch = await provider.fetch_post_metrics(tokens, ids)
    high = await truths(sandbox, platform, ids, standard)
    for metrics in batch.metrics:
        assert_between(metrics, low[metrics.post_id], high[metrics.post_id])
    return batch


async def assert_a_deleted_post_fails_alone(
    sandbox: Sandbox, provider: Provider, tokens: TokenSet, standard: Callable[[Any], Expected]
) -> None:
    """Of three posts of alice's the middle one is deleted: it alone is an item failure."""
    ids = [e["platform_post_id"] for e in await posts_of(sandbox, provider.platform, "alice")]
    first, deleted, last = ids[:3]
    await delete(sandbox, provider.platform, deleted)

    batch = await fetched(sandbox, provider, tokens, [first, deleted, last], standard)

    assert [m.post_id for m in batch.metrics] == [first, last] and batch.calls == 1
    failure = only(batch.failures)
    assert failure.post_id == deleted and failure.gap is MetricsGap.DELETED


async def views_over_time(
    sandbox: Sandbox,
    provider: Provider,
    tokens: TokenSet,
    post_id: str,
    standard: Callable[[Any], Expected],
    waits: Iterable[float],
) -> list[int]:
    """The post's views fetched after each wait of the sandbox clock."""
    views = []
    for wait in waits:
        await sandbox.advance(wait)
        batch = await fetched(sandbox, provider, tokens, [post_id], standard)
        value = only(batch.metrics).views
        assert value is not None
        views.append(value)
    return views


async def platform_get(
    sandbox: Sandbox, tokens: TokenSet, path: str, params: dict[str, str]
) -> dict[str, Any]:
    """What the platform's API itself answers (``path`` below the sandbox, like
    ``/x/2/users/me``), to compare a fetcher's reading with."""
    answer = await sandbox.http.get(
        sandbox.url + path,
        params=params,
        headers={"Authorization": f"Bearer {tokens.access_token}"},
    )
    answer.raise_for_status()
    body: dict[str, Any] = answer.json()
    return body


async def freeze(sandbox: Sandbox) -> None:
    """Stop the sandbox's real time, so what a provider read equals the truth read after."""
    response = await sandbox.control.post("/_sandbox/clock/freeze", json={"frozen": True})
    response.raise_for_status()


async def calls_per_endpoint(sandbox: Sandbox, platform: Platform, account: str) -> dict[str, int]:
    """Calls per endpoint (``"<METHOD> <template>"``) made with that account's tokens."""
    response = await sandbox.control.get("/_sandbox/stats", params={"account": account})
    endpoints = response.json()["platforms"].get(platform, {}).get("endpoints", {})
    return {name: entry["calls"] for name, entry in endpoints.items()}


async def seeded(sandbox: Sandbox, platform: Platform, account: str) -> list[dict[str, Any]]:
    """The account's posts as the sandbox's ledger has them (seeded history and deleted posts
    included), newest first."""
    response = await sandbox.control.get(
        "/_sandbox/ledger",
        params={"platform": platform, "account": account, "include_seeded": "true"},
    )
    entries: list[dict[str, Any]] = response.json()["entries"]
    return sorted(entries, key=lambda e: e["created_ts"], reverse=True)
