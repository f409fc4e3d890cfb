from __future__ import annotations

import uuid

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from auth.models import Membership, Workspace


class WorkspaceRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, workspace: Workspace) -> Workspace:
        self.session.add(workspace)
        await self.session.flush()
        return workspace

    async def with_role(
        self, workspace_id: uuid.UUID, user_id: uuid.UUID, *, lock: bool = False
    ) -> tuple[Workspace, str] | None:
        """The workspace and the user's role in it; None if it does not exist for them."""
        query = (
            select(Workspace, Membership.role)
            .join(Membership, Membership.workspace_id == Workspace.id)
            .where(Workspace.id == workspace_id, Membership.user_id == user_id)
        )
        if lock:
            # Serialises membership changes of one workspace (e.g. two admins demoting the
            # last two owners at once).
            query = query.with_for_update(of=Workspace)
        row = (await self.session.execute(query)).tuples().first()
        return (row[0], row[1]) if row else None

    async def for_user(self, user_id: uuid.UUID) -> list[tuple[Workspace, str]]:
        rows = await self.session.execute(
            select(Workspace, Membership.role)
            .join(Membership, Membership.workspace_id == Workspace.id)
            .where(Membership.user_id == user_id)
            .order_by(Workspace.created_at, Workspace.id)
        )
        return list(rows.tuples())

    async def member(self, workspace_id: uuid.UUID, user_id: uuid.UUID) -> Membership | None:
        result = await self.session.execute(
            select(Membership)
            .options(selectinload(Membership.user))
            .where(Membership.workspace_id == workspace_id, Membership.user_id == user_id)
        )
        return result.scalar_one_or_none()

    async def members(self, workspace_id: uuid.UUID) -> list[Membership]:
        result = await self.session.execute(
            select(Membership)
            .options(selectinload(Membership.user))
            .where(Membership.workspace_id == workspace_id)
            .order_by(Membership.created_at)
        )
        return list(result.scalars())

    async def add_member(self, membership: Membership) -> None:
        self.session.add(membership)
        await self.session.flush()

    async def remove_member(self, workspace_id: uuid.UUID, user_id: uuid.UUID) -> None:
        await self.session.execute(
            delete(Membership).where(
                Membership.workspace_id == workspace_id, Membership.user_id == user_id
            )
        )

    async def owner_count(self, workspace_id: uuid.UUID) -> int:
        count = await self.session.execute(
            select(func.count()).where(
                Membership.workspace_id == workspace_id, Membership.role == "owner"
            )
        )
        return int(count.scalar_one())
