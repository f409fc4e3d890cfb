"""The analytics read API over the real stack (through the gateway): numbers after ingesting
known snapshots through the real ingester (``metrics.fetched`` on Kafka), growth against the
previous period, gaps, local-time buckets across DST, best times, the streamed export,
ETags, tenancy and roles."""

from __future__ import annotations

import asyncio
import csv
import io
import itertools
import json
import random
import tracemalloc
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from pypdf import PdfReader
from sqlalchemy import text

from analytics.app import create_app as create_analytics
from analytics.ingest.batch import FetchedBatch
from analytics.ingest.repository import IngestRepository, bump_data_versions
from analytics.models import Account, member_changes
from analytics.queries import formulas
from analytics.queries.caching import Answers
from analytics.queries.periods import Period
from analytics.queries.repository import PostFilter, QueryRepository
from analytics.retention.repository import SNAPSHOT_TABLES, PartitionRepository
from analytics.tracking.repository import TrackingRepository
from socialseed.contracts import (
    AccountConnected,
    AccountUpdated,
    Event,
    FetchedAccountMetrics,
    FetchedPostMetrics,
    MetricsFetched,
    PostPublished,
    WorkspaceMemberChanged,
    WorkspaceUpdated,
)
from socialseed.db import Database
from socialseed.membership import record_member_change
from socialseed.notify import APPLICATION as NOTIFY_APPLICATION
from socialseed.outbox import cloudevent_headers
from socialseed.platforms.base import POST_METRICS, ListedPost
from socialseed.security import Principal
from socialseed.testing import Infra
from tests.conftest import Stack, User, add_member, make_user, make_workspace, refresh

T = TypeVar("T")
API = "/api/v1/analytics"
#: How soon a committed change must reach the service's in-memory copy (requests included;
#: on a quiet machine it is a few milliseconds).
NOTIFY_BOUND_S = 2.0


@pytest.fixture
async def db(infra: Infra) -> AsyncIterator[Database]:
    database = Database(infra.service_url("analytics"), pool_size=4)
    yield database
    await database.dispose()


@pytest.fixture
async def api(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=60) as client:
        yield client


@pytest.fixture
async def producer(infra: Infra) -> AsyncIterator[AIOKafkaProducer]:
    p = AIOKafkaProducer(bootstrap_servers=infra.kafka_bootstrap, enable_idempotence=True)
    await p.start()
    yield p
    await p.stop()


async def send(producer: AIOKafkaProducer, event: Event, key: uuid.UUID) -> None:
    """As the producing service's relay would (CloudEvents headers, JSON, keyed)."""
    headers = cloudevent_headers(
        event, event_id=uuid.uuid4(), source="/tests", subject=str(key), time=datetime.now(UTC)
    )
    await producer.send_and_wait(
        event.topic,
        value=event.model_dump_json().encode(),
        key=str(key).encode(),
        headers=[(k, v.encode()) for k, v in headers.items()],
    )


async def until(probe: Callable[[], Awaitable[T | None]], what: str, timeout: float = 60) -> T:
    deadline = asyncio.get_running_loop().time() + timeout
    while (value := await probe()) is None:
        assert asyncio.get_running_loop().time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.1)
    return value


async def scalar(db: Database, sql: str, **params: Any) -> Any:
    async with db.transaction() as session:
        return (await session.execute(text(sql), params)).scalar()


async def partitions(db: Database, *days: date) -> None:
    """The snapshot partitions of these days (the retention leader makes them a week ahead;
    tests write further out)."""
    async with db.transaction() as session:
        repo = PartitionRepository(session)
        for day in days:
            for table in SNAPSHOT_TABLES:
                await repo.create(table, day)


class Workspace:
    """A real workspace (auth) with analytics accounts projected from ``account.connected``."""

    def __init__(self, owner: User, workspace_id: uuid.UUID) -> None:
        self.owner = owner
        self.id = workspace_id


async def workspace(
    api: httpx.AsyncClient, db: Database, timezone: str = "UTC", name: str = "Acme"
) -> Workspace:
    owner = await make_user(api, name="Analyst")
    ws = await make_workspace(api, owner, timezone=timezone, name=name)
    owner = await refresh(api, owner)
    workspace_id = uuid.UUID(str(ws["id"]))
    await until(
        lambda: scalar(
            db,
            "SELECT 1 FROM analytics.workspaces WHERE id = :id AND timezone = :tz",
            id=workspace_id,
            tz=timezone,
        ),
        "the workspace's time zone in analytics",
    )
    return Workspace(owner, workspace_id)


async def account(
    producer: AIOKafkaProducer,
    db: Database,
    ws: Workspace,
    platform: str = "x",
    username: str = "",
) -> uuid.UUID:
    account_id = uuid.uuid4()
    event = AccountConnected(
        account_id=account_id,
        workspace_id=ws.id,
        platform=platform,
        platform_user_id=f"u-{account_id.hex[:8]}",
        username=username or f"user{account_id.hex[:6]}",
        reconnected=False,
        connected_at=datetime.now(UTC),
    )
    await send(producer, event, account_id)
    await until(
        lambda: scalar(db, "SELECT 1 FROM analytics.accounts WHERE id = :id", id=account_id),
        "the account projected",
    )
    return account_id


async def listed(
    db: Database, account_id: uuid.UUID, posts: list[ListedPost]
) -> dict[str, uuid.UUID]:
    """Posts tracked as the backfill finds them; their tracked ids by platform id."""
    async with db.transaction() as session:
        repo = TrackingRepository(session)
        acc = await repo.account(account_id)
        assert isinstance(acc, Account)
        await repo.record_listing(acc, posts, now=datetime.now(UTC))
        rows = await session.execute(
            text("SELECT platform_post_id, id FROM analytics.tracked_posts WHERE account_id = :a"),
            {"a": account_id},
        )
        return {r.platform_post_id: r.id for r in rows}


async def fetched(
    producer: AIOKafkaProducer,
    ws: Workspace,
    account_id: uuid.UUID,
    at: datetime,
    posts: dict[uuid.UUID, dict[str, int | None]] | None = None,
    followers: int | None = None,
) -> None:
    """One ``metrics.fetched`` as the fetch workers write it."""
    event = MetricsFetched(
        account_id=account_id,
        workspace_id=ws.id,
        platform="x",
        fetched_at=at,
        posts=[
            FetchedPostMetrics(tracked_post_id=tid, platform_post_id=str(tid), raw={}, **m)
            for tid, m in (posts or {}).items()
        ],
        failures=[],
        account=FetchedAccountMetrics(followers=followers, raw={})
        if followers is not None
        else None,
    )
    await send(producer, event, account_id)


