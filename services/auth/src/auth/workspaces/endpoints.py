from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status

from auth.deps import Ctx
from auth.users.service import InvalidEmail
from auth.workspaces.schemas import (
    InvitationIn,
    InvitationOut,
    MemberOut,
    MemberPatch,
    WorkspaceIn,
    WorkspaceOut,
    WorkspacePatch,
)
from auth.workspaces.service import (
    AlreadyMember,
    InvitationNotFound,
    LastOwner,
    MemberNotFound,
    workspaces,
)
from socialseed.app import CurrentPrincipal, Session
from socialseed.errors import InsufficientRole, WorkspaceNotFound
from socialseed.openapi import errors

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


@router.get("/{workspace_id}", response_model=WorkspaceOut, responses=errors(WorkspaceNotFound))
async def get_workspace(
    workspace_id: uuid.UUID, principal: CurrentPrincipal, session: Session
) -> WorkspaceOut:
    if principal.api_key_id is not None:  # an API key: its workspace and role are its token's
        return await workspaces.get_for_key(session, workspace_id, principal)
    return await workspaces.get(session, workspace_id, principal.user_id)


@router.patch(
    "/{workspace_id}",
    response_model=WorkspaceOut,
    responses=errors(WorkspaceNotFound, InsufficientRole),
)
async def update_workspace(
    workspace_id: uuid.UUID,
    body: WorkspacePatch,
    principal: CurrentPrincipal,
    session: Session,
    ctx: Ctx,
) -> WorkspaceOut:
    """Rename, change the time zone or the approval rule (admin or owner)."""
    return await workspaces.update(session, ctx, workspace_id, principal.user_id, body)


@router.get(
    "/{workspace_id}/members",
    response_model=list[MemberOut],
    responses=errors(WorkspaceNotFound),
)
async def list_members(
    workspace_id: uuid.UUID, principal: CurrentPrincipal, session: Session
) -> list[MemberOut]:
    return await workspaces.members(session, workspace_id, principal.user_id)


@router.post(
    "/{workspace_id}/invitations",
    status_code=status.HTTP_201_CREATED,
    response_model=InvitationOut,
    responses=errors(WorkspaceNotFound, InsufficientRole, InvalidEmail),
)
async def invite(
    workspace_id: uuid.UUID,
    body: InvitationIn,
    principal: CurrentPrincipal,
    session: Session,
    ctx: Ctx,
) -> InvitationOut:
    """Invite an email to a role (admin or owner; only an owner invites owners). The answer is
    the same whether or not the email is registered. Re-inviting an email replaces its open
    invitation. Whoever signs in with that email sees it in `GET /auth/me` and accepts it with
    `POST /invitations/{id}/accept` within `invitation_ttl` (7 days)."""
    return await workspaces.invite(
        session, ctx, workspace_id, principal.user_id, email=str(body.email), role=body.role
    )


@router.get(
    "/{workspace_id}/invitations",
    response_model=list[InvitationOut],
    responses=errors(WorkspaceNotFound, InsufficientRole),
)
async def list_invitations(
    workspace_id: uuid.UUID, principal: CurrentPrincipal, session: Session, ctx: Ctx
) -> list[InvitationOut]:
    """Open, unexpired invitations of the workspace (admin or owner)."""
    return await workspaces.invitations(session, ctx, workspace_id, principal.user_id)


@router.delete(
    "/{workspace_id}/invitations/{invitation_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=errors(WorkspaceNotFound, InsufficientRole, InvitationNotFound),
)
async def revoke_invitation(
    workspace_id: uuid.UUID,
    invitation_id: uuid.UUID,
    principal: CurrentPrincipal,
    session: Session,
    ctx: Ctx,
) -> Response:
    """Revoke an open invitation (admin or owner; only an owner revokes an owner's)."""
    await workspaces.revoke_invitation(
        session, ctx, workspace_id, principal.user_id, invitation_id=invitation_id
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.patch(
    "/{workspace_id}/members/{user_id}",
    response_model=MemberOut,
    responses=errors(WorkspaceNotFound, MemberNotFound, InsufficientRole, LastOwner),
)
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


@router.delete(
    "/{workspace_id}/members/{user_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=errors(WorkspaceNotFound, MemberNotFound, InsufficientRole, LastOwner),
)
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


invitations_router = APIRouter(prefix="/api/v1/invitations", tags=["workspaces"])


@invitations_router.post(
    "/{invitation_id}/accept",
    status_code=status.HTTP_201_CREATED,
    response_model=MemberOut,
    responses=errors(InvitationNotFound, AlreadyMember),
)
async def accept_invitation(
    invitation_id: uuid.UUID, principal: CurrentPrincipal, session: Session, ctx: Ctx
) -> MemberOut:
    """Accept an invitation to your email: 201 with the new membership. 404
    `InvitationNotFound` if it is not yours, expired, revoked or already answered; 409
    `AlreadyMember` if you are a member already (the invitation stays open). Refresh your token
    afterwards so that other services see the new role."""
    return await workspaces.accept_invitation(session, ctx, invitation_id, principal.user_id)


@invitations_router.post(
    "/{invitation_id}/decline",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=errors(InvitationNotFound),
)
async def decline_invitation(
    invitation_id: uuid.UUID, principal: CurrentPrincipal, session: Session, ctx: Ctx
) -> Response:
    """Decline an invitation to your email: 204; 404 `InvitationNotFound` as for accept."""
    await workspaces.decline_invitation(session, ctx, invitation_id, principal.user_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
