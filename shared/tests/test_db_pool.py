"""A process's pool holds at most ``pool_size`` connections and keeps each one it opened: a
load that needs more waits for them and does not open and close backends over and over (no
overflow)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text

from socialseed.db import Database
from socialseed.testing import Infra

SIZE = 4


@pytest.fixture
async def db(infra: Infra) -> AsyncIterator[Database]:
    database = Database(infra.service_url("accounts"), pool_size=SIZE)
    yield database
    await database.dispose()


async def test_three_times_the_pool_s_size_in_flight_share_its_connections(db: Database) -> None:
    backends: list[int] = []
    go_on = asyncio.Event()

    async def hold() -> None:
        async with db.autocommit.connect() as conn:
            backends.append((await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one())
            await go_on.wait()

    holders = [asyncio.create_task(hold()) for _ in range(3 * SIZE)]
    async with asyncio.timeout(30):
        while len(backends) < SIZE:  # the first wave holds every connection there is
            await asyncio.sleep(0.01)
        go_on.set()
        await asyncio.gather(*holders)
    assert len(backends) == 3 * SIZE
    # Every holder ran on one of the first wave's connections: none was opened beyond the
    # size, none was closed and replaced.
    assert len(set(backends)) == SIZE, sorted(backends)