async def ingested(db: Database, account_id: uuid.UUID, at: datetime) -> None:
    await until(
        lambda: scalar(
            db,
            "SELECT 1 FROM analytics.account_snapshots WHERE account_id = :a AND fetched_at = :t",
            a=account_id,
            t=at,
        ),
        "the account snapshot ingested",
    )


def q(**params: Any) -> dict[str, str]:
    return {k: v.isoformat() if isinstance(v, datetime) else str(v) for k, v in params.items()}


# Numbers ------------------------------------------------------------------------------------


async def test_account_metrics_growth_dashboard_compare_and_post_detail(
    api: httpx.AsyncClient, db: Database, producer: AIOKafkaProducer
) -> None:
    ws = await workspace(api, db)
    acc = await account(producer, db, ws)
    other = await account(producer, db, ws)
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    start, end = today - timedelta(days=7), today + timedelta(days=1)
    await partitions(db, *(d.date() for d in (start - timedelta(days=7), start, today)))
    ids = await listed(
        db,
        acc,
        [
            ListedPost(id="prev", published_at=start - timedelta(days=3)),
            ListedPost(id="a", published_at=start + timedelta(days=1)),
            ListedPost(id="b", published_at=start + timedelta(days=2)),
        ],
    )
    # followers: 100 at the previous period's start, 200 at this one's, 260 at its end
    await fetched(producer, ws, acc, start - timedelta(days=7), followers=100)
    await fetched(producer, ws, acc, start, followers=200)
    at = today + timedelta(hours=1)
    await fetched(
        producer,
        ws,
        acc,
        at,
        posts={
            ids["prev"]: {"views": 1000, "impressions": 1000, "likes": 10, "shares": 0},
            ids["a"]: {"views": 800, "impressions": 1000, "likes": 40, "shares": 5, "clicks": 20},
            ids["b"]: {"views": 1200, "impressions": 1000, "likes": 60, "shares": 15},
        },
        followers=260,
    )
    await ingested(db, acc, at)
    period = q(**{"from": start, "to": end})

    r = await api.get(f"{API}/accounts/{acc}/metrics", params=period, headers=ws.owner.headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert datetime.fromisoformat(body["period"]["from"]) == start
    assert datetime.fromisoformat(body["period"]["to"]) == end
    followers = body["counters"]["followers"]
    # as of `to` (260) against as of `from` (200)
    assert followers == {"value": 260, "previous": 200, "change": 60, "growth": pytest.approx(0.3)}
    posts = body["posts"]
    assert posts["posts_published"] == {"value": 2, "previous": 1, "change": 1, "growth": 1.0}
    assert posts["views"]["value"] == 2000 and posts["views"]["previous"] == 1000
    assert posts["views"]["growth"] == pytest.approx(1.0)
    assert posts["engagements"]["value"] == 120  # likes + shares of a and b
    assert posts["engagement_rate"]["value"] == pytest.approx(120 / 2000)  # over impressions
    assert posts["engagement_rate"]["previous"] == pytest.approx(10 / 1000)
    assert posts["clicks"]["previous"] is None  # no click count: null, never 0
    assert posts["ctr"]["value"] == pytest.approx(20 / 2000)

    r = await api.get(
        f"{API}/dashboard", params={"workspace_id": str(ws.id), **period}, headers=ws.owner.headers
    )
    assert r.status_code == 200, r.text
    dash = r.json()
    [x] = dash["platforms"]
    assert x["platform"] == "x" and x["posts_published"] == 2 and x["metrics"]["views"] == 2000
    by_account = {a["account"]["id"]: a for a in dash["accounts"]}
    assert by_account[str(acc)]["followers"]["change"] == 60
    assert by_account[str(acc)]["account"]["last_synced_at"] is not None
    assert by_account[str(other)]["posts_published"] == 0
    assert by_account[str(other)]["account"]["last_synced_at"] is None
    assert [p["platform_post_id"] for p in dash["top_posts"]] == ["b", "a"]
    assert dash["top_posts"][0]["metrics"]["viral_score"] == pytest.approx(15 / 1000)

    r = await api.get(
        f"{API}/compare",
        params={"account_ids": f"{acc},{other}", "metrics": "followers,views", **period},
        headers=ws.owner.headers,
    )
    assert r.status_code == 200, r.text
    [first, second] = r.json()["accounts"]
    assert first["account"]["id"] == str(acc) and second["account"]["id"] == str(other)
    assert first["counters"]["followers"]["value"] == 260
    assert first["posts"]["views"]["value"] == 2000 and set(first["posts"]) == {"views"}
    assert second["counters"]["followers"]["value"] is None

    r = await api.get(
        f"{API}/accounts/{acc}/posts",
        params={"sort": "views", "limit": 2},
        headers=ws.owner.headers,
    )
    assert r.status_code == 200, r.text
    page = r.json()
    assert [p["platform_post_id"] for p in page["items"]] == ["b", "prev"]
    r = await api.get(
        f"{API}/accounts/{acc}/posts",
        params={"sort": "views", "limit": 2, "cursor": page["next_cursor"]},
        headers=ws.owner.headers,
    )
    assert [p["platform_post_id"] for p in r.json()["items"]] == ["a"]
    assert r.json()["next_cursor"] is None
    r = await api.get(
        f"{API}/accounts/{acc}/posts",
        params={"sort": "likes", "cursor": page["next_cursor"]},
        headers=ws.owner.headers,
    )
    assert r.status_code == 400 and r.json()["error"] == "InvalidCursor"

    # A tracked post by its own id: latest values, history, derived numbers.
    r = await api.get(f"{API}/posts/{ids['a']}", headers=ws.owner.headers)
    assert r.status_code == 200, r.text
    [target] = r.json()["targets"]
    assert target["metrics"]["engagement_rate"] == pytest.approx(45 / 1000)
    assert [h["metrics"]["views"] for h in target["history"]] == [800]


TOTALS = ("posts_published", *POST_METRICS)


async def test_dashboard_totals_from_daily_post_totals_equal_the_posts_sums(
    api: httpx.AsyncClient, db: Database, producer: AIOKafkaProducer
) -> None:
    """The dashboard reads its per-account post totals from ``post_totals_daily`` (whole UTC
    days) and the posts themselves (the partial first and last days), and its top posts from
    the groups whose best post ranks highest. Over random posts, random metrics (nulls and
    fractional watch times included) fetched in several rounds, and posts moved to another
    day by the publisher's event, every random period's totals and top posts equal those
    read from the posts, exactly."""
    rng = random.Random()
    seed = rng.randrange(1 << 30)
    rng.seed(seed)
    ws = await workspace(api, db)
    accounts = [await account(producer, db, ws) for _ in range(3)]
    base = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    base -= timedelta(days=12)
    await partitions(db, *(base.date() + timedelta(days=d) for d in range(13)))

    def instant() -> datetime:
        if rng.random() < 0.15:  # on a midnight: the day boundaries' edges
            return base + timedelta(days=rng.randrange(11))
        return base + timedelta(seconds=rng.randrange(11 * 86400))

    posts: dict[uuid.UUID, dict[str, uuid.UUID]] = {}
    for acc in accounts:
        listing = [ListedPost(id=f"p{n}", published_at=instant()) for n in range(40)]
        posts[acc] = await listed(db, acc, listing)

    def metrics() -> dict[str, Any]:
        values: dict[str, Any] = {
            m: rng.choice([None, rng.randrange(10_000)])
            for m in ("views", "impressions", "reach", "clicks")
        }
        for m in ("likes", "comments", "shares"):  # small: ties in engagements
            values[m] = rng.choice([None, rng.randrange(4)])
        values["watch_time_s"] = rng.choice([None, rng.random() * 1000, 0.1, 0.2])
        return values

    for round_ in range(4):
        at = base + timedelta(days=11, minutes=round_)
        batches = [
            FetchedBatch.of(
                MetricsFetched(
                    account_id=acc,
                    workspace_id=ws.id,
                    platform="x",
                    fetched_at=at,
                    posts=[
                        FetchedPostMetrics(
                            tracked_post_id=tid, platform_post_id=pid, raw={}, **metrics()
                        )
                        for pid, tid in ids.items()
                        if rng.random() < 0.7
                    ],
                    failures=[],
                )
            )
            for acc, ids in posts.items()
        ]
        async with db.transaction() as session:
            await IngestRepository(session).insert_post_snapshots(batches)
    # Last, the publisher's event links some posts, with its own publication time: they
    # leave their day for another, with no metrics fetched after.
    moved = [
        {
            "account_id": acc,
            "workspace_id": ws.id,
            "platform": "x",
            "platform_post_id": pid,
            "publisher_post_id": uuid.uuid4(),
            "publisher_target_id": uuid.uuid4(),
            "published_at": at,
            "url": None,
            "next_fetch_at": at,
        }
        for acc, ids in posts.items()
        for pid in rng.sample(sorted(ids), 5)
        for at in [instant()]
    ]
    async with db.transaction() as session:
        await TrackingRepository(session).track_published_many(moved)

    owner = Principal(user_id=uuid.uuid4(), roles={ws.id: "owner"})
    async with db.transaction() as session:
        repo = QueryRepository(session, cutoff=base - timedelta(days=90))
        published = sorted(
            (
                await session.execute(
                    text(
                        "SELECT published_at FROM analytics.tracked_posts WHERE workspace_id = :ws"
                    ),
                    {"ws": ws.id},
                )
            ).scalars()
        )
        periods = [sorted([instant(), instant()]) for _ in range(40)]
        # A partial first or last day whose part outside the period holds no post: that
        # day's rollup is read instead of its posts (the first post of a day, the last, a
        # period ending after every post).
        firsts = [min(p for p in published if p.date() == d) for d in {p.date() for p in published}]
        lasts = [max(p for p in published if p.date() == d) for d in {p.date() for p in published}]
        for _ in range(20):
            lo, hi = rng.choice(firsts), rng.choice(lasts) + timedelta(microseconds=1)
            periods.append(sorted([lo, hi]))
            periods.append([rng.choice(published[:20]), published[-1] + timedelta(hours=3)])
        for lo, hi in periods:
            if lo >= hi:
                continue
            period = Period(lo, hi)
            raw = {
                r["key"]: r for r in await repo.post_totals(PostFilter(ws.id, period), "account_id")
            }
            rows = await repo.dashboard_accounts(owner, ws.id, period)
            assert sorted(r["id"] for r in rows) == sorted(accounts), (seed, lo, hi)
            rolled = {
                r["id"]: {"key": r["id"]} | {k: r[k] for k in TOTALS}
                for r in rows
                if r["posts_published"] is not None
            }
            assert rolled == raw, (seed, lo, hi)
            for limit in (1, 5, 12):
                top = await repo.top_posts(PostFilter(ws.id, period), limit)
                assert await repo.workspace_top_posts(ws.id, period, limit) == top, (seed, lo)

    # And through the API: the dashboard's accounts carry the posts' sums.
    period = Period(base + timedelta(hours=5), base + timedelta(days=10, hours=7))
    r = await api.get(
        f"{API}/dashboard",
        params={"workspace_id": str(ws.id), **q(**{"from": period.start, "to": period.end})},
        headers=ws.owner.headers,
    )
    assert r.status_code == 200, r.text
    async with db.transaction() as session:
        repo = QueryRepository(session, cutoff=base - timedelta(days=90))
        raw = {
            str(row["key"]): row
            for row in await repo.post_totals(PostFilter(ws.id, period), "account_id")
        }
    for row in r.json()["accounts"]:
        expected = raw.get(row["account"]["id"])
        assert row["posts_published"] == (expected["posts_published"] if expected else 0), seed
        if expected:
            assert row["metrics"]["views"] == expected["views"], seed
            assert row["metrics"]["watch_time_s"] == expected["watch_time_s"], seed


async def test_a_publisher_post_answers_with_every_target(
    api: httpx.AsyncClient, db: Database, producer: AIOKafkaProducer
) -> None:
    ws = await workspace(api, db)
    one, two = await account(producer, db, ws), await account(producer, db, ws)
    post_id = uuid.uuid4()
    now = datetime.now(UTC)
    for acc in (one, two):
        event = PostPublished(
            post_id=post_id,
            workspace_id=ws.id,
            target_id=uuid.uuid4(),
            account_id=acc,
            platform="x",
            platform_post_id=f"p-{acc.hex[:6]}",
            url=None,
            published_at=now,
        )
        await send(producer, event, acc)
    await until(
        lambda: scalar(
            db,
            "SELECT CASE WHEN count(*) = 2 THEN 1 END FROM analytics.tracked_posts "
            "WHERE publisher_post_id = :p",
            p=post_id,
        ),
        "both targets tracked",
    )
    tracked = await listed(db, one, [])
    at = now.replace(microsecond=0)
    await fetched(
        producer,
        ws,
        one,
        at,
        posts={tracked[f"p-{one.hex[:6]}"]: {"views": 10, "reach": 5, "likes": 1}},
        followers=1,
    )
    await ingested(db, one, at)
    r = await api.get(f"{API}/posts/{post_id}", headers=ws.owner.headers)
    assert r.status_code == 200, r.text
    targets = {t["account_id"]: t for t in r.json()["targets"]}
    assert set(targets) == {str(one), str(two)}
    # reach is the audience when the platform reports it
    assert targets[str(one)]["metrics"]["engagement_rate"] == pytest.approx(1 / 5)
    assert targets[str(two)]["metrics"]["views"] is None and targets[str(two)]["history"] == []


# Timeseries ---------------------------------------------------------------------------------


async def test_timeseries_buckets_hold_the_last_value_and_gaps_are_null(
    api: httpx.AsyncClient, db: Database, producer: AIOKafkaProducer
) -> None:
    ws = await workspace(api, db)
    acc = await account(producer, db, ws)
    base = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=2)
    await partitions(db, base.date(), (base + timedelta(hours=6)).date())
    # hour 0: two fetches (the later wins), hour 1: none, hour 2: one
    for at, followers in [
        (base + timedelta(minutes=5), 10),
        (base + timedelta(minutes=50), 12),
        (base + timedelta(hours=2, minutes=1), 15),
    ]:
        await fetched(producer, ws, acc, at, followers=followers)
    await ingested(db, acc, base + timedelta(hours=2, minutes=1))
    r = await api.get(
        f"{API}/accounts/{acc}/timeseries",
        params=q(
            metric="followers", interval="hour", **{"from": base, "to": base + timedelta(hours=4)}
        ),
        headers=ws.owner.headers,
    )
    assert r.status_code == 200, r.text
    assert [b["value"] for b in r.json()["buckets"]] == [12, None, 15, None]


