from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload
from sqlalchemy.sql import ColumnElement

from auth.models import Invitation, Membership, Workspace


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

    async def lock(self, workspace_id: uuid.UUID) -> None:
        """Serialise membership changes of one workspace (see with_role)."""
        await self.session.execute(
            select(Workspace.id).where(Workspace.id == workspace_id).with_for_update()
        )

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


def _open() -> list[ColumnElement[bool]]:
    return [
        Invitation.accepted_at.is_(None),
        Invitation.declined_at.is_(None),
        Invitation.revoked_at.is_(None),
    ]


class InvitationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def replace(self, invitation: Invitation, now: datetime) -> Invitation:
        """Revoke the open invitation of this workspace and email (if any), add this one."""
        await self.session.execute(
            update(Invitation)
            .where(
                Invitation.workspace_id == invitation.workspace_id,
                Invitation.email == invitation.email,
                *_open(),
            )
            .values(revoked_at=now)
        )
        self.session.add(invitation)
        await self.session.flush()
        return invitation

    async def pending_for_workspace(
        self, workspace_id: uuid.UUID, now: datetime
    ) -> list[Invitation]:
        result = await self.session.execute(
            select(Invitation)
            .where(Invitation.workspace_id == workspace_id, Invitation.expires_at > now, *_open())
            .order_by(Invitation.created_at, Invitation.id)
        )
        return list(result.scalars())

    async def pending_for_email(
        self, email: str, now: datetime
    ) -> list[tuple[Invitation, Workspace]]:
        result = await self.session.execute(
            select(Invitation, Workspace)
            .join(Workspace, Workspace.id == Invitation.workspace_id)
            .where(Invitation.email == email, Invitation.expires_at > now, *_open())
            .order_by(Invitation.created_at, Invitation.id)
        )
        return list(result.tuples())

    async def pending(
        self, invitation_id: uuid.UUID, now: datetime, *, lock: bool = False
    ) -> Invitation | None:
        """The invitation if it is still open and unexpired (locked: accepted at most once)."""
        query = select(Invitation).where(
            Invitation.id == invitation_id, Invitation.expires_at > now, *_open()
        )
        if lock:
            # It may have been read unlocked just before: take the locked state.
            query = query.with_for_update().execution_options(populate_existing=True)
        return (await self.session.execute(query)).scalar_one_or_none()
