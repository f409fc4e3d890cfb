"""The inbox forgets ids older than its retention and keeps the recent ones."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from socialseed.bus import Inbox
from socialseed.db import Database
from tests.bus.schema import inbox


async def _ids(db: Database, consumer: str) -> set[uuid.UUID]:
    async with db.transaction() as session:
        rows = await session.execute(select(inbox.c.event_id).where(inbox.c.consumer == consumer))
        return set(rows.scalars())


async def test_purge_drops_only_ids_past_the_retention(bus_db: Database) -> None:
    consumer = f"purge-{uuid.uuid4().hex[:8]}"
    now = datetime.now(UTC)
    old = [uuid.uuid4() for _ in range(7)]
    recent = [uuid.uuid4() for _ in range(3)]
    async with bus_db.transaction() as session:
        for event_id in old:
            await session.execute(
                inbox.insert().values(
                    consumer=consumer, event_id=event_id, processed_at=now - timedelta(days=20)
                )
            )
        for event_id in recent:
            await session.execute(
                inbox.insert().values(consumer=consumer, event_id=event_id, processed_at=now)
            )
    # Small batches: the loop must go round until nothing old is left.
    deleted = await Inbox(inbox).purge(bus_db, older_than=now - timedelta(days=14), batch=2)
    assert deleted >= len(old)
    assert await _ids(bus_db, consumer) == set(recent)
    async with bus_db.transaction() as session:
        left = await session.execute(
            select(func.count()).where(inbox.c.processed_at < now - timedelta(days=14))
        )
        assert left.scalar_one() == 0
