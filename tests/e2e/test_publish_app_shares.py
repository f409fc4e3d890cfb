"""Fair shares of the publisher's app-wide limits (``x:publish:app``: every workspace's
publishes to a platform together), on real PostgreSQL: a workspace that publishes as fast as
its accounts allow, from several workers at once, gets its share while another workspace
waits, and the other still publishes; alone, a workspace can use the whole limit.

The database is the test's own (shares follow which workspaces have targets due, so no other
test's targets may count)."""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, select, text

from publisher.models import Post, Target, TargetStatus
from publisher.publishing.holds import Hold, PublishLimits
from socialseed.budgets.rules import Rule
from socialseed.db import Database
from socialseed.testing import Infra
from tests.conftest import own_publisher_database

LIMIT = 10


@pytest.fixture
async def db(infra: Infra) -> AsyncIterator[Database]:
    url = await own_publisher_database(infra, "socialseed_app_shares_publisher")
    database = Database(url, pool_size=24)
    async with database.transaction() as session:
        await session.execute(
            text(
                "TRUNCATE publisher.posts, publisher.targets, publisher.budgets,"
                " publisher.budget_shares CASCADE"
            )
        )
    yield database
    await database.dispose()


async def targets(db: Database, workspace: uuid.UUID, n: int) -> list[uuid.UUID]:
    """``n`` X targets of one account of ``workspace``, due now."""
    now = datetime.now(UTC)
    account = uuid.uuid4()
    async with db.transaction() as session:
        post = Post(
            workspace_id=workspace,
            author_id=uuid.uuid4(),
            text="hello",
            media_ids=[],
            scheduled_at=now,
            timezone="UTC",
            status="scheduled",
            approval="approved",
        )
        session.add(post)
        await session.flush()
        made = [
            Target(
                post_id=post.id,
                position=i,
                workspace_id=workspace,
                account_id=account,
                platform="x",
                options={},
                status=TargetStatus.SCHEDULED,
                due_at=now,
                progress={},
            )
            for i in range(n)
        ]
        session.add_all(made)
        await session.flush()
        return [t.id for t in made]


async def publish(db: Database, limits: PublishLimits, target_id: uuid.UUID) -> Hold | None:
    """A worker's claim: the limits, then the target published (or waiting, if held)."""
    now = datetime.now(UTC)
    async with db.transaction() as session:
        target = await session.get(Target, target_id, with_for_update=True)
        assert target is not None
        hold = await limits.hold(session, target, now)
        if hold is None:
            target.status, target.published_at, target.due_at = TargetStatus.PUBLISHED, now, None
        else:
            target.status, target.due_at = TargetStatus.WAITING, hold.until
        return hold


async def test_a_greedy_workspace_cannot_take_the_others_share_of_an_app_limit(
    db: Database,
) -> None:
    app = Rule(bucket="x:publish:app", limit=LIMIT, every=timedelta(days=1))
    limits = PublishLimits({"x": [app]}, recheck=timedelta(minutes=1))
    greedy = await targets(db, uuid.uuid4(), 20)
    [other] = await targets(db, uuid.uuid4(), 1)

    holds = await asyncio.gather(*(publish(db, limits, t) for t in greedy))
    assert sum(1 for h in holds if h is None) == LIMIT // 2
    held = [h for h in holds if h is not None]
    assert all("share" in h.reason for h in held)
    assert all(h.until <= datetime.now(UTC) + limits.recheck for h in held)

    assert await publish(db, limits, other) is None  # the window was left open for it

    # The other workspace has nothing left to publish: the greedy one, alone, takes the rest
    # of the window, then waits for the next one like everyone.
    waiting = [t for t, h in zip(greedy, holds, strict=True) if h is not None]
    after = [await publish(db, limits, t) for t in waiting]
    assert sum(1 for h in after if h is None) == LIMIT - LIMIT // 2 - 1
    assert all("reached x's limit" in h.reason for h in after if h is not None)


async def claim_batch(
    db: Database, limits: PublishLimits, target_ids: list[uuid.UUID]
) -> tuple[list[Hold | None], int]:
    """A worker's claim of a batch (``PublishLimits.batch``, as ``Worker._claim`` does): the
    targets' holds in order, and how many statements the limits took."""
    now = datetime.now(UTC)
    statements = 0

    def count(*_: object) -> None:
        nonlocal statements
        statements += 1

    async with db.transaction() as session:
        rows = list(
            await session.scalars(select(Target).where(Target.id.in_(target_ids)).with_for_update())
        )
        rows.sort(key=lambda t: target_ids.index(t.id))
        pending: dict[uuid.UUID, list[datetime]] = defaultdict(list)
        event.listen(db.engine.sync_engine, "before_cursor_execute", count)
        try:
            batch = await limits.batch(session, rows, now, pending, {})
            holds = []
            for call, target in enumerate(rows):
                hold = await batch.hold(call)
                if hold is None:
                    pending[target.account_id].append(now)
                holds.append(hold)
            await batch.write()
        finally:
            event.remove(db.engine.sync_engine, "before_cursor_execute", count)
        for target, hold in zip(rows, holds, strict=True):
            if hold is None:
                target.status, target.published_at, target.due_at = "published", now, None
            else:
                target.status, target.due_at = TargetStatus.WAITING, hold.until
    return holds, statements


async def test_a_batch_claim_counts_caps_and_shares_in_a_fixed_number_of_statements(
    db: Database,
) -> None:
    """A claim of many targets checks their limits in a handful of statements whatever the
    batch's size, and counts exactly what target-by-target checks would: each account's cap
    (publishes let through earlier in the batch included), the app window, the workspace's
    share while another workspace waits; and stores the counts for the next claim."""
    app = Rule(bucket="x:publish:app", limit=LIMIT, every=timedelta(days=1))
    cap = Rule(
        bucket="x:publish:{user}", scope="account", limit=3, every=timedelta(minutes=15),
        window="rolling",
    )  # fmt: skip
    limits = PublishLimits({"x": [cap, app]}, recheck=timedelta(minutes=1))
    greedy = uuid.uuid4()
    first, second = await targets(db, greedy, 8), await targets(db, greedy, 8)
    [other] = await targets(db, uuid.uuid4(), 1)

    holds, statements = await claim_batch(db, limits, first + second)
    # The first account: its cap of 3; the second: the rest of the workspace's share (half
    # of 10 while the other workspace waits).
    assert [h is None for h in holds[:8]] == [True] * 3 + [False] * 5
    assert [h is None for h in holds[8:]] == [True] * 2 + [False] * 6
    assert all("cap of 3" in h.reason for h in holds[3:8] if h is not None)
    assert all("share" in h.reason for h in holds[10:] if h is not None)
    # Rows locked and read (1), shares (1), recent publishes (1), waiting workspaces (1),
    # counts and shares written (2): not a few statements per target.
    assert statements <= 6, statements

    async with db.transaction() as session:
        used = await session.scalar(
            text("SELECT used FROM publisher.budgets WHERE bucket = 'x:publish:app'")
        )
        share = await session.scalar(
            text("SELECT used FROM publisher.budget_shares WHERE workspace_id = :w"),
            {"w": greedy},
        )
    assert (used, share) == (5, 5)

    # The next claim sees what this one counted: the other workspace still gets its turn.
    [alone], _ = await claim_batch(db, limits, [other])
    assert alone is None
