"""Workspaces and their members. Roles are read from the database here (auth owns them), so a
change takes effect at once in auth and at the next token refresh in other services."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from auth.deps import AuthContext
from auth.models import Membership, Workspace
from auth.users.repository import UserRepository
from auth.users.service import normalise_email
from auth.workspaces.repository import WorkspaceRepository
from auth.workspaces.schemas import MemberOut, WorkspaceOut, WorkspacePatch
from socialseed.contracts import WorkspaceMemberChanged
from socialseed.errors import Conflict, Forbidden, NotFound
from socialseed.security import ROLE_RANK, Role


class WorkspaceNotFound(NotFound):
    default_detail = "Workspace not found."


class MemberNotFound(NotFound):
    default_detail = "This user is not a member of the workspace."


class UserNotFound(NotFound):
    default_detail = "No SocialSeed user has this email; ask them to register first."


class AlreadyMember(Conflict):
    default_detail = "This user is already a member; change their role instead."


class LastOwner(Conflict):
    default_detail = "A workspace keeps at least one owner."


class InsufficientRole(Forbidden):
    pass


def _require(role: str, minimum: Role) -> None:
    if ROLE_RANK[role] < ROLE_RANK[minimum]:
        raise InsufficientRole(f"This needs the {minimum} role or higher; you are {role}.")


def _out(ws: Workspace, role: str | None) -> WorkspaceOut:
    return WorkspaceOut(
        id=ws.id,
        name=ws.name,
        timezone=ws.timezone,
        require_approval=ws.require_approval,
        role=role,
    )


def _member_out(m: Membership) -> MemberOut:
    return MemberOut(
        workspace_id=m.workspace_id,
        user_id=m.user_id,
        email=m.user.email,
        name=m.user.name,
        role=m.role,
    )


class WorkspaceService:
    async def create(
        self,
        session: AsyncSession,
        ctx: AuthContext,
        *,
        user_id: uuid.UUID,
        name: str,
        timezone: str,
        require_approval: bool,
    ) -> WorkspaceOut:
        if await UserRepository(session).by_id(user_id) is None:
            raise NotFound("User not found.")
        repo = WorkspaceRepository(session)
        ws = await repo.add(
            Workspace(name=name.strip(), timezone=timezone, require_approval=require_approval)
        )
        await repo.add_member(Membership(workspace_id=ws.id, user_id=user_id, role="owner"))
        await self._emit(session, ctx, ws.id, user_id, "added", "owner", by=user_id)
        return _out(ws, "owner")

    async def for_user(self, session: AsyncSession, user_id: uuid.UUID) -> list[WorkspaceOut]:
        return [_out(ws, role) for ws, role in await WorkspaceRepository(session).for_user(user_id)]

    async def get(
        self, session: AsyncSession, workspace_id: uuid.UUID, user_id: uuid.UUID
    ) -> WorkspaceOut:
        ws, role = await self._membership(session, workspace_id, user_id)
        return _out(ws, role)

    async def update(
        self,
        session: AsyncSession,
        workspace_id: uuid.UUID,
        user_id: uuid.UUID,
        patch: WorkspacePatch,
    ) -> WorkspaceOut:
        ws, role = await self._membership(session, workspace_id, user_id, lock=True)
        _require(role, "admin")
        for field, value in patch.model_dump(exclude_unset=True, exclude_none=True).items():
            setattr(ws, field, value)
        await session.flush()
        return _out(ws, role)

    async def members(
        self, session: AsyncSession, workspace_id: uuid.UUID, user_id: uuid.UUID
    ) -> list[MemberOut]:
        await self._membership(session, workspace_id, user_id)
        return [_member_out(m) for m in await WorkspaceRepository(session).members(workspace_id)]

    async def add_member(
        self,
        session: AsyncSession,
        ctx: AuthContext,
        workspace_id: uuid.UUID,
        user_id: uuid.UUID,
        *,
        email: str,
        role: Role,
    ) -> MemberOut:
        _, my_role = await self._membership(session, workspace_id, user_id, lock=True)
        _require(my_role, "owner" if role == "owner" else "admin")
        user = await UserRepository(session).by_email(normalise_email(email))
        if user is None:
            raise UserNotFound()
        repo = WorkspaceRepository(session)
        if await repo.member(workspace_id, user.id) is not None:
            raise AlreadyMember()
        await repo.add_member(Membership(workspace_id=workspace_id, user_id=user.id, role=role))
        await self._emit(session, ctx, workspace_id, user.id, "added", role, by=user_id)
        member = await repo.member(workspace_id, user.id)
        assert member is not None
        return _member_out(member)

    async def change_role(
        self,
        session: AsyncSession,
        ctx: AuthContext,
        workspace_id: uuid.UUID,
        user_id: uuid.UUID,
        *,
        member_id: uuid.UUID,
        role: Role,
    ) -> MemberOut:
        _, my_role = await self._membership(session, workspace_id, user_id, lock=True)
        repo = WorkspaceRepository(session)
        member = await repo.member(workspace_id, member_id)
        if member is None:
            raise MemberNotFound()
        touches_owner = "owner" in (role, member.role)
        _require(my_role, "owner" if touches_owner else "admin")
        if member.role == "owner" and role != "owner" and await repo.owner_count(workspace_id) <= 1:
            raise LastOwner()
        if member.role != role:
            member.role = role
            await session.flush()
            await self._emit(
                session, ctx, workspace_id, member_id, "role_changed", role, by=user_id
            )
        return _member_out(member)

    async def remove_member(
        self,
        session: AsyncSession,
        ctx: AuthContext,
        workspace_id: uuid.UUID,
        user_id: uuid.UUID,
        *,
        member_id: uuid.UUID,
    ) -> None:
        _, my_role = await self._membership(session, workspace_id, user_id, lock=True)
        repo = WorkspaceRepository(session)
        member = await repo.member(workspace_id, member_id)
        if member is None:
            raise MemberNotFound()
        if member_id != user_id:  # anyone may leave; removing others needs a role
            _require(my_role, "owner" if member.role == "owner" else "admin")
        if member.role == "owner" and await repo.owner_count(workspace_id) <= 1:
            raise LastOwner()
        await repo.remove_member(workspace_id, member_id)
        await self._emit(session, ctx, workspace_id, member_id, "removed", None, by=user_id)

    async def _membership(
        self,
        session: AsyncSession,
        workspace_id: uuid.UUID,
        user_id: uuid.UUID,
        *,
        lock: bool = False,
    ) -> tuple[Workspace, str]:
        found = await WorkspaceRepository(session).with_role(workspace_id, user_id, lock=lock)
        if found is None:
            raise WorkspaceNotFound()  # another tenant's workspace looks like none at all
        return found

    async def _emit(
        self,
        session: AsyncSession,
        ctx: AuthContext,
        workspace_id: uuid.UUID,
        member_id: uuid.UUID,
        change: str,
        role: str | None,
        *,
        by: uuid.UUID,
    ) -> None:
        await ctx.outbox.add(
            session,
            WorkspaceMemberChanged(
                workspace_id=workspace_id,
                user_id=member_id,
                change=change,
                role=role,
                changed_by=by,
                changed_at=datetime.now(UTC),
            ),
            key=str(workspace_id),
        )


workspaces = WorkspaceService()
