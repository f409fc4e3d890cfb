"""What the publishing limits cost a claim, and that they hold across replicas.

Starts its own PostgreSQL (temp dir, free port) and migrates the publisher schema. Then:

- *cost*: the claim's own work (lock the target row) timed alone, and with the limit checks
  (``PublishLimits.hold``: the account's row lock and block, its rolling cap over published and
  in-flight targets, the app-wide window upsert), for an account with ``--history`` published
  targets in its window. Prints the medians and their ratio.
- *replicas*: ``--replicas`` databases engines (as many processes would) race ``--claims``
  claims for one X account with its cap (100 per 15 minutes); each allowed claim publishes
  (a published target). Prints how many were allowed: the cap, exactly, if the limits hold.

Figures, not assertions: the machine is shared and noisy.

    uv run python bench/publish_limits.py [--rounds 500] [--history 90] [--replicas 2]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from publisher.models import Post, Target, TargetStatus
from publisher.publishing.holds import PublishLimits, cap
from publisher.settings import PublisherSettings
from socialseed.db import Database
from socialseed.devstack.postgres import LocalPostgres
from socialseed.platforms import Platform, rate_rules
from socialseed.stack import SERVICES, migrate
from socialseed.testing import free_port


def _post(workspace: uuid.UUID, now: datetime) -> Post:
    return Post(
        id=uuid.uuid4(),
        workspace_id=workspace,
        author_id=uuid.uuid4(),
        text="bench",
        media_ids=[],
        scheduled_at=now,
        timezone="UTC",
        status="scheduled",
        approval="not_required",
    )


def _target(
    post: Post, account: uuid.UUID, position: int, status: str, at: datetime | None
) -> Target:
    return Target(
        id=uuid.uuid4(),
        post_id=post.id,
        position=position,
        workspace_id=post.workspace_id,
        account_id=account,
        platform=Platform.X.value,
        options={},
        status=status,
        progress={},
        published_at=at,
    )


async def seed(db: Database, account: uuid.UUID, history: int, pending: int) -> list[uuid.UUID]:
    """``history`` published targets of the account, and ``pending`` to claim (their ids)."""
    now = datetime.now(UTC)
    async with db.transaction() as session:
        post = _post(uuid.uuid4(), now)
        session.add(post)
        published = [
            _target(post, account, i, TargetStatus.PUBLISHED, now - timedelta(seconds=i + 1))
            for i in range(history)
        ]
        todo = [
            _target(post, account, history + i, TargetStatus.PUBLISHING, None)
            for i in range(pending)
        ]
        session.add_all(published + todo)
    return [t.id for t in todo]


async def claim(db: Database, target_id: uuid.UUID, limits: PublishLimits | None) -> bool:
    """One claim: lock the target, check the limits (unless None), publish if allowed."""
    async with db.transaction() as session:
        target = await session.scalar(
            select(Target).where(Target.id == target_id).with_for_update(of=Target)
        )
        assert target is not None
        now = datetime.now(UTC)
        if limits is not None and await limits.hold(session, target, now) is not None:
            return False
        if limits is not None:
            target.status, target.published_at = TargetStatus.PUBLISHED, now
        return True


async def cost(db: Database, rounds: int, history: int) -> None:
    settings = PublisherSettings(dev_mode=True)
    limits = PublishLimits(settings.budgets, settings.app_share_recheck)
    account = uuid.uuid4()
    # Never allowed to publish (below its cap) in the timed loop: the same target each round.
    [target] = await seed(db, account, history, 1)
    bare, checked = [], []
    for _ in range(rounds):
        start = time.perf_counter()
        await claim(db, target, None)
        bare.append(time.perf_counter() - start)
        start = time.perf_counter()
        async with db.transaction() as session:
            row = await session.scalar(
                select(Target).where(Target.id == target).with_for_update(of=Target)
            )
            assert row is not None
            await limits.hold(session, row, datetime.now(UTC))
        checked.append(time.perf_counter() - start)
    b, c = statistics.median(bare) * 1000, statistics.median(checked) * 1000
    print(
        f"claim alone: median {b:.2f} ms; with the limit checks: median {c:.2f} ms ({c / b:.2f}x)"
    )


async def replicas(url: str, count: int, claims: int) -> None:
    dbs = [Database(url, pool_size=20) for _ in range(count)]
    try:
        # The account's cap alone (no app-wide window).
        x_cap = cap(rate_rules("publishes")["x"])
        assert x_cap is not None
        limits = PublishLimits({"x": [x_cap]}, timedelta(minutes=1))
        account = uuid.uuid4()
        todo = await seed(dbs[0], account, 0, claims)
        start = time.perf_counter()
        allowed = await asyncio.gather(
            *(claim(dbs[i % count], t, limits) for i, t in enumerate(todo))
        )
        took = time.perf_counter() - start
        print(
            f"{count} replicas raced {claims} claims for one account (cap {x_cap.limit}): "
            f"{sum(allowed)} allowed in {took:.2f} s ({claims / took:,.0f} claims/s)"
        )
    finally:
        for db in dbs:
            await db.dispose()


async def main(rounds: int, history: int, count: int, claims: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        pg = LocalPostgres(Path(tmp) / "pg", port=free_port(), fast=True)
        pg.start()
        try:
            host, port = "127.0.0.1", pg.port
            spec = next(s for s in SERVICES if s.name == "publisher")
            await asyncio.to_thread(migrate, [spec], admin_url=pg.admin_url, host=host, port=port)
            url = spec.database_url(host, port)
            db = Database(url, pool_size=10)
            try:
                await cost(db, rounds, history)
            finally:
                await db.dispose()
            await replicas(url, count, claims)
        finally:
            pg.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=500)
    parser.add_argument("--history", type=int, default=90)
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--claims", type=int, default=300)
    args = parser.parse_args()
    asyncio.run(main(args.rounds, args.history, args.replicas, args.claims))
