"""SQL of idempotency keys: the per-key lock, the stored first answer, its purge."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, tuple_
from sqlalchemy.dialects.postgresql import insert

from publisher.models import IdempotencyRecord
from socialseed.repository import Repository


class IdempotencyRepository(Repository[IdempotencyRecord]):
    model = IdempotencyRecord

    async def try_lock(self, workspace_id: uuid.UUID, caller_id: uuid.UUID, key: str) -> bool:
        """Take the key's transaction-level advisory lock without waiting: False while another
        transaction (a request with the same key still running) holds it. Released with the
        transaction, whatever ends it (commit, rollback, a dropped connection)."""
        name = f"idempotency:{workspace_id}:{caller_id}:{key}"
        taken = await self.session.scalar(
            select(func.pg_try_advisory_xact_lock(func.hashtextextended(name, 0)))
        )
        return bool(taken)

    async def find(
        self, workspace_id: uuid.UUID, caller_id: uuid.UUID, key: str, since: datetime
    ) -> IdempotencyRecord | None:
        """The caller's record of ``key`` in the workspace, if written after ``since``."""
        return await self.one_or_none(
            self.statement().where(
                IdempotencyRecord.workspace_id == workspace_id,
                IdempotencyRecord.caller_id == caller_id,
                IdempotencyRecord.key == key,
                IdempotencyRecord.created_at > since,
            )
        )

    async def save(
        self,
        workspace_id: uuid.UUID,
        caller_id: uuid.UUID,
        key: str,
        *,
        fingerprint: str,
        status_code: int,
        body: Any,
    ) -> None:
        """Record the first answer (replacing an expired record of the same key that the purge
        has not removed yet: the lock is held, so nothing else writes it meanwhile)."""
        values = {
            "fingerprint": fingerprint,
            "status_code": status_code,
            "body": body,
            "created_at": func.now(),
        }
        stmt = insert(IdempotencyRecord).values(
            workspace_id=workspace_id, caller_id=caller_id, key=key, **values
        )
        await self.session.execute(
            stmt.on_conflict_do_update(
                index_elements=["workspace_id", "caller_id", "key"], set_=values
            )
        )

    async def purge(self, before: datetime, *, limit: int) -> int:
        """Delete at most ``limit`` records written before ``before``; how many went."""
        doomed = (
            select(IdempotencyRecord.workspace_id, IdempotencyRecord.caller_id,
                   IdempotencyRecord.key)
            .where(IdempotencyRecord.created_at < before)
            .limit(limit)
        )  # fmt: skip
        result = await self.session.execute(
            delete(IdempotencyRecord).where(
                tuple_(
                    IdempotencyRecord.workspace_id,
                    IdempotencyRecord.caller_id,
                    IdempotencyRecord.key,
                ).in_(doomed)
            )
        )
        return int(result.rowcount)  # type: ignore[attr-defined]
