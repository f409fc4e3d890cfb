"""SQL of API keys."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import Select, select, update

from auth.models import ApiKey, Membership
from socialseed.errors import NotFound
from socialseed.repository import Repository

# last_used_at is written at most this often per key: not a write per request.
LAST_USED_EVERY = timedelta(minutes=1)


class ApiKeyNotFound(NotFound):
    default_detail = "No API key with this id in your workspaces."


class ApiKeyRepository(Repository[ApiKey]):
    model = ApiKey
    not_found = ApiKeyNotFound

    def readable(self, user_id: uuid.UUID) -> Select[ApiKey]:
        """Live keys of the workspaces ``user_id`` is a member of (roles are checked after)."""
        mine = select(Membership.workspace_id).where(Membership.user_id == user_id)
        return self.statement().where(
            ApiKey.workspace_id.in_(mine.scalar_subquery()), ApiKey.revoked_at.is_(None)
        )

    async def of_workspace(self, user_id: uuid.UUID, workspace_id: uuid.UUID) -> list[ApiKey]:
        return await self.all(
            self.readable(user_id)
            .where(ApiKey.workspace_id == workspace_id)
            .order_by(ApiKey.created_at.desc(), ApiKey.id)
        )

    async def get(self, user_id: uuid.UUID, key_id: uuid.UUID) -> ApiKey:
        """A live key of one of the caller's workspaces (another workspace's: 404)."""
        return await self.one(self.readable(user_id).where(ApiKey.id == key_id), lock=True)

    async def live_by_hash_unscoped(self, key_hash: bytes) -> tuple[ApiKey, str] | None:
        """The live key with this hash and its creator's current role in its workspace (the
        exchange: the key is the credential, there is no principal yet)."""
        row = (
            await self.session.execute(
                select(ApiKey, Membership.role)
                .join(
                    Membership,
                    (Membership.workspace_id == ApiKey.workspace_id)
                    & (Membership.user_id == ApiKey.created_by),
                )
                .where(ApiKey.key_hash == key_hash, ApiKey.revoked_at.is_(None))
            )
        ).first()
        return (row[0], row[1]) if row else None

    async def touch(self, key_id: uuid.UUID, now: datetime) -> None:
        """Move last_used_at to ``now`` unless it moved within LAST_USED_EVERY."""
        await self.session.execute(
            update(ApiKey)
            .where(
                ApiKey.id == key_id,
                (ApiKey.last_used_at.is_(None)) | (ApiKey.last_used_at < now - LAST_USED_EVERY),
            )
            .values(last_used_at=now)
        )
