"""First comments' claims and records on the real PostgreSQL: a due comment is claimed once
across claimers side by side (``FOR UPDATE SKIP LOCKED``); a claim past its lease is claimed
again and says the comment may already be on the platform; only the current claim's record
is kept (a worker that outlived its lease cannot overwrite the one that took over)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, update

from publisher.context import PublisherContext
from publisher.models import CommentStatus, Target, TargetStatus
from publisher.publishing.repository import PublishingRepository
from services.publisher.tests.conftest import MovableClock, empty_schedule, publisher_context
from services.publisher.tests.factories import create_account, create_post, workspace


@pytest.fixture
async def comment_ctx(
    publisher_database: str, clock: MovableClock
) -> AsyncIterator[PublisherContext]:
    async with publisher_context(publisher_database, clock) as ctx:
        await empty_schedule(ctx)
        yield ctx


async def published_with_comments(ctx: PublisherContext, n: int, now: datetime) -> list[uuid.UUID]:
    ids = []
    async with ctx.db.transaction() as s:
        ws = workspace()
        for i in range(n):
            account = await create_account(s, workspace=ws, platform="facebook", username=f"p{i}")
            post = await create_post(
                s, workspace=ws, accounts=[account], statuses=[TargetStatus.PUBLISHED]
            )
            [target] = post.targets
            ids.append(target.id)
        await s.execute(
            update(Target)
            .where(Target.id.in_(ids))
            .values(
                options={"first_comment": "hello"},
                platform_post_id="1_2",
                comment_status=CommentStatus.PENDING.value,
                comment_due_at=now,
            )
        )
    return ids


async def claim(ctx: PublisherContext, now: datetime, limit: int = 50) -> list:
    async with ctx.db.transaction() as s:
        return await PublishingRepository(s).claim_comments(now, now + timedelta(seconds=30), limit)


async def test_claimers_side_by_side_take_each_due_comment_once(
    comment_ctx: PublisherContext, clock: MovableClock
) -> None:
    ids = await published_with_comments(comment_ctx, 20, clock.now)
    batches = await asyncio.gather(*(claim(comment_ctx, clock.now, 3) for _ in range(10)))
    claimed = [r.id for batch in batches for r in batch]
    assert sorted(claimed) == sorted(ids)  # every one, none twice
    assert all(r.was == "pending" and r.comment_attempts == 1 for b in batches for r in b)
    assert await claim(comment_ctx, clock.now) == []  # leased now


async def test_a_claim_past_its_lease_is_taken_again_and_only_the_current_one_records(
    comment_ctx: PublisherContext, clock: MovableClock
) -> None:
    [target_id] = await published_with_comments(comment_ctx, 1, clock.now)
    [first] = await claim(comment_ctx, clock.now)
    assert (first.was, first.comment_attempts) == ("pending", 1)
    # The first worker died (or hangs) past its lease: the comment is claimed again, and the
    # claim says it may be on the platform already (``posting``: look before posting).
    later = clock.now + timedelta(seconds=31)
    [second] = await claim(comment_ctx, later)
    assert (second.was, second.comment_attempts) == ("posting", 2)
    assert second.comment_started_at == first.comment_started_at
    async with comment_ctx.db.transaction() as s:
        repo = PublishingRepository(s)
        stale = await repo.record_comment(
            target_id, 1, status=CommentStatus.POSTED, comment_id="stale", error=None, due_at=None
        )
        current = await repo.record_comment(
            target_id, 2, status=CommentStatus.POSTED, comment_id="1_9", error=None, due_at=None
        )
    assert (stale, current) == (False, True)
    async with comment_ctx.db.transaction() as s:
        row = (await s.execute(select(Target).where(Target.id == target_id))).scalar_one()
    assert (row.comment_status, row.comment_id, row.comment_due_at) == ("posted", "1_9", None)
    assert await claim(comment_ctx, later + timedelta(days=1)) == []  # posted is final
