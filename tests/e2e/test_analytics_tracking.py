"""Analytics-sync's core over the real stack: tracking from accounts' and the publisher's
events, ingestion of fetched metrics into snapshots, latest values and daily rollups, and
retention of the raw partitions. Events other services would send are produced to Kafka as
those services' relays do (CloudEvents headers, JSON value, keyed by the aggregate)."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from sqlalchemy import text

from analytics.fetching.schedule import account_phase, first_fetch
from analytics.models import Account
from analytics.retention.job import retention_turn
from analytics.retention.repository import POST_SNAPSHOTS, PartitionRepository, partition_name
from analytics.tracking.repository import TrackingRepository
from socialseed.contracts import (
    AccountConnected,
    AccountDisconnected,
    AccountReauthRequired,
    AccountUpdated,
    Event,
    FetchedAccountMetrics,
    FetchedPostFailure,
    FetchedPostMetrics,
    MetricsFetched,
    PostPublished,
)
from socialseed.db import Database
from socialseed.outbox import cloudevent_headers
from socialseed.platforms.base import ListedPost
from socialseed.testing import Infra
from tests.conftest import Stack, connect_account, owner_with_workspace

T = TypeVar("T")


@pytest.fixture
async def db(infra: Infra) -> AsyncIterator[Database]:
    database = Database(infra.service_url("analytics"), pool_size=4)
    yield database
    await database.dispose()


@pytest.fixture
async def send(infra: Infra) -> AsyncIterator[Callable[..., Awaitable[uuid.UUID]]]:
    producer = AIOKafkaProducer(bootstrap_servers=infra.kafka_bootstrap, enable_idempotence=True)
    await producer.start()

    async def produce(
        event: Event, key: uuid.UUID, event_id: uuid.UUID | None = None, body: bytes | None = None
    ) -> uuid.UUID:
        """Send ``event`` (or ``body`` under its headers: a payload our models would refuse)."""
        event_id = event_id or uuid.uuid4()
        headers = cloudevent_headers(
            event, event_id=event_id, source="/tests", subject=str(key), time=datetime.now(UTC)
        )
        await producer.send_and_wait(
            event.topic,
            value=event.model_dump_json().encode() if body is None else body,
            key=str(key).encode(),
            headers=[(k, v.encode()) for k, v in headers.items()],
        )
        return event_id

    yield produce
    await producer.stop()


async def until(probe: Callable[[], Awaitable[T | None]], what: str, timeout: float = 60) -> T:
    deadline = asyncio.get_running_loop().time() + timeout
    while (value := await probe()) is None:
        assert asyncio.get_running_loop().time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.1)
    return value


async def row(db: Database, sql: str, **params: Any) -> Any:
    async with db.transaction() as session:
        return (await session.execute(text(sql), params)).mappings().first()


async def rows(db: Database, sql: str, **params: Any) -> list[Any]:
    async with db.transaction() as session:
        return list((await session.execute(text(sql), params)).mappings())


def connected(account_id: uuid.UUID, workspace_id: uuid.UUID, at: datetime) -> AccountConnected:
    return AccountConnected(
        account_id=account_id,
        workspace_id=workspace_id,
        platform="x",
        platform_user_id=f"u-{account_id.hex[:8]}",
        username=f"user{account_id.hex[:6]}",
        reconnected=False,
        connected_at=at,
    )


def published(
    account_id: uuid.UUID, workspace_id: uuid.UUID, platform_post_id: str, at: datetime
) -> PostPublished:
    return PostPublished(
        post_id=uuid.uuid4(),
        workspace_id=workspace_id,
        target_id=uuid.uuid4(),
        account_id=account_id,
        platform="x",
        platform_post_id=platform_post_id,
        url=f"https://x.com/i/status/{platform_post_id}",
        published_at=at,
    )


def fetched(
    account_id: uuid.UUID,
    workspace_id: uuid.UUID,
    at: datetime,
    posts: list[tuple[uuid.UUID, str, int]],
    *,
    failures: list[tuple[uuid.UUID, str, str]] = (),  # type: ignore[assignment]
    sync_id: uuid.UUID | None = None,
    followers: int | None = None,
) -> MetricsFetched:
    return MetricsFetched(
        account_id=account_id,
        workspace_id=workspace_id,
        platform="x",
        fetched_at=at,
        sync_id=sync_id,
        posts=[
            FetchedPostMetrics(
                tracked_post_id=tid,
                platform_post_id=pid,
                views=views,
                likes=views // 10,
                saves=None,
                raw={"public_metrics": {"impression_count": views}},
            )
            for tid, pid, views in posts
        ],
        failures=[
            FetchedPostFailure(tracked_post_id=tid, platform_post_id=pid, gap=gap, message=gap)  # type: ignore[arg-type]
            for tid, pid, gap in failures
        ],
        account=FetchedAccountMetrics(followers=followers, raw={"followers_count": followers})
        if followers is not None
        else None,
    )


async def tracked_account(
    db: Database, send: Callable[..., Awaitable[uuid.UUID]]
) -> tuple[uuid.UUID, uuid.UUID]:
    account_id, workspace_id = uuid.uuid4(), uuid.uuid4()
    await send(connected(account_id, workspace_id, datetime.now(UTC)), account_id)
    await until(
        lambda: row(db, "SELECT id FROM analytics.accounts WHERE id = :id", id=account_id),
        "the account projected",
    )
    return account_id, workspace_id


async def track(
    db: Database,
    send: Callable[..., Awaitable[uuid.UUID]],
    account_id: uuid.UUID,
    workspace_id: uuid.UUID,
    platform_post_id: str,
) -> uuid.UUID:
    event = published(account_id, workspace_id, platform_post_id, datetime.now(UTC))
    await send(event, account_id)
    found = await until(
        lambda: row(
            db,
            "SELECT id FROM analytics.tracked_posts WHERE publisher_target_id = :t",
            t=event.target_id,
        ),
        "the post tracked",
    )
    return uuid.UUID(str(found["id"]))


# Tracking ---------------------------------------------------------------------------------


async def test_a_connected_account_is_projected_and_marked_for_backfill(
    stack: Stack, db: Database
) -> None:
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=20) as api:
        owner, workspace_id = await owner_with_workspace(api)
        [account] = await connect_account(api, owner, workspace_id, "x", "ada_tracks")
    projected = await until(
        lambda: row(db, "SELECT * FROM analytics.accounts WHERE id = :id", id=account["id"]),
        "the connected account in analytics",
    )
    assert str(projected["workspace_id"]) == workspace_id
    assert projected["platform"] == "x"
    assert projected["username"] == "ada_tracks"
    assert projected["platform_user_id"]
    assert projected["tracking"] is True
    assert projected["status"] == "active"
    # The fetchers' cues: its history is to be listed, its counters are due at once.
    assert projected["backfill_requested_at"] is not None
    assert projected["backfilled_at"] is None
    assert projected["next_sync_at"] == projected["connected_at"]
    workspace = await until(
        lambda: row(db, "SELECT * FROM analytics.workspaces WHERE id = :id", id=workspace_id),
        "the workspace's timezone",
    )
    assert workspace["timezone"]


async def test_a_published_post_is_tracked_with_the_publishers_ids_and_links_a_backfilled_one(
    stack: Stack, db: Database, send: Callable[..., Awaitable[uuid.UUID]]
) -> None:
    account_id, workspace_id = await tracked_account(db, send)
    now = datetime.now(UTC)
    # The backfill found two of the account's posts first (the fetch side calls this).
    async with db.transaction() as session:
        repo = TrackingRepository(session)
        account = await repo.account(account_id)
        assert isinstance(account, Account)
        listing = [
            ListedPost(id="111", published_at=now - timedelta(days=3), text="old one"),
            ListedPost(id="222", published_at=now - timedelta(hours=1), url=None),
        ]
        assert await repo.record_listing(account, listing, now=now) == 2
    async with db.transaction() as session:
        repo = TrackingRepository(session)
        account = await repo.account(account_id)
        assert account is not None
        # Listing again is harmless: nothing new, nothing doubled.
        assert await repo.record_listing(account, listing, now=now) == 0

    linked = published(account_id, workspace_id, "222", now - timedelta(hours=1))
    await send(linked, account_id)
    fresh = published(account_id, workspace_id, "333", now)
    await send(fresh, account_id)
    await until(
        lambda: row(
            db,
            "SELECT 1 FROM analytics.tracked_posts WHERE publisher_target_id = :t",
            t=fresh.target_id,
        ),
        "the second published post",
    )
    posts = {
        r["platform_post_id"]: r
        for r in await rows(
            db, "SELECT * FROM analytics.tracked_posts WHERE account_id = :a", a=account_id
        )
    }
    assert sorted(posts) == ["111", "222", "333"]
    assert posts["111"]["source"] == "backfill"
    assert posts["111"]["publisher_target_id"] is None
    assert posts["222"]["source"] == "publisher"
    assert posts["222"]["publisher_post_id"] == linked.post_id
    assert posts["222"]["publisher_target_id"] == linked.target_id
    assert posts["222"]["url"] == linked.url
    assert posts["333"]["publisher_target_id"] == fresh.target_id
    assert posts["333"]["status"] == "active"
    assert str(posts["333"]["workspace_id"]) == str(workspace_id)
    # First fetched a while after publishing, on the account's grid (not at once); the
    # backfilled row keeps the schedule it had.
    after = stack.analytics.settings.first_fetch_after
    assert after > timedelta(0)
    first = posts["333"]["next_fetch_at"]
    assert fresh.published_at + after <= first < fresh.published_at + after * 1.25
    assert first == first_fetch(fresh.published_at, after, account_phase(account_id))
    assert posts["222"]["next_fetch_at"] == now


async def test_a_batch_of_published_posts_is_tracked_in_one_go(
    stack: Stack, db: Database, send: Callable[..., Awaitable[uuid.UUID]]
) -> None:
    """A batch consumer's set: posts of a tracked and of an untracked account together, and
    the same platform post twice (the last one given wins, no conflict within the batch)."""
    tracked, workspace_id = await tracked_account(db, send)
    stopped, _ = await tracked_account(db, send)
    now = datetime.now(UTC)
    async with db.transaction() as session:
        await session.execute(
            text("UPDATE analytics.accounts SET tracking = false WHERE id = :id"), {"id": stopped}
        )
    first = published(tracked, workspace_id, "555", now)
    again = published(tracked, workspace_id, "555", now)
    other = published(tracked, workspace_id, "666", now)
    elsewhere = published(stopped, workspace_id, "777", now)
    async with db.transaction() as session:
        await TrackingRepository(session).track_published_many(
            [
                {
                    "account_id": e.account_id,
                    "workspace_id": e.workspace_id,
                    "platform": e.platform,
                    "platform_post_id": e.platform_post_id,
                    "publisher_post_id": e.post_id,
                    "publisher_target_id": e.target_id,
                    "published_at": e.published_at,
                    "url": e.url,
                    "next_fetch_at": e.published_at + timedelta(minutes=15),
                }
                for e in (first, again, other, elsewhere)
            ]
        )
    posts = {
        r["platform_post_id"]: r
        for r in await rows(
            db,
            "SELECT * FROM analytics.tracked_posts WHERE account_id IN (:a, :b)",
            a=tracked,
            b=stopped,
        )
    }
    assert sorted(posts) == ["555", "666", "777"]
    assert posts["555"]["publisher_target_id"] == again.target_id
    assert posts["666"]["status"] == "active" and posts["666"]["source"] == "publisher"
    assert posts["666"]["next_fetch_at"] == now + timedelta(minutes=15)
    assert posts["777"]["status"] == "stopped"


async def test_a_disconnected_account_stops_tracking_and_keeps_its_history(
    stack: Stack, db: Database, send: Callable[..., Awaitable[uuid.UUID]]
) -> None:
    account_id, workspace_id = await tracked_account(db, send)
    post_id = await track(db, send, account_id, workspace_id, "444")
    at = datetime.now(UTC)
    await send(fetched(account_id, workspace_id, at, [(post_id, "444", 50)]), account_id)
    await until(
        lambda: row(
            db, "SELECT 1 FROM analytics.post_latest WHERE tracked_post_id = :p", p=post_id
        ),
        "the first snapshot",
    )
    await send(
        AccountDisconnected(account_id=account_id, workspace_id=workspace_id, platform="x", at=at),
        account_id,
    )
    stopped = await until(
        lambda: row(
            db,
            "SELECT * FROM analytics.accounts WHERE id = :id AND NOT tracking",
            id=account_id,
        ),
        "tracking off",
    )
    assert stopped["status"] == "disconnected"
    assert stopped["stopped_at"] == at
    post = await row(db, "SELECT * FROM analytics.tracked_posts WHERE id = :p", p=post_id)
    assert post["status"] == "stopped"
    history = await rows(
        db, "SELECT * FROM analytics.post_snapshots WHERE tracked_post_id = :p", p=post_id
    )
    assert [h["views"] for h in history] == [50]

    # A connect older than the disconnect, arriving late, changes nothing (the rename after it
    # is the marker that it was applied).
    await send(connected(account_id, workspace_id, at - timedelta(minutes=1)), account_id)
    await send(
        AccountUpdated(
            account_id=account_id,
            workspace_id=workspace_id,
            platform="x",
            username="late",
            display_name="L",
            followers=None,
            following=None,
            post_count=None,
            synced_at=at,
        ),
        account_id,
    )
    await until(
        lambda: row(
            db,
            "SELECT 1 FROM analytics.accounts WHERE id = :id AND username = 'late'",
            id=account_id,
        ),
        "the rename",
    )
    assert not (
        await row(db, "SELECT tracking FROM analytics.accounts WHERE id = :id", id=account_id)
    )["tracking"]
    post = await row(db, "SELECT * FROM analytics.tracked_posts WHERE id = :p", p=post_id)
    assert post["status"] == "stopped"

    # Connected again: tracked again, its posts too.
    await send(connected(account_id, workspace_id, at + timedelta(minutes=1)), account_id)
    await until(
        lambda: row(
            db,
            "SELECT 1 FROM analytics.tracked_posts WHERE id = :p AND status = 'active'",
            p=post_id,
        ),
        "the post tracked again",
    )


async def test_reauth_required_marks_the_account_and_an_older_event_never_wins(
    stack: Stack, db: Database, send: Callable[..., Awaitable[uuid.UUID]]
) -> None:
    account_id, workspace_id = await tracked_account(db, send)
    at = datetime.now(UTC) + timedelta(minutes=5)
    await send(
        AccountReauthRequired(
            account_id=account_id,
            workspace_id=workspace_id,
            platform="x",
            reason="token revoked",
            at=at,
        ),
        account_id,
    )
    # A connect older than the reauth (arriving late) must not make the account active again;
    # the rename after it is the marker that both were applied.
    await send(connected(account_id, workspace_id, at - timedelta(minutes=1)), account_id)
    await send(
        AccountUpdated(
            account_id=account_id,
            workspace_id=workspace_id,
            platform="x",
            username="renamed",
            display_name="R",
            followers=None,
            following=None,
            post_count=None,
            synced_at=at,
        ),
        account_id,
    )
    account = await until(
        lambda: row(
            db,
            "SELECT * FROM analytics.accounts WHERE id = :id AND username = 'renamed'",
            id=account_id,
        ),
        "the rename",
    )
    assert account["status"] == "reauth_required"
    assert account["tracking"] is True  # still tracked: fetched again once reconnected


# Ingestion --------------------------------------------------------------------------------


async def test_a_fetched_batch_writes_snapshots_latest_values_and_account_rollups(
    stack: Stack, db: Database, send: Callable[..., Awaitable[uuid.UUID]]
) -> None:
    account_id, workspace_id = await tracked_account(db, send)
    a = await track(db, send, account_id, workspace_id, "a1")
    b = await track(db, send, account_id, workspace_id, "b1")
    gone = await track(db, send, account_id, workspace_id, "c1")
    shy = await track(db, send, account_id, workspace_id, "d1")
    stranger = uuid.uuid4()  # not one of this account's posts: never written
    day = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    first, second, late = (day + timedelta(minutes=m) for m in (10, 20, 15))
    await send(
        fetched(
            account_id,
            workspace_id,
            first,
            [(a, "a1", 100), (b, "b1", 7), (stranger, "x", 1)],
            failures=[(gone, "c1", "deleted"), (shy, "d1", "not_enough_viewers")],
            followers=1000,
        ),
        account_id,
    )
    await send(
        fetched(account_id, workspace_id, second, [(a, "a1", 150)], followers=1010), account_id
    )
    await until(
        lambda: row(
            db,
            "SELECT 1 FROM analytics.post_latest WHERE tracked_post_id = :p AND views = 150",
            p=a,
        ),
        "the second batch",
    )
    # A batch fetched before the last one but applied after it: history, not the latest, and
    # not the day's last value either.
    await send(fetched(account_id, workspace_id, late, [(a, "a1", 120)]), account_id)
    await until(
        lambda: row(
            db,
            "SELECT 1 FROM analytics.post_snapshots WHERE tracked_post_id = :p AND fetched_at = :t",
            p=a,
            t=late,
        ),
        "the third batch",
    )
    series = await rows(
        db,
        "SELECT fetched_at, views, likes, saves, raw FROM analytics.post_snapshots "
        "WHERE tracked_post_id = :p ORDER BY fetched_at",
        p=a,
    )
    assert [(s["fetched_at"], s["views"]) for s in series] == [
        (first, 100),
        (late, 120),
        (second, 150),
    ]
    assert series[0]["likes"] == 10
    assert series[0]["saves"] is None  # not measured is not zero
    assert series[0]["raw"] == {"public_metrics": {"impression_count": 100}}
    latest = await row(db, "SELECT * FROM analytics.post_latest WHERE tracked_post_id = :p", p=a)
    assert (latest["fetched_at"], latest["views"]) == (second, 150)
    assert str(latest["workspace_id"]) == str(workspace_id)
    # Posts' daily rollups are retention's (from the day's partition, before dropping it).
    assert not await rows(db, "SELECT 1 FROM analytics.post_daily WHERE tracked_post_id = :p", p=a)
    assert (
        await row(db, "SELECT views FROM analytics.post_latest WHERE tracked_post_id = :p", p=b)
    )["views"] == 7
    assert not await rows(
        db, "SELECT 1 FROM analytics.post_snapshots WHERE tracked_post_id = :p", p=stranger
    )
    gone_row = await row(db, "SELECT * FROM analytics.tracked_posts WHERE id = :p", p=gone)
    assert (gone_row["status"], gone_row["gap"]) == ("deleted", "deleted")
    shy_row = await row(db, "SELECT * FROM analytics.tracked_posts WHERE id = :p", p=shy)
    assert (shy_row["status"], shy_row["gap"]) == ("active", "not_enough_viewers")
    account = await row(
        db, "SELECT * FROM analytics.account_latest WHERE account_id = :a", a=account_id
    )
    assert (account["followers"], account["fetched_at"]) == (1010, second)
    account_days = await rows(
        db, "SELECT * FROM analytics.account_daily WHERE account_id = :a", a=account_id
    )
    assert [(d["day"], d["followers"]) for d in account_days] == [(day.date(), 1010)]
    projected = await row(db, "SELECT * FROM analytics.accounts WHERE id = :a", a=account_id)
    assert projected["last_synced_at"] == second


async def test_a_redelivered_batch_writes_nothing_twice(
    stack: Stack, db: Database, send: Callable[..., Awaitable[uuid.UUID]]
) -> None:
    account_id, workspace_id = await tracked_account(db, send)
    post = await track(db, send, account_id, workspace_id, "r1")
    other = await track(db, send, account_id, workspace_id, "r2")
    sync_id = uuid.uuid4()
    async with db.transaction() as session:
        await session.execute(
            text(
                "INSERT INTO analytics.syncs (id, workspace_id, status, total_posts) "
                "VALUES (:id, :w, 'running', 3)"
            ),
            {"id": sync_id, "w": workspace_id},
        )
    at = datetime.now(UTC)
    batch = fetched(
        account_id,
        workspace_id,
        at,
        [(post, "r1", 10)],
        failures=[(other, "r2", "unavailable")],
        sync_id=sync_id,
        followers=5,
    )
    event_id = await send(batch, account_id)
    await send(batch, account_id, event_id)  # the same message again (a redelivery)
    # A later batch on the same key (so the same partition, after the copies): once it is in,
    # both copies have been dealt with.
    marker = fetched(
        account_id, workspace_id, at + timedelta(seconds=1), [(other, "r2", 3)], sync_id=sync_id
    )
    await send(marker, account_id)
    sync = await until(
        lambda: row(
            db, "SELECT * FROM analytics.syncs WHERE id = :s AND finished_at IS NOT NULL", s=sync_id
        ),
        "the sync finished",
    )
    assert (sync["synced"], sync["failed"], sync["status"]) == (2, 1, "partial")
    assert sync["by_platform"] == {"x": {"synced": 2, "failed": 1}}
    assert [e["tracked_post_id"] for e in sync["errors"]] == [str(other)]
    snapshots = await rows(
        db,
        "SELECT tracked_post_id FROM analytics.post_snapshots WHERE account_id = :a",
        a=account_id,
    )
    assert sorted(str(s["tracked_post_id"]) for s in snapshots) == sorted([str(post), str(other)])
    assert (
        len(
            await rows(
                db, "SELECT 1 FROM analytics.account_snapshots WHERE account_id = :a", a=account_id
            )
        )
        == 1
    )


async def test_a_fetch_sent_again_under_a_new_event_id_adds_only_what_is_new(
    stack: Stack, db: Database, send: Callable[..., Awaitable[uuid.UUID]]
) -> None:
    """Snapshots go in by ``COPY``, which cannot skip a row already there: a fetch sent again
    under a new event id (which the inbox cannot recognise) takes the statement that skips
    them. Its new rows land, the copy adds nothing, the latest values stay the newest, a gap
    of the earlier fetch is cleared, and another account's post named in it is not written."""
    account_id, workspace_id = await tracked_account(db, send)
    other_account, other_workspace = await tracked_account(db, send)
    a = await track(db, send, account_id, workspace_id, "n1")
    b = await track(db, send, account_id, workspace_id, "n2")
    theirs = await track(db, send, other_account, other_workspace, "n3")
    at = datetime.now(UTC).replace(microsecond=0)
    later = at + timedelta(minutes=1)

    async def latest_views(post: uuid.UUID, views: int) -> None:
        await until(
            lambda: row(
                db,
                "SELECT 1 FROM analytics.post_latest WHERE tracked_post_id = :p AND views = :v",
                p=post,
                v=views,
            ),
            f"{views} views",
        )

    await send(
        fetched(account_id, workspace_id, at, [(a, "n1", 10)], failures=[(b, "n2", "unavailable")]),
        account_id,
    )
    await latest_views(a, 10)
    await send(fetched(account_id, workspace_id, later, [(a, "n1", 20)]), account_id)
    await latest_views(a, 20)
    again = fetched(account_id, workspace_id, at, [(a, "n1", 10), (b, "n2", 5), (theirs, "n3", 9)])
    await send(again, account_id)  # a new event id: not the inbox's to leave out
    await latest_views(b, 5)

    series = await rows(
        db,
        "SELECT fetched_at, views FROM analytics.post_snapshots WHERE tracked_post_id = :p "
        "ORDER BY fetched_at",
        p=a,
    )
    assert [(s["fetched_at"], s["views"]) for s in series] == [(at, 10), (later, 20)]
    latest = await row(db, "SELECT * FROM analytics.post_latest WHERE tracked_post_id = :p", p=a)
    assert (latest["fetched_at"], latest["views"]) == (later, 20)
    cleared = await row(db, "SELECT gap FROM analytics.tracked_posts WHERE id = :p", p=b)
    assert cleared["gap"] is None
    for table in ("post_snapshots", "post_latest"):
        assert not await rows(
            db, f"SELECT 1 FROM analytics.{table} WHERE tracked_post_id = :p", p=theirs
        )


