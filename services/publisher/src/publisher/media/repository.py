from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from publisher.models import Media


class MediaRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def in_workspace(
        self, workspace_id: uuid.UUID, ids: set[uuid.UUID]
    ) -> dict[uuid.UUID, Media]:
        """The workspace's media among ``ids`` (another workspace's are simply absent)."""
        if not ids:
            return {}
        rows = await self.session.scalars(
            select(Media).where(Media.workspace_id == workspace_id, Media.id.in_(ids))
        )
        return {m.id: m for m in rows}
