from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status

from auth.deps import Ctx
from auth.workspaces.schemas import (
    MemberIn,
    MemberOut,
    MemberPatch,
    WorkspaceIn,
    WorkspaceOut,
    WorkspacePatch,
)
from auth.workspaces.service import workspaces
from socialseed.service import CurrentPrincipal, Session

router = APIRouter(prefix="/api/v1/workspaces", tags=["workspaces"])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=WorkspaceOut)
async def create_workspace(
    body: WorkspaceIn, principal: CurrentPrincipal, session: Session, ctx: Ctx
) -> WorkspaceOut:
    """Create a workspace; the caller becomes its owner. Refresh your token afterwards so that
    other services see the new role."""
    return await workspaces.create(
        session,
        ctx,
        user_id=principal.user_id,
        name=body.name,
        timezone=body.timezone,
        require_approval=body.require_approval,
    )


@router.get("", response_model=list[WorkspaceOut])
async def list_workspaces(principal: CurrentPrincipal, session: Session) -> list[WorkspaceOut]:
    """The workspaces the caller belongs to, with their role."""
    return await workspaces.for_user(session, principal.user_id)


@router.get("/{workspace_id}", response_model=WorkspaceOut)
async def get_workspace(
    workspace_id: uuid.UUID, principal: CurrentPrincipal, session: Session
) -> WorkspaceOut:
    return await workspaces.get(session, workspace_id, principal.user_id)


@router.patch("/{workspace_id}", response_model=WorkspaceOut)
async def update_workspace(
    workspace_id: uuid.UUID, body: WorkspacePatch, principal: CurrentPrincipal, session: Session
) -> WorkspaceOut:
    """Rename, change the time zone or the approval rule (admin or owner)."""
    return await workspaces.update(session, workspace_id, principal.user_id, body)


@router.get("/{workspace_id}/members", response_model=list[MemberOut])
async def list_members(
    workspace_id: uuid.UUID, principal: CurrentPrincipal, session: Session
) -> list[MemberOut]:
    return await workspaces.members(session, workspace_id, principal.user_id)


@router.post(
    "/{workspace_id}/members", status_code=status.HTTP_201_CREATED, response_model=MemberOut
)
async def add_member(
    workspace_id: uuid.UUID, body: MemberIn, principal: CurrentPrincipal, session: Session, ctx: Ctx
) -> MemberOut:
    """Add a registered user by email (admin or owner; only an owner adds owners)."""
    return await workspaces.add_member(
        session, ctx, workspace_id, principal.user_id, email=str(body.email), role=body.role
    )


@router.patch("/{workspace_id}/members/{user_id}", response_model=MemberOut)
async def change_member_role(
    workspace_id: uuid.UUID,
    user_id: uuid.UUID,
    body: MemberPatch,
    principal: CurrentPrincipal,
    session: Session,
    ctx: Ctx,
) -> MemberOut:
    return await workspaces.change_role(
        session, ctx, workspace_id, principal.user_id, member_id=user_id, role=body.role
    )


@router.delete("/{workspace_id}/members/{user_id}", status_code=status.HTTP_204_NO_CONTENT)
async def remove_member(
    workspace_id: uuid.UUID,
    user_id: uuid.UUID,
    principal: CurrentPrincipal,
    session: Session,
    ctx: Ctx,
) -> Response:
    """Remove a member (admin or owner), or leave (yourself). The last owner stays."""
    await workspaces.remove_member(session, ctx, workspace_id, principal.user_id, member_id=user_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