async def test_a_batch_whose_posts_do_not_fit_the_contract_is_dead_lettered_alone(
    stack: Stack, infra: Infra, db: Database, send: Callable[..., Awaitable[uuid.UUID]]
) -> None:
    """The ingester leaves the posts to PostgreSQL to read (typed columns): a post that does
    not fit fails its batch, which is retried event by event; the bad event reaches the DLQ
    and the good ones around it land."""
    account_id, workspace_id = await tracked_account(db, send)
    post = await track(db, send, account_id, workspace_id, "m1")
    at = datetime.now(UTC).replace(microsecond=0)
    bad = fetched(account_id, workspace_id, at, [(post, "m1", 5)])
    body = json.loads(bad.model_dump_json())
    body["posts"][0]["views"] = "many"
    bad_id = await send(bad, account_id, body=json.dumps(body).encode())
    good = fetched(account_id, workspace_id, at + timedelta(seconds=1), [(post, "m1", 6)])
    await send(good, account_id)
    await until(
        lambda: row(
            db,
            "SELECT 1 FROM analytics.post_latest WHERE tracked_post_id = :p AND views = 6",
            p=post,
        ),
        "the good batch",
    )
    snapshots = await rows(
        db, "SELECT fetched_at FROM analytics.post_snapshots WHERE tracked_post_id = :p", p=post
    )
    assert [s["fetched_at"] for s in snapshots] == [at + timedelta(seconds=1)]
    reason = await dead_letter(infra, "metrics.fetched.dlq", bad_id)
    assert "bigint" in reason