BERLIN = ZoneInfo("Europe/Berlin")


def last_sunday(year: int, month: int) -> date:
    day = date(year, month + 1, 1) - timedelta(days=1)
    return day - timedelta(days=(day.weekday() - 6) % 7)


def next_change(month: int) -> date:
    """The next last Sunday of ``month`` still ahead (raw snapshots are kept for it)."""
    today = datetime.now(UTC).date()
    day = last_sunday(today.year, month)
    return day if day > today + timedelta(days=1) else last_sunday(today.year + 1, month)


@pytest.mark.parametrize(("month", "hours"), [(3, 23), (10, 25)])
async def test_day_and_hour_buckets_follow_the_workspace_time_zone_across_dst(
    api: httpx.AsyncClient, db: Database, producer: AIOKafkaProducer, month: int, hours: int
) -> None:
    ws = await workspace(api, db, timezone="Europe/Berlin")
    acc = await account(producer, db, ws)
    change = next_change(month)
    saturday, monday = change - timedelta(days=1), change + timedelta(days=1)
    await partitions(db, *(saturday + timedelta(days=i) for i in range(-1, 4)))
    # One fetch every UTC hour from Saturday to Tuesday; the value is its hour count.
    first = datetime(saturday.year, saturday.month, saturday.day, tzinfo=UTC) - timedelta(hours=2)
    stamps = [first + timedelta(hours=i, minutes=30) for i in range(24 * 3 + 2)]
    for i, at in enumerate(stamps):
        await fetched(producer, ws, acc, at, followers=i)
    await ingested(db, acc, stamps[-1])

    r = await api.get(
        f"{API}/accounts/{acc}/timeseries",
        params=q(
            metric="followers",
            interval="day",
            **{
                "from": datetime.combine(saturday, time(), BERLIN),
                "to": datetime.combine(monday + timedelta(days=1), time(), BERLIN),
            },
        ),
        headers=ws.owner.headers,
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["timezone"] == "Europe/Berlin"
    days = body["buckets"]
    assert [datetime.fromisoformat(b["start"]).date() for b in days] == [saturday, change, monday]
    lengths = [datetime.fromisoformat(b["end"]) - datetime.fromisoformat(b["start"]) for b in days]
    assert lengths == [timedelta(hours=24), timedelta(hours=hours), timedelta(hours=24)]
    # every bucket is the last fetch of its local day: counts between them are the day's hours
    values = [b["value"] for b in days]
    assert values[1] - values[0] == hours and values[2] - values[1] == 24

    local_day = days[1]
    r = await api.get(
        f"{API}/accounts/{acc}/timeseries",
        params={
            "metric": "followers",
            "interval": "hour",
            "from": local_day["start"],
            "to": local_day["end"],
        },
        headers=ws.owner.headers,
    )
    assert r.status_code == 200, r.text
    buckets = r.json()["buckets"]
    assert len(buckets) == hours
    starts = [datetime.fromisoformat(b["start"]) for b in buckets]
    assert all(b - a == timedelta(hours=1) for a, b in itertools.pairwise(starts))
    assert len({s.isoformat() for s in starts}) == hours  # the repeated hour differs by offset
    values = [b["value"] for b in buckets]
    assert values == list(range(values[0], values[0] + hours))  # one fetch each, none doubled
    local_hours = [s.hour for s in starts]
    if month == 3:
        assert 2 not in local_hours  # 02:00 does not exist that night
    else:
        assert local_hours.count(2) == 2  # 02:00 happens twice


# Best times ---------------------------------------------------------------------------------


async def test_best_times_gives_medians_per_local_hour_of_week_and_marks_thin_slots(
    api: httpx.AsyncClient, db: Database, producer: AIOKafkaProducer
) -> None:
    ws = await workspace(api, db, timezone="America/New_York")
    acc = await account(producer, db, ws)
    # Three posts on a recent Monday at 09:xx New York time, two on a Tuesday at 18:xx.
    now = datetime.now(UTC)
    monday = (now - timedelta(days=now.weekday() + 14)).date()
    tz = ZoneInfo("America/New_York")
    ny = datetime(monday.year, monday.month, monday.day, 9, 15, tzinfo=tz)
    tue = datetime(monday.year, monday.month, monday.day, 18, 5, tzinfo=tz) + timedelta(days=1)
    posts = [
        ListedPost(id="m1", published_at=ny),
        ListedPost(id="m2", published_at=ny + timedelta(minutes=10)),
        ListedPost(id="m3", published_at=ny - timedelta(days=7)),
        ListedPost(id="t1", published_at=tue),
        ListedPost(id="t2", published_at=tue + timedelta(minutes=1)),
        ListedPost(id="old", published_at=ny - timedelta(days=200)),  # outside the default 90 days
    ]
    ids = await listed(db, acc, posts)
    likes = {"m1": 10, "m2": 30, "m3": 20, "t1": 50, "t2": 70, "old": 99}
    at = now.replace(microsecond=0)
    await fetched(
        producer,
        ws,
        acc,
        at,
        posts={ids[k]: {"impressions": 100, "likes": v} for k, v in likes.items()},
        followers=1,
    )
    await ingested(db, acc, at)
    r = await api.get(
        f"{API}/insights/best-times", params={"workspace_id": str(ws.id)}, headers=ws.owner.headers
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["timezone"] == "America/New_York" and body["min_posts"] == 3
    slots = {(s["weekday"], s["hour"]): s for s in body["slots"]}
    assert len(slots) == 168
    assert slots[(0, 9)] == {
        "weekday": 0,
        "hour": 9,
        "posts": 3,
        "enough_data": True,
        "median_engagement_rate": pytest.approx(0.2),
    }
    assert slots[(1, 18)]["posts"] == 2
    assert (
        slots[(1, 18)]["enough_data"] is False and slots[(1, 18)]["median_engagement_rate"] is None
    )
    assert [(s["weekday"], s["hour"]) for s in body["best"]] == [(0, 9)]
    assert body["scope"] == "workspace" and body["fallback"] is None
    # The account's own: enough posts, its own answer.
    r = await api.get(
        f"{API}/insights/best-times",
        params={"workspace_id": str(ws.id), "account_id": str(acc)},
        headers=ws.owner.headers,
    )
    assert r.json()["scope"] == "account" and r.json()["fallback"] is None
    assert [(s["weekday"], s["hour"]) for s in r.json()["best"]] == [(0, 9)]
    # A platform (or an account) with too little history: the workspace's, and it says so.
    r = await api.get(
        f"{API}/insights/best-times",
        params={"workspace_id": str(ws.id), "platform": "youtube"},
        headers=ws.owner.headers,
    )
    thin = r.json()
    assert thin["scope"] == "workspace" and "too few" in thin["fallback"]
    assert {(s["weekday"], s["hour"]): s["posts"] for s in thin["slots"]}[(0, 9)] == 3
    newcomer = await account(producer, db, ws)
    r = await api.get(
        f"{API}/insights/best-times",
        params={"workspace_id": str(ws.id), "account_id": str(newcomer)},
        headers=ws.owner.headers,
    )
    assert r.json()["scope"] == "workspace" and "This account's" in r.json()["fallback"]
    assert [(s["weekday"], s["hour"]) for s in r.json()["best"]] == [(0, 9)]


# Export -------------------------------------------------------------------------------------


@pytest.mark.timeout(600)  # tracemalloc slows every thread of the process down
async def test_export_streams_100k_rows_from_an_open_cursor(
    api: httpx.AsyncClient, db: Database, producer: AIOKafkaProducer
) -> None:
    ws = await workspace(api, db)
    acc = await account(producer, db, ws)
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=3)
    await partitions(db, start.date(), (start + timedelta(days=1)).date())
    ids = await listed(db, acc, [ListedPost(id=f"e{i}", published_at=start) for i in range(1000)])
    batches = [
        FetchedBatch.of(
            MetricsFetched(
                account_id=acc,
                workspace_id=ws.id,
                platform="x",
                fetched_at=start + timedelta(minutes=n),
                posts=[
                    FetchedPostMetrics(
                        tracked_post_id=tid, platform_post_id=pid, views=5, likes=1, raw={}
                    )
                    for pid, tid in ids.items()
                ],
            )
        )
        for n in range(100)
    ]
    async with db.transaction() as session:
        written = await IngestRepository(session).insert_post_snapshots(batches)
    assert written.inserted == 100_000

    params = {
        "workspace_id": str(ws.id),
        "format": "csv",
        "from": start.isoformat(),
        "to": (start + timedelta(days=1)).isoformat(),
    }
    newlines, first_row = 0, b""
    # Everything the process allocates while the export runs (the service is served from a
    # thread of this process): 100,000 rows held at once would be tens of MB; streamed, the
    # server holds one chunk (export_chunk rows) and the client one chunk at a time.
    tracemalloc.start()
    try:
        async with api.stream("GET", f"{API}/export", params=params, headers=ws.owner.headers) as r:
            assert r.status_code == 200
            assert r.headers["content-type"].startswith("text/csv")
            assert r.headers["content-disposition"].startswith('attachment; filename="analytics-')
            async for chunk in r.aiter_bytes():
                if not first_row and newlines + chunk.count(b"\n") >= 2:
                    # Rows arrive while the server's cursor is still open: a buffered export
                    # would have finished its query (and given its connection back) first.
                    open_cursor = await scalar(
                        db,
                        "SELECT count(*) FROM pg_stat_activity "
                        "WHERE query LIKE '/* analytics-export */%' "
                        "AND state IN ('active', 'idle in transaction') "
                        "AND pid <> pg_backend_pid()",
                    )
                    assert open_cursor == 1
                    first_row = chunk
                newlines += chunk.count(b"\n")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert newlines == 100_001  # the header and every row
    header, row = list(csv.reader(io.StringIO(first_row.decode(errors="ignore"))))[:2]
    if header[0] == "fetched_at":  # the header came in this chunk
        record = dict(zip(header, row, strict=True))
        assert record["views"] == "5" and record["reach"] == ""
        assert float(record["engagement_rate"]) == pytest.approx(
            formulas.engagement_rate({"views": 5, "likes": 1}) or 0
        )
    print(f"export of 100,000 rows: peak traced memory {peak / 1e6:.1f} MB")
    assert peak < 20_000_000, f"the export held {peak / 1e6:.0f} MB at its peak"

    params["format"] = "json"
    async with api.stream(
        "GET",
        f"{API}/export",
        params={**params, "to": (start + timedelta(minutes=2)).isoformat()},
        headers=ws.owner.headers,
    ) as r:
        assert r.headers["content-type"] == "application/x-ndjson"
        records = [json.loads(line) async for line in r.aiter_lines() if line]
    assert len(records) == 2000 and {r["account_id"] for r in records} == {str(acc)}


# Caching ------------------------------------------------------------------------------------


async def test_etag_answers_304_until_new_metrics_land(
    api: httpx.AsyncClient, db: Database, producer: AIOKafkaProducer
) -> None:
    ws = await workspace(api, db)
    acc = await account(producer, db, ws)
    url, params = f"{API}/dashboard", {"workspace_id": str(ws.id)}
    r = await api.get(url, params=params, headers=ws.owner.headers)
    assert r.status_code == 200
    tag = r.headers["etag"]
    assert r.headers["cache-control"].startswith("private, max-age=")
    again = await api.get(url, params=params, headers={**ws.owner.headers, "If-None-Match": tag})
    assert again.status_code == 304 and again.headers["etag"] == tag and not again.content

    at = datetime.now(UTC).replace(microsecond=0)
    await fetched(producer, ws, acc, at, followers=42)
    await ingested(db, acc, at)

    async def moved_on() -> httpx.Response | None:
        # The bump's NOTIFY reaches the service's held versions within milliseconds.
        r = await api.get(url, params=params, headers={**ws.owner.headers, "If-None-Match": tag})
        return r if r.status_code == 200 else None

    fresh = await until(moved_on, "the new version seen", timeout=NOTIFY_BOUND_S)
    assert fresh.headers["etag"] != tag
    [row] = fresh.json()["accounts"]
    assert row["followers"]["value"] == 42
    # Another query is another answer.
    other = await api.get(
        url,
        params={**params, "from": "2026-01-01T00:00:00Z"},
        headers={**ws.owner.headers, "If-None-Match": fresh.headers["etag"]},
    )
    assert other.status_code == 200


async def test_a_rename_and_a_newly_tracked_post_change_the_etag(
    api: httpx.AsyncClient, db: Database, producer: AIOKafkaProducer
) -> None:
    """Answers name accounts and list posts: a new handle and a post tracked from the
    publisher's event are new data, so the stored answer and its ETag move on."""
    ws = await workspace(api, db)
    acc = await account(producer, db, ws)
    url, params = f"{API}/dashboard", {"workspace_id": str(ws.id)}
    current = etag_reader(api, ws, url, params)

    before = await current()
    renamed = AccountUpdated(
        account_id=acc,
        workspace_id=ws.id,
        platform="x",
        username="renamed_handle",
        display_name="Renamed",
        followers=None,
        following=None,
        post_count=None,
        synced_at=datetime.now(UTC),
    )
    await send(producer, renamed, acc)
    await until(
        lambda: scalar(
            db,
            "SELECT 1 FROM analytics.accounts WHERE id = :id AND username = 'renamed_handle'",
            id=acc,
        ),
        "the rename projected",
    )
    after_rename = await until(
        lambda: _changed(current, before), "the rename seen", timeout=NOTIFY_BOUND_S
    )
    r = await api.get(url, params=params, headers={**ws.owner.headers, "If-None-Match": before})
    assert r.status_code == 200
    assert [a["account"]["username"] for a in r.json()["accounts"]] == ["renamed_handle"]

    post_id = uuid.uuid4()
    published = PostPublished(
        post_id=post_id,
        workspace_id=ws.id,
        target_id=uuid.uuid4(),
        account_id=acc,
        platform="x",
        platform_post_id="p-new",
        url=None,
        published_at=datetime.now(UTC),
    )
    await send(producer, published, acc)
    await until(
        lambda: scalar(
            db, "SELECT 1 FROM analytics.tracked_posts WHERE publisher_post_id = :p", p=post_id
        ),
        "the post tracked",
    )
    await until(lambda: _changed(current, after_rename), "the post seen", timeout=NOTIFY_BOUND_S)


async def test_a_new_time_zone_changes_the_etag(
    api: httpx.AsyncClient, db: Database, producer: AIOKafkaProducer
) -> None:
    """Buckets are local days: the workspace's time zone is part of an answer, so a new one
    is new data, and the stored answer and its ETag move on with it."""
    ws = await workspace(api, db)
    acc = await account(producer, db, ws)
    url = f"{API}/accounts/{acc}/timeseries"
    params = {"metric": "followers", "interval": "day"}
    current = etag_reader(api, ws, url, params)

    before = await current()
    moved = WorkspaceUpdated(
        workspace_id=ws.id,
        name="Acme",
        timezone="Asia/Tokyo",
        require_approval=False,
        updated_at=datetime.now(UTC),
    )
    await send(producer, moved, ws.id)
    await until(
        lambda: scalar(
            db,
            "SELECT 1 FROM analytics.workspaces WHERE id = :id AND timezone = 'Asia/Tokyo'",
            id=ws.id,
        ),
        "the time zone projected",
    )
    await until(lambda: _changed(current, before), "the time zone seen", timeout=NOTIFY_BOUND_S)
    r = await api.get(url, params=params, headers={**ws.owner.headers, "If-None-Match": before})
    assert r.status_code == 200
    assert r.json()["timezone"] == "Asia/Tokyo"
    assert r.json()["buckets"][0]["start"].endswith("+09:00")


async def test_a_held_data_version_follows_a_bump_within_the_notification_delay(
    api: httpx.AsyncClient, db: Database
) -> None:
    """The service holds data versions in memory and drops one when the bump's NOTIFY
    arrives (on commit): the stored answer moves on within a bound, without any request
    reading the version from the database in between."""
    ws = await workspace(api, db)
    url, params = f"{API}/dashboard", {"workspace_id": str(ws.id)}

    async def tag() -> str:
        r = await api.get(url, params=params, headers=ws.owner.headers)
        assert r.status_code == 200, r.text
        return str(r.headers["etag"])

    before = await tag()
    assert await tag() == before  # held: the same version, the same answer
    async with db.transaction() as session:
        await bump_data_versions(session, [ws.id])
    committed = asyncio.get_running_loop().time()
    after = await until(
        lambda: _changed(tag, before), "the bumped version seen", timeout=NOTIFY_BOUND_S
    )
    delay = asyncio.get_running_loop().time() - committed
    assert after != before and delay < NOTIFY_BOUND_S
    print(f"data version bump seen after {delay * 1000:.1f} ms (request round trips included)")


async def test_a_lost_listener_connection_drops_what_the_service_holds(
    api: httpx.AsyncClient, db: Database
) -> None:
    """A change whose notification was lost (the listener's connection cut, the version
    moved without a NOTIFY) is still seen: losing the connection empties the caches, and
    until the listener is back every read goes to the database."""
    ws = await workspace(api, db)
    url, params = f"{API}/dashboard", {"workspace_id": str(ws.id)}

    async def tag() -> str:
        r = await api.get(url, params=params, headers=ws.owner.headers)
        assert r.status_code == 200, r.text
        return str(r.headers["etag"])

    before = await tag()
    assert await tag() == before
    # This service's listener: other services (webhooks) listen under their own roles.
    listening = (
        "SELECT pid FROM pg_stat_activity WHERE application_name = :app AND usename = current_user"
    )
    async with db.transaction() as session:
        old = set((await session.execute(text(listening), {"app": NOTIFY_APPLICATION})).scalars())
        assert old, "the service's listener is connected"
        await session.execute(
            text("SELECT pg_terminate_backend(pid) FROM unnest(CAST(:p AS int[])) AS pid"),
            {"p": list(old)},
        )
    async with db.transaction() as session:  # no NOTIFY: as if it were sent while cut off
        await session.execute(
            text(
                "INSERT INTO analytics.data_versions (workspace_id, version) VALUES (:w, 1) "
                "ON CONFLICT (workspace_id) DO UPDATE SET version = data_versions.version + 1"
            ),
            {"w": ws.id},
        )

    async def reconnected() -> bool | None:
        async with db.transaction() as session:
            rows = await session.execute(text(listening), {"app": NOTIFY_APPLICATION})
            return True if set(rows.scalars()) - old else None

    # Asked only once the listener is back (and trusted again): what it held before the cut
    # must be gone.
    await until(reconnected, "the listener connected again")
    await until(lambda: _changed(tag, before), "the unnotified version seen", timeout=10)
    # And a notified bump is followed again.
    current = await tag()
    async with db.transaction() as session:
        await bump_data_versions(session, [ws.id])
    await until(lambda: _changed(tag, current), "a bump after reconnecting", timeout=30)


def etag_reader(
    api: httpx.AsyncClient, ws: Workspace, url: str, params: dict[str, str]
) -> Callable[[], Awaitable[str]]:
    """The current ETag of one answer, as the workspace's owner asks for it."""

    async def current() -> str:
        r = await api.get(url, params=params, headers=ws.owner.headers)
        assert r.status_code == 200, r.text
        return r.headers["etag"]

    return current


async def _changed(tag: Callable[[], Awaitable[str]], before: str) -> str | None:
    now = await tag()
    return now if now != before else None


async def test_a_removed_member_loses_reads_within_the_notification_delay(
    api: httpx.AsyncClient, db: Database
) -> None:
    """The member's changes are held in memory too: a removal recorded in analytics' table
    (as its consumer records auth's event) reaches the held copy through NOTIFY, and the
    still-valid token is refused within the bound."""
    ws = await workspace(api, db)
    viewer = await make_user(api, name="Vic")
    await add_member(api, ws.owner, str(ws.id), viewer, "viewer")
    viewer = await refresh(api, viewer)
    url, params = f"{API}/dashboard", {"workspace_id": str(ws.id)}

    async def status() -> int:
        r = await api.get(url, params=params, headers=viewer.headers)
        return r.status_code

    assert await status() == 200
    assert await status() == 200  # the member's (empty) changes are held now
    async with db.transaction() as session:
        await record_member_change(
            session,
            member_changes,
            WorkspaceMemberChanged(
                workspace_id=ws.id,
                user_id=uuid.UUID(viewer.id),
                change="removed",
                role=None,
                changed_by=uuid.UUID(ws.owner.id),
                changed_at=datetime.now(UTC) + timedelta(seconds=1),
            ),
        )
    committed = asyncio.get_running_loop().time()

    async def refused() -> int | None:
        code = await status()
        return code if code == 404 else None

    await until(refused, "the removed member refused", timeout=NOTIFY_BOUND_S)
    delay = asyncio.get_running_loop().time() - committed
    assert delay < NOTIFY_BOUND_S
    print(f"removal seen after {delay * 1000:.1f} ms (request round trips included)")
    r = await api.get(url, params=params, headers=ws.owner.headers)
    assert r.status_code == 200


async def test_a_repeated_parameter_answers_for_the_value_it_was_read_as(
    api: httpx.AsyncClient, db: Database, producer: AIOKafkaProducer
) -> None:
    """FastAPI reads a repeated parameter's last value: each order is its own answer, keyed
    by that value (the same as asking for it once), never the other order's stored one."""
    ws = await workspace(api, db)
    acc = await account(producer, db, ws)
    url = f"{API}/accounts/{acc}/timeseries"
    window = "from=2026-11-02T00:00:00Z&to=2026-11-30T00:00:00Z"
    answers = {}
    for query in ("interval=week&interval=day", "interval=day&interval=week", "interval=day"):
        r = await api.get(f"{url}?{window}&{query}", headers=ws.owner.headers)
        assert r.status_code == 200, r.text
        answers[query] = r
    week_day, day_week, day = answers.values()
    assert week_day.json()["interval"] == "day" and len(week_day.json()["buckets"]) == 28
    assert day_week.json()["interval"] == "week" and len(day_week.json()["buckets"]) == 4
    assert week_day.headers["etag"] != day_week.headers["etag"]
    assert week_day.headers["etag"] == day.headers["etag"]


async def test_unknown_parameters_store_no_answer_of_their_own(
    stack: Stack, api: httpx.AsyncClient, db: Database, producer: AIOKafkaProducer
) -> None:
    """Parameters a route does not read make neither an ETag nor a stored answer: a client
    adding junk to every request cannot fill the process's answer cache."""
    ws = await workspace(api, db)
    await account(producer, db, ws)
    app = create_analytics(stack.analytics.settings, background=False)
    answers: Answers = app.state.analytics_answers
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://analytics") as own:
            tags = set()
            for n in range(100):
                r = await own.get(
                    f"{API}/dashboard",
                    params={"workspace_id": str(ws.id), f"junk{n}": "x" * 100},
                    headers=ws.owner.headers,
                )
                assert r.status_code == 200, r.text
                tags.add(r.headers["etag"])
    finally:
        await app.state.analytics.db.dispose()
        for client in app.state.analytics.runtime.http_clients:
            await client.aclose()
    assert len(tags) == 1
    assert len(answers.cache) == 1


# Tenancy and roles --------------------------------------------------------------------------


def routes(ws: Workspace, acc: uuid.UUID, post: uuid.UUID) -> list[tuple[str, dict[str, str]]]:
    w = {"workspace_id": str(ws.id)}
    return [
        (f"{API}/accounts/{acc}/metrics", {}),
        (f"{API}/accounts/{acc}/timeseries", {"metric": "followers", "interval": "day"}),
        (f"{API}/accounts/{acc}/posts", {}),
        (f"{API}/posts/{post}", {}),
        (f"{API}/posts/{post}/timeseries", {"interval": "day"}),
        (f"{API}/insights/best-times", w),
        (f"{API}/insights/best-times", {**w, "account_id": str(acc)}),
        (f"{API}/dashboard", w),
        (f"{API}/compare", {"account_ids": str(acc)}),
        (f"{API}/export", w),
    ]


async def test_other_workspaces_are_404_everywhere_and_viewers_can_read(
    api: httpx.AsyncClient, db: Database, producer: AIOKafkaProducer
) -> None:
    ws = await workspace(api, db)
    acc = await account(producer, db, ws)
    ids = await listed(db, acc, [ListedPost(id="t", published_at=datetime.now(UTC))])
    stranger = await workspace(api, db)
    # Read by their owner first: an account's workspace is then held in memory, and the
    # stranger meets that, not the scoped query.
    for url, params in routes(ws, acc, ids["t"]):
        r = await api.get(url, params=params, headers=ws.owner.headers)
        assert r.status_code == 200, (url, r.text)
    for url, params in routes(ws, acc, ids["t"]):
        r = await api.get(url, params=params, headers=stranger.owner.headers)
        assert r.status_code == 404, (url, r.text)
        assert r.json()["error"] in {"AccountNotFound", "WorkspaceNotFound", "PostNotFound"}
    # An account of another workspace beside one's own is 404 too, in every list.
    own = await account(producer, db, stranger)
    r = await api.get(
        f"{API}/compare", params={"account_ids": f"{own},{acc}"}, headers=stranger.owner.headers
    )
    assert r.status_code == 404
    r = await api.get(
        f"{API}/export",
        params={"workspace_id": str(stranger.id), "account_ids": str(acc)},
        headers=stranger.owner.headers,
    )
    assert r.status_code == 404
    r = await api.get(
        f"{API}/insights/best-times",
        params={"workspace_id": str(stranger.id), "account_id": str(acc)},
        headers=stranger.owner.headers,
    )
    assert r.status_code == 404

    viewer = await add_member(api, ws.owner, ws.id, await make_user(api, name="Viewer"), "viewer")
    for url, params in routes(ws, acc, ids["t"]):
        r = await api.get(url, params=params, headers=viewer.headers)
        assert r.status_code == 200, (url, r.text)


# The report ----------------------------------------------------------------------------------


async def reported(
    api: httpx.AsyncClient,
    producer: AIOKafkaProducer,
    db: Database,
    *,
    username: str = "",
    text: str = "Launch day",
) -> tuple[Workspace, uuid.UUID, dict[str, str]]:
    """A named workspace in Paris time with one X account: followers 200 -> 260 over the
    period (100 the period before), two posts in it and one the period before."""
    ws = await workspace(api, db, "Europe/Paris", name=f"Report {uuid.uuid4().hex[:6]}")
    acc = await account(producer, db, ws, username=username)
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    start, end = today - timedelta(days=7), today + timedelta(days=1)
    await partitions(db, *(d.date() for d in (start - timedelta(days=7), start, today)))
    ids = await listed(
        db,
        acc,
        [
            ListedPost(id="prev", published_at=start - timedelta(days=3), text="Last week"),
            ListedPost(id="a", published_at=start + timedelta(days=1), text=text),
            ListedPost(id="b", published_at=start + timedelta(days=2), text="Second post"),
        ],
    )
    await fetched(producer, ws, acc, start - timedelta(days=7), followers=100)
    await fetched(producer, ws, acc, start, followers=200)
    at = today + timedelta(hours=1)
    await fetched(
        producer,
        ws,
        acc,
        at,
        posts={
            ids["prev"]: {"impressions": 1000, "likes": 10, "shares": 0},
            ids["a"]: {"impressions": 1500, "likes": 900, "shares": 45},
            ids["b"]: {"impressions": 1000, "likes": 60, "shares": 15},
        },
        followers=260,
    )
    await ingested(db, acc, at)
    return ws, acc, q(**{"from": start, "to": end})


def pdf_text(body: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(body)).pages)


