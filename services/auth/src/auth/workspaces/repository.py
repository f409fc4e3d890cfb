from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Select, delete, func, select, update
from sqlalchemy.orm import selectinload
from sqlalchemy.sql import ColumnElement

from auth.models import Invitation, Membership, Workspace
from socialseed.repository import Repository


class WorkspaceRepository(Repository[Workspace]):
    """A user reads the workspaces they belong to (``readable``: with their role) and the
    memberships of those workspaces (``readable_members``); every read on a caller's behalf
    goes through one of the two. ``lock``, ``owner_count`` and the writes take a workspace
    the caller was checked against."""

    model = Workspace

    def readable(self, user_id: uuid.UUID) -> Select[Workspace, str]:
        """The workspaces ``user_id`` is a member of, with their role in each."""
        return (
            select(Workspace, Membership.role)
            .join(Membership, Membership.workspace_id == Workspace.id)
            .where(Membership.user_id == user_id)
        )

    def readable_members(self, user_id: uuid.UUID) -> Select[Membership]:
        """The memberships of the workspaces ``user_id`` is a member of (users loaded)."""
        mine = select(Membership.workspace_id).where(Membership.user_id == user_id)
        return (
            select(Membership)
            .options(selectinload(Membership.user))
            .where(Membership.workspace_id.in_(mine.scalar_subquery()))
        )

    async def with_role(
        self, workspace_id: uuid.UUID, user_id: uuid.UUID, *, lock: bool = False
    ) -> tuple[Workspace, str] | None:
        """The workspace and the user's role in it; None if it does not exist for them."""
        query = self.readable(user_id).where(Workspace.id == workspace_id)
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
            self.readable(user_id).order_by(Workspace.created_at, Workspace.id)
        )
        return list(rows.tuples())

    async def member(
        self, user_id: uuid.UUID, workspace_id: uuid.UUID, member_id: uuid.UUID
    ) -> Membership | None:
        """``member_id``'s membership of a workspace of ``user_id`` (the caller)."""
        result = await self.session.execute(
            self.readable_members(user_id).where(
                Membership.workspace_id == workspace_id, Membership.user_id == member_id
            )
        )
        return result.scalar_one_or_none()

    async def members(self, user_id: uuid.UUID, workspace_id: uuid.UUID) -> list[Membership]:
        """The members of a workspace of ``user_id`` (the caller)."""
        return await self.all(
            self.readable_members(user_id)
            .where(Membership.workspace_id == workspace_id)
            .order_by(Membership.created_at)
        )

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


def open_invitation() -> list[ColumnElement[bool]]:
    return [
        Invitation.accepted_at.is_(None),
        Invitation.declined_at.is_(None),
        Invitation.revoked_at.is_(None),
    ]


class InvitationRepository(Repository[Invitation]):
    """Invitations read by the admins of their workspace (``readable``) or by the user they
    are addressed to (``addressed_to``); every read on a caller's behalf goes through one of
    the two."""

    model = Invitation

    def readable(self, user_id: uuid.UUID) -> Select[Invitation]:
        """The invitations of the workspaces ``user_id`` is a member of (the role is checked
        by the service)."""
        mine = select(Membership.workspace_id).where(Membership.user_id == user_id)
        return select(Invitation).where(Invitation.workspace_id.in_(mine.scalar_subquery()))

    def addressed_to(self, email: str) -> Select[Invitation]:
        """The invitations sent to ``email`` (the caller's own)."""
        return select(Invitation).where(Invitation.email == email)

    async def replace(self, invitation: Invitation, now: datetime) -> Invitation:
        """Revoke the open invitation of this workspace and email (if any), add this one."""
        await self.session.execute(
            update(Invitation)
            .where(
                Invitation.workspace_id == invitation.workspace_id,
                Invitation.email == invitation.email,
                *open_invitation(),
            )
            .values(revoked_at=now)
        )
        self.session.add(invitation)
        await self.session.flush()
        return invitation

    async def pending_for_workspace(
        self, user_id: uuid.UUID, workspace_id: uuid.UUID, now: datetime
    ) -> list[Invitation]:
        return await self.all(
            self.readable(user_id)
            .where(
                Invitation.workspace_id == workspace_id,
                Invitation.expires_at > now,
                *open_invitation(),
            )
            .order_by(Invitation.created_at, Invitation.id)
        )

    async def pending(
        self,
        readable: Select[Invitation],
        invitation_id: uuid.UUID,
        now: datetime,
        *,
        lock: bool = False,
    ) -> Invitation | None:
        """The invitation among ``readable`` (``readable(user)`` or ``addressed_to(email)``)
        if it is still open and unexpired (locked: accepted at most once)."""
        query = readable.where(
            Invitation.id == invitation_id, Invitation.expires_at > now, *open_invitation()
        )
        if lock:
            # It may have been read unlocked just before: take the locked state.
            query = query.with_for_update().execution_options(populate_existing=True)
        return await self.one_or_none(query)