async def dead_letter(infra: Infra, topic: str, event_id: uuid.UUID) -> str:
    """The ``x-dlq-reason`` of event ``event_id`` on ``topic`` (read from the beginning)."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=infra.kafka_bootstrap, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        async with asyncio.timeout(60):
            async for record in consumer:
                headers = {k: v.decode() for k, v in record.headers}
                if headers.get("ce_id") == str(event_id):
                    return headers["x-dlq-reason"]
    finally:
        await consumer.stop()
    raise AssertionError("unreachable")


# Retention --------------------------------------------------------------------------------


async def test_retention_rolls_an_expired_day_up_then_drops_its_partition(
    stack: Stack, db: Database, send: Callable[..., Awaitable[uuid.UUID]]
) -> None:
    settings = stack.analytics.settings
    account_id, workspace_id = await tracked_account(db, send)
    post = await track(db, send, account_id, workspace_id, "old1")
    today = datetime.now(UTC).date()
    old_day = today - timedelta(days=settings.raw_retention_days + 10)
    kept_day = today - timedelta(days=settings.raw_retention_days - 1)
    old = datetime(old_day.year, old_day.month, old_day.day, tzinfo=UTC)
    async with db.transaction() as session:
        repo = PartitionRepository(session)
        for day in (old_day, kept_day):
            await repo.create(POST_SNAPSHOTS, day)
        # Snapshots as the ingester leaves them (no post rollup): retention rolls the day's
        # last values up before it drops the partition.
        for minutes, views in ((5, 1), (50, 9), (30, 4)):
            await session.execute(
                text(
                    "INSERT INTO analytics.post_snapshots "
                    "(tracked_post_id, fetched_at, account_id, views, raw) "
                    "VALUES (:p, :t, :a, :v, '{}')"
                ),
                {"p": post, "t": old + timedelta(minutes=minutes), "a": account_id, "v": views},
            )
    done = await retention_turn(db, settings, today)
    assert partition_name(POST_SNAPSHOTS, old_day) in done.dropped
    async with db.transaction() as session:
        partitions = await PartitionRepository(session).partitions(POST_SNAPSHOTS)
    assert old_day not in partitions
    assert kept_day in partitions  # inside the retention window: kept
    for ahead in range(settings.partitions_ahead_days + 1):
        assert today + timedelta(days=ahead) in partitions
    daily = await rows(db, "SELECT * FROM analytics.post_daily WHERE tracked_post_id = :p", p=post)
    assert [(d["day"], d["views"], d["fetched_at"]) for d in daily] == [
        (old_day, 9, old + timedelta(minutes=50))
    ]
    assert str(daily[0]["workspace_id"]) == str(workspace_id)
