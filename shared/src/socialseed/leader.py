"""One leader across replicas for a singleton job: accounts' background jobs (refreshing
tokens, syncing profiles, purging connect states) and analytics' retention (partitions, old
snapshots). The publisher's dispatcher and analytics' fetchers need none: they claim rows
with ``FOR UPDATE SKIP LOCKED``, so every replica runs them.

Leadership is a Postgres session advisory lock named after the job, held on a connection of
its own for as long as the leader runs: if the leader's process dies its connection closes, the
lock goes with it, and another replica takes over on its next attempt.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, NoReturn

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from socialseed.db import Database

log = logging.getLogger(__name__)


def _key(name: str) -> ColumnElement[Any]:
    """The 64-bit advisory-lock key of a job name."""
    return func.hashtextextended(f"leader:{name}", 0)


async def _try_lead(conn: AsyncConnection, name: str) -> bool:
    leader = (await conn.execute(select(func.pg_try_advisory_lock(_key(name))))).scalar()
    await conn.commit()
    return bool(leader)


async def _resign(conn: AsyncConnection, name: str) -> None:
    """Give the lock back before the connection returns to the pool (a pooled connection
    would otherwise keep holding it). A broken connection has lost it already."""
    try:
        await conn.execute(select(func.pg_advisory_unlock(_key(name))))
        await conn.commit()
    except Exception:
        await conn.invalidate()


async def run_as_leader(
    db: Database, name: str, turn: Callable[[], Awaitable[object]], *, interval: float
) -> NoReturn:
    """Forever: try to lead ``name`` every ``interval`` seconds; while leading, run ``turn``
    every ``interval`` seconds. A failing turn gives leadership up and is retried later."""
    while True:
        try:
            async with db.engine.connect() as conn:
                if await _try_lead(conn, name):
                    try:
                        while True:
                            await turn()
                            await asyncio.sleep(interval)
                            await conn.execute(select(1))  # the lock lives with this connection
                            await conn.commit()
                    finally:
                        await _resign(conn, name)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.warning("%s: leader turn failed; retrying", name, exc_info=True)
        await asyncio.sleep(interval)
