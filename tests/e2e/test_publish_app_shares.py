"""Fair shares of the publisher's app-wide limits (``x:publish:app``: every workspace's
publishes to a platform together), on real PostgreSQL: a workspace that publishes as fast as
its accounts allow, from several workers at once, gets its share while another workspace
waits, and the other still publishes; alone, a workspace can use the whole limit.

The database is the test's own (shares follow which workspaces have targets due, so no other
test's targets may count)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

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
    database = Database(url, pool_size=12)
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
