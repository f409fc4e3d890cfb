"""One leader per job name across replicas; a leader that stops or fails lets another lead."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest

from socialseed.db import Database
from socialseed.leader import _try_lead, run_as_leader
from socialseed.testing import Infra


@pytest.fixture
async def replicas(infra: Infra) -> AsyncIterator[tuple[Database, Database]]:
    a, b = (Database(infra.service_url("accounts"), pool_size=2) for _ in range(2))
    yield a, b
    await a.dispose()
    await b.dispose()


async def can_lead(db: Database, name: str) -> bool:
    """Whether another replica could take the lead now (it gives the lock straight back)."""
    async with db.engine.connect() as conn:
        if not await _try_lead(conn, name):
            return False
        await conn.invalidate()
        return True


async def eventually_can_lead(db: Database, name: str) -> bool:
    for _ in range(200):
        if await can_lead(db, name):
            return True
        await asyncio.sleep(0.05)
    return False


async def test_one_leader_then_a_successor(replicas: tuple[Database, Database]) -> None:
    a, b = replicas
    name = f"test-{uuid.uuid4().hex}"
    led_a, led_b = asyncio.Event(), asyncio.Event()

    async def turn(event: asyncio.Event) -> None:
        event.set()

    first = asyncio.create_task(run_as_leader(a, name, lambda: turn(led_a), interval=0.05))
    await asyncio.wait_for(led_a.wait(), timeout=10)
    assert not await can_lead(b, name)  # the leader holds it
    second = asyncio.create_task(run_as_leader(b, name, lambda: turn(led_b), interval=0.05))
    first.cancel()
    await asyncio.gather(first, return_exceptions=True)
    await asyncio.wait_for(led_b.wait(), timeout=10)  # the other replica took over
    second.cancel()
    await asyncio.gather(second, return_exceptions=True)


async def test_a_failing_turn_gives_the_lead_up(replicas: tuple[Database, Database]) -> None:
    """The lock is released, not kept by the connection going back to the leader's pool."""
    a, b = replicas
    name = f"test-{uuid.uuid4().hex}"
    failed = asyncio.Event()

    async def failing_turn() -> None:
        failed.set()
        raise RuntimeError("the turn broke")

    # a long interval: after its failure the first replica waits, so the lock must be free
    leader = asyncio.create_task(run_as_leader(a, name, failing_turn, interval=600))
    try:
        await asyncio.wait_for(failed.wait(), timeout=10)
        assert await eventually_can_lead(b, name)
    finally:
        leader.cancel()
        await asyncio.gather(leader, return_exceptions=True)
