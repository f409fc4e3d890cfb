"""The answer cache computes one answer per ETag at a time, whatever the number of requests
missing it together; a failed computation leaves the waiters to compute it themselves; an
expired answer is served while one request renews it."""

from __future__ import annotations

import asyncio

import pytest
from pydantic import BaseModel

from analytics.queries.caching import Answers


class Answer(BaseModel):
    n: int


class Computation:
    """An answer's computation that counts its runs: the ``n``-th answers ``{"n": n}``. Runs
    from ``held_from`` on wait for ``release``; the first ``failing`` runs raise."""

    def __init__(self, *, held_from: int = 1, failing: int = 0) -> None:
        self.runs = 0
        self.held_from = held_from
        self.failing = failing
        self.release = asyncio.Event()

    async def __call__(self) -> Answer:
        self.runs += 1
        run = self.runs
        if run >= self.held_from:
            await self.release.wait()
        if run <= self.failing:
            raise RuntimeError("database away")
        return Answer(n=run)


async def test_requests_missing_together_wait_for_one_computation() -> None:
    answers = Answers(maxsize=10, ttl=60)
    compute = Computation()
    waiting = [asyncio.create_task(answers.body("tag", compute)) for _ in range(20)]
    await asyncio.sleep(0)  # every request has missed the cache and is waiting
    compute.release.set()
    bodies = await asyncio.gather(*waiting)
    assert compute.runs == 1
    assert set(bodies) == {b'{"n":1}'}
    assert answers.computing == {}


async def test_a_failed_computation_leaves_a_waiter_to_compute() -> None:
    answers = Answers(maxsize=10, ttl=60)
    compute = Computation(failing=1)
    first = asyncio.create_task(answers.body("tag", compute))
    await asyncio.sleep(0)
    second = asyncio.create_task(answers.body("tag", compute))
    await asyncio.sleep(0)
    compute.release.set()
    with pytest.raises(RuntimeError):
        await first
    assert await second == b'{"n":2}'
    assert compute.runs == 2


async def test_a_cancelled_waiter_leaves_the_computation_running() -> None:
    answers = Answers(maxsize=10, ttl=60)
    compute = Computation()
    leader = asyncio.create_task(answers.body("tag", compute))
    await asyncio.sleep(0)
    waiter = asyncio.create_task(answers.body("tag", compute))
    await asyncio.sleep(0)
    waiter.cancel()
    await asyncio.gather(waiter, return_exceptions=True)
    compute.release.set()
    assert await leader == b'{"n":1}'


async def test_an_expired_answer_is_served_while_one_request_renews_it() -> None:
    now = 0.0
    answers = Answers(maxsize=10, ttl=30, clock=lambda: now)
    compute = Computation(held_from=2)
    assert await answers.body("tag", compute) == b'{"n":1}'
    now = 31.0  # past the ttl
    renewing = asyncio.create_task(answers.body("tag", compute))
    await asyncio.sleep(0)
    # Others are answered at once with the stored answer, without waiting or computing.
    assert await asyncio.wait_for(answers.body("tag", compute), 1) == b'{"n":1}'
    assert compute.runs == 2
    compute.release.set()
    assert await renewing == b'{"n":2}'
    assert await answers.body("tag", compute) == b'{"n":2}'
    assert compute.runs == 2
