"""Workspaces and their members. Roles are read from the database here (auth owns them), so a
change takes effect at once in auth and at the next token refresh in other services."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from auth.context import AuthContext
from auth.models import Invitation, Membership, Workspace
from auth.users.repository import UserRepository
from auth.users.service import checked_email, normalise_email
from auth.workspaces.repository import InvitationRepository, WorkspaceRepository
from auth.workspaces.schemas import InvitationOut, MemberOut, WorkspaceOut, WorkspacePatch
from socialseed.contracts import WorkspaceMemberChanged, WorkspaceUpdated
from socialseed.errors import Conflict, NotFound, WorkspaceNotFound
from socialseed.security import ROLE_RANK, Principal, Role, require_role


class MemberNotFound(NotFound):
    default_detail = "This user is not a member of the workspace."


class InvitationNotFound(NotFound):
    default_detail = "No open invitation with this id for you."


class AlreadyMember(Conflict):
    default_detail = "This user is already a member; change their role instead."


class LastOwner(Conflict):
    default_detail = "A workspace keeps at least one owner."


def _needed_to_grant(role: str) -> Role:
    return "owner" if role == "owner" else "admin"


def _invitation_out(i: Invitation) -> InvitationOut:
    return InvitationOut(id=i.id, email=i.email, role=i.role, expires_at=i.expires_at)


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
        await repo.add(Membership(workspace_id=ws.id, user_id=user_id, role="owner"))
        await self._emit(session, ctx, ws.id, user_id, "added", "owner", by=user_id)
        await self._emit_settings(session, ctx, ws)
        return _out(ws, "owner")

    async def for_user(self, session: AsyncSession, user_id: uuid.UUID) -> list[WorkspaceOut]:
        return [_out(ws, role) for ws, role in await WorkspaceRepository(session).for_user(user_id)]

    async def get(
        self, session: AsyncSession, workspace_id: uuid.UUID, user_id: uuid.UUID
    ) -> WorkspaceOut:
        ws, role = await self._membership(session, workspace_id, user_id)
        return _out(ws, role)

    async def get_for_key(
        self, session: AsyncSession, workspace_id: uuid.UUID, principal: Principal
    ) -> WorkspaceOut:
        """An API key's own workspace, with the role its token carries (the gateway's
        exchange checked the key is live)."""
        role = principal.require(workspace_id)
        ws = await WorkspaceRepository(session).get_unscoped(workspace_id)
        if ws is None:
            raise WorkspaceNotFound()
        return _out(ws, role)

    async def update(
        self,
        session: AsyncSession,
        ctx: AuthContext,
        workspace_id: uuid.UUID,
        user_id: uuid.UUID,
        patch: WorkspacePatch,
    ) -> WorkspaceOut:
        ws, role = await self._membership(session, workspace_id, user_id, lock=True)
        require_role(role, "admin")
        for field, value in patch.model_dump(exclude_unset=True, exclude_none=True).items():
            setattr(ws, field, value)
        await session.flush()
        await self._emit_settings(session, ctx, ws)
        return _out(ws, role)

    async def members(
        self, session: AsyncSession, workspace_id: uuid.UUID, user_id: uuid.UUID
    ) -> list[MemberOut]:
        await self._membership(session, workspace_id, user_id)
        members = await WorkspaceRepository(session).members(user_id, workspace_id)
        return [_member_out(m) for m in members]

    async def invite(
        self,
        session: AsyncSession,
        ctx: AuthContext,
        workspace_id: uuid.UUID,
        user_id: uuid.UUID,
        *,
        email: str,
        role: Role,
    ) -> InvitationOut:
        """Invite an email (admin or owner; only an owner invites owners). No user is looked
        up: the answer is the same whether or not the email is registered."""
        _, my_role = await self._membership(session, workspace_id, user_id, lock=True)
        require_role(my_role, _needed_to_grant(role))
        email = checked_email(email)
        now = ctx.clock()
        invitation = await InvitationRepository(session).replace(
            Invitation(
                workspace_id=workspace_id,
                email=normalise_email(email),
                role=role,
                invited_by=user_id,
                created_at=now,
                expires_at=now + timedelta(seconds=ctx.settings.invitation_ttl),
            ),
            now,
        )
        return _invitation_out(invitation)

    async def invitations(
        self, session: AsyncSession, ctx: AuthContext, workspace_id: uuid.UUID, user_id: uuid.UUID
    ) -> list[InvitationOut]:
        _, my_role = await self._membership(session, workspace_id, user_id)
        require_role(my_role, "admin")
        pending = await InvitationRepository(session).pending_for_workspace(
            user_id, workspace_id, ctx.clock()
        )
        return [_invitation_out(i) for i in pending]

    async def revoke_invitation(
        self,
        session: AsyncSession,
        ctx: AuthContext,
        workspace_id: uuid.UUID,
        user_id: uuid.UUID,
        *,
        invitation_id: uuid.UUID,
    ) -> None:
        _, my_role = await self._membership(session, workspace_id, user_id, lock=True)
        require_role(my_role, "admin")
        now = ctx.clock()
        repo = InvitationRepository(session)
        invitation = await repo.pending(repo.readable(user_id), invitation_id, now, lock=True)
        if invitation is None or invitation.workspace_id != workspace_id:
            raise InvitationNotFound()
        require_role(my_role, _needed_to_grant(invitation.role))
        invitation.revoked_at = now
        await session.flush()

    async def accept_invitation(
        self, session: AsyncSession, ctx: AuthContext, invitation_id: uuid.UUID, user_id: uuid.UUID
    ) -> MemberOut:
        """Become a member with the invited role. 404 unless the invitation is open, unexpired,
        addressed to the caller's email and its inviter may still grant that role."""
        now = ctx.clock()
        invitation = await self._open_invitation(session, invitation_id, user_id, now)
        repo = WorkspaceRepository(session)
        # Same lock order as every membership change: the workspace, then the invitation.
        await repo.lock(invitation.workspace_id)
        invitation = await self._open_invitation(session, invitation_id, user_id, now, lock=True)
        inviter_id = invitation.invited_by
        inviter = await repo.with_role(invitation.workspace_id, inviter_id) if inviter_id else None
        needed = ROLE_RANK[_needed_to_grant(invitation.role)]
        if inviter_id is None or inviter is None or ROLE_RANK[inviter[1]] < needed:
            raise InvitationNotFound()  # the inviter left or lost the right to grant it
        if await repo.member(user_id, invitation.workspace_id, user_id) is not None:
            raise AlreadyMember()
        invitation.accepted_at = now
        return await self._add_member(
            session,
            ctx,
            invitation.workspace_id,
            user_id,
            invitation.role,  # type: ignore[arg-type]
            by=inviter_id,
        )

    async def decline_invitation(
        self, session: AsyncSession, ctx: AuthContext, invitation_id: uuid.UUID, user_id: uuid.UUID
    ) -> None:
        now = ctx.clock()
        invitation = await self._open_invitation(session, invitation_id, user_id, now, lock=True)
        invitation.declined_at = now
        await session.flush()

    async def _open_invitation(
        self,
        session: AsyncSession,
        invitation_id: uuid.UUID,
        user_id: uuid.UUID,
        now: datetime,
        *,
        lock: bool = False,
    ) -> Invitation:
        user = await UserRepository(session).by_id(user_id)
        if user is None:
            raise InvitationNotFound()
        repo = InvitationRepository(session)
        # Someone else's invitation looks like none at all.
        invitation = await repo.pending(
            repo.addressed_to(user.email), invitation_id, now, lock=lock
        )
        if invitation is None:
            raise InvitationNotFound()
        return invitation

    async def _add_member(
        self,
        session: AsyncSession,
        ctx: AuthContext,
        workspace_id: uuid.UUID,
        member_id: uuid.UUID,
        role: Role,
        *,
        by: uuid.UUID,
    ) -> MemberOut:
        repo = WorkspaceRepository(session)
        await repo.add(Membership(workspace_id=workspace_id, user_id=member_id, role=role))
        await self._emit(session, ctx, workspace_id, member_id, "added", role, by=by)
        member = await repo.member(member_id, workspace_id, member_id)
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
        member = await repo.member(user_id, workspace_id, member_id)
        if member is None:
            raise MemberNotFound()
        touches_owner = "owner" in (role, member.role)
        require_role(my_role, "owner" if touches_owner else "admin")
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
        member = await repo.member(user_id, workspace_id, member_id)
        if member is None:
            raise MemberNotFound()
        if member_id != user_id:  # anyone may leave; removing others needs a role
            require_role(my_role, "owner" if member.role == "owner" else "admin")
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
                changed_at=ctx.clock(),
            ),
            key=str(workspace_id),
        )

    async def _emit_settings(self, session: AsyncSession, ctx: AuthContext, ws: Workspace) -> None:
        await ctx.outbox.add(
            session,
            WorkspaceUpdated(
                workspace_id=ws.id,
                name=ws.name,
                timezone=ws.timezone,
                require_approval=ws.require_approval,
                updated_at=ctx.clock(),
            ),
            key=str(ws.id),
        )


workspaces = WorkspaceService()
