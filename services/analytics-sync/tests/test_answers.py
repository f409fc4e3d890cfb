"""The answer cache computes one answer per ETag at a time, whatever the number of requests
missing it together, and a failed computation leaves the waiters to compute it themselves."""

from __future__ import annotations

import asyncio

import pytest
from pydantic import BaseModel

from analytics.queries.caching import Answers


class Answer(BaseModel):
    n: int


async def test_requests_missing_together_wait_for_one_computation() -> None:
    answers = Answers(maxsize=10, ttl=60)
    computed = 0
    release = asyncio.Event()

    async def compute() -> Answer:
        nonlocal computed
        computed += 1
        await release.wait()
        return Answer(n=computed)

    waiting = [asyncio.create_task(answers.body("tag", compute)) for _ in range(20)]
    await asyncio.sleep(0)  # every request has missed the cache and is waiting
    release.set()
    bodies = await asyncio.gather(*waiting)
    assert computed == 1
    assert set(bodies) == {b'{"n":1}'}
    assert answers.computing == {}


async def test_a_failed_computation_leaves_a_waiter_to_compute() -> None:
    answers = Answers(maxsize=10, ttl=60)
    calls = 0
    release = asyncio.Event()

    async def compute() -> Answer:
        nonlocal calls
        calls += 1
        await release.wait()
        if calls == 1:
            raise RuntimeError("database away")
        return Answer(n=calls)

    first = asyncio.create_task(answers.body("tag", compute))
    await asyncio.sleep(0)
    second = asyncio.create_task(answers.body("tag", compute))
    await asyncio.sleep(0)
    release.set()
    with pytest.raises(RuntimeError):
        await first
    assert await second == b'{"n":2}'
    assert calls == 2


async def test_a_cancelled_waiter_leaves_the_computation_running() -> None:
    answers = Answers(maxsize=10, ttl=60)
    release = asyncio.Event()

    async def compute() -> Answer:
        await release.wait()
        return Answer(n=1)

    leader = asyncio.create_task(answers.body("tag", compute))
    await asyncio.sleep(0)
    waiter = asyncio.create_task(answers.body("tag", compute))
    await asyncio.sleep(0)
    waiter.cancel()
    await asyncio.gather(waiter, return_exceptions=True)
    release.set()
    assert await leader == b'{"n":1}'


async def test_an_expired_answer_is_served_while_one_request_renews_it() -> None:
    now = 0.0
    answers = Answers(maxsize=10, ttl=30, clock=lambda: now)
    release = asyncio.Event()
    computed = 0

    async def compute() -> Answer:
        nonlocal computed
        computed += 1
        if computed > 1:
            await release.wait()
        return Answer(n=computed)

    assert await answers.body("tag", compute) == b'{"n":1}'
    now = 31.0  # past the ttl
    renewing = asyncio.create_task(answers.body("tag", compute))
    await asyncio.sleep(0)
    # Others are answered at once with the stored answer, without waiting or computing.
    assert await asyncio.wait_for(answers.body("tag", compute), 1) == b'{"n":1}'
    assert computed == 2
    release.set()
    assert await renewing == b'{"n":2}'
    assert await answers.body("tag", compute) == b'{"n":2}'
    assert computed == 2