async def test_report_pdf_says_what_the_api_says(
    api: httpx.AsyncClient, db: Database, producer: AIOKafkaProducer
) -> None:
    ws, _, period = await reported(api, producer, db)
    headers = ws.owner.headers
    dashboard = (
        await api.get(
            f"{API}/dashboard", params={"workspace_id": str(ws.id), **period}, headers=headers
        )
    ).json()
    answer = await api.get(
        f"{API}/report", params={"workspace_id": str(ws.id), **period}, headers=headers
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/pdf"
    assert answer.headers["content-disposition"].startswith('attachment; filename="report-')
    assert answer.content.startswith(b"%PDF-")
    text = pdf_text(answer.content)

    name = (await api.get(f"/api/v1/workspaces/{ws.id}", headers=headers)).json()["name"]
    assert name in text and "Europe/Paris" in text
    [row] = dashboard["accounts"]
    assert row["account"]["username"] in text
    # The API's numbers, as the report writes them: followers 260 (+30.0 % on 200); the
    # period's two posts' impressions and engagements, and their growth on last week's post.
    assert row["followers"]["value"] == 260 and "260 (+30.0 %)" in text
    metrics = row["metrics"]
    assert f"{metrics['impressions']:,}" == "2,500" and "2,500 (+150.0 %)" in text
    engagements = metrics["engagements"]
    assert f"{engagements:,} (+" in text
    rate = metrics["engagement_rate"]
    assert f"{rate * 100:.1f} %" in text
    # The top post first, with its numbers; last week's post is not in this period's.
    top = dashboard["top_posts"][0]
    assert top["text"] == "Launch day" and "Launch day" in text and "Last week" not in text
    assert f"{top['metrics']['engagements']:,}" in text
    for heading in ("Totals by platform", "Followers", "Engagements by account", "Best times"):
        assert heading in text


async def test_report_csv_has_each_accounts_totals_and_growth(
    api: httpx.AsyncClient, db: Database, producer: AIOKafkaProducer
) -> None:
    ws, acc, period = await reported(api, producer, db, username="=cmd|' /C calc'!A0")
    answer = await api.get(
        f"{API}/report",
        params={"workspace_id": str(ws.id), "format": "csv", **period},
        headers=ws.owner.headers,
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    [platform] = [r for r in rows if r["row"] == "platform"]
    [line] = [r for r in rows if r["row"] == "account"]
    assert platform["platform"] == "x" and platform["posts_published"] == "2"
    assert platform["posts_published_previous"] == "1"
    assert line["account_id"] == str(acc)
    assert line["username"].startswith("'=")  # a spreadsheet shows it, never runs it
    assert (line["followers"], line["followers_previous"]) == ("260", "200")
    assert float(line["followers_growth"]) == pytest.approx(0.3)
    assert (line["impressions"], line["impressions_previous"]) == ("2500", "1000")


async def test_report_shows_platform_text_without_obeying_it(
    api: httpx.AsyncClient, db: Database, producer: AIOKafkaProducer
) -> None:
    """Post texts and usernames are the platforms' users' words: markup in them is shown."""
    hostile = '<font size="72" color="red">big</font> & <b>bold'
    ws, _, period = await reported(api, producer, db, username="<i>name</i>", text=hostile)
    answer = await api.get(
        f"{API}/report", params={"workspace_id": str(ws.id), **period}, headers=ws.owner.headers
    )
    assert answer.status_code == 200, answer.text
    text = pdf_text(answer.content)
    assert '<font size="72"' in text and "<i>name</i>" in text


async def test_report_is_the_workspaces_members_only(
    api: httpx.AsyncClient, db: Database, producer: AIOKafkaProducer
) -> None:
    ws, _, period = await reported(api, producer, db)
    stranger = await make_user(api, name="Stranger")
    for who, status in ((stranger, 404), (None, 401)):
        answer = await api.get(
            f"{API}/report",
            params={"workspace_id": str(ws.id), **period},
            headers=who.headers if who else {},
        )
        assert answer.status_code == status, answer.text
    for params, error in (
        ({"format": "docx"}, "ValidationError"),
        ({"from": "2026-02-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"}, "InvalidPeriod"),
    ):
        answer = await api.get(
            f"{API}/report",
            params={"workspace_id": str(ws.id), **params},
            headers=ws.owner.headers,
        )
        assert answer.status_code in (400, 422), answer.text
        assert answer.json()["error"] == error
