"""The inbox: processed event ids per consumer, so a redelivered event has no second
effect."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Table, bindparam, delete, func, literal, select, tuple_
from sqlalchemy.dialects.postgresql import ARRAY, UUID, insert
from sqlalchemy.ext.asyncio import AsyncSession

from socialseed.db import Database


class Inbox:
    """Processed event ids per consumer: a redelivered event has no second effect."""

    def __init__(self, table: Table) -> None:
        self.table = table

    async def claim(self, session: AsyncSession, consumer: str, event_id: uuid.UUID) -> bool:
        """True if this is the first time; blocks while a concurrent claimant's tx is open."""
        return event_id in await self.claim_many(session, consumer, [event_id])

    async def claim_many(
        self, session: AsyncSession, consumer: str, event_ids: list[uuid.UUID]
    ) -> set[uuid.UUID]:
        """The ids among ``event_ids`` seen for the first time, claimed in one statement."""
        if not event_ids:
            return set()
        t = self.table
        ids = select(literal(consumer), func.unnest(bindparam("ids", type_=ARRAY(UUID))))
        inserted = await session.execute(
            insert(t)
            .from_select([t.c.consumer, t.c.event_id], ids)
            .on_conflict_do_nothing()
            .returning(t.c.event_id),
            {"ids": event_ids},
        )
        return set(inserted.scalars())

    async def purge(self, db: Database, *, older_than: datetime, batch: int = 5000) -> int:
        """Forget ids processed before ``older_than``, in short batches (other consumers keep
        inserting meanwhile). The retention must be longer than the topics' own: an id is only
        needed while its message can still be redelivered."""
        t = self.table
        total = 0
        while True:
            async with db.transaction() as session:
                oldest = (
                    select(t.c.consumer, t.c.event_id)
                    .where(t.c.processed_at < older_than)
                    .limit(batch)
                    .with_for_update(skip_locked=True)
                )
                deleted = await session.execute(
                    delete(t)
                    .where(tuple_(t.c.consumer, t.c.event_id).in_(oldest))
                    .returning(t.c.event_id)
                )
                n = len(deleted.all())
            total += n
            if n < batch:
                return total
