from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from analytics.deps import Ctx
from analytics.syncs import service
from analytics.syncs.schemas import (
    AccountSyncRequestIn,
    SyncAccepted,
    SyncOut,
    SyncRequestIn,
    SyncStatusOut,
)
from analytics.syncs.service import RefreshTooSoon, SyncNotFound
from socialseed.app import CurrentPrincipal, Session
from socialseed.errors import AccountNotFound, InsufficientRole, WorkspaceNotFound
from socialseed.openapi import errors

router = APIRouter(prefix="/api/v1/analytics", tags=["analytics sync"])


@router.post(
    "/refresh",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=SyncAccepted,
    responses=errors(WorkspaceNotFound, InsufficientRole, RefreshTooSoon),
)
async def refresh(
    body: SyncRequestIn, principal: CurrentPrincipal, session: Session, ctx: Ctx
) -> SyncAccepted:
    """Fetch the workspace's posts (optionally of some platforms, at most `limit`, the most
    recently published first) and its accounts' counters as soon as their budgets allow
    (editor or above). Follow it with `GET /sync/{sync_id}`.

    A refresh of what a refresh of the last few minutes already asked for makes no new sync:
    while that one runs, it is the answer (`already_running`); after, 429 `RefreshTooSoon`
    with `Retry-After`."""
    platforms = [p.value for p in body.platforms] if body.platforms else None
    return await service.refresh_workspace(
        session, ctx, principal, body.workspace_id, platforms, body.limit
    )


@router.post(
    "/refresh/{account_id}",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=SyncAccepted,
    responses=errors(AccountNotFound, InsufficientRole, RefreshTooSoon),
)
async def refresh_account(
    account_id: uuid.UUID,
    principal: CurrentPrincipal,
    session: Session,
    ctx: Ctx,
    body: AccountSyncRequestIn | None = None,
) -> SyncAccepted:
    """The same for one account."""
    limit = body.limit if body else None
    return await service.refresh_account(session, ctx, principal, account_id, limit)


@router.get("/sync/{sync_id}", response_model=SyncOut, responses=errors(SyncNotFound))
async def sync_progress(
    sync_id: uuid.UUID, principal: CurrentPrincipal, session: Session, ctx: Ctx
) -> SyncOut:
    """A sync's progress: `queued`, `running`, then `completed` (every post fetched),
    `partial` (some failed or were rate limited) or `failed`; counters per platform. A
    queued or running sync whose every post left waits for a platform's spent app-wide
    budget reads `waiting`, with `resumes_at` and `waiting_reason`."""
    return await service.sync_progress(session, ctx, principal, sync_id)


@router.get("/sync-status", response_model=SyncStatusOut, responses=errors(WorkspaceNotFound))
async def sync_status(
    workspace_id: uuid.UUID, principal: CurrentPrincipal, session: Session, ctx: Ctx
) -> SyncStatusOut:
    """Per account: when its metrics were last fetched, its next planned fetch, and what of it
    waits for a spent rate budget (`waiting`: until when and why); per
    platform: the rate budgets of the workspace's own accounts (app-wide budgets, shared with
    every other workspace, are not shown)."""
    return await service.sync_status(session, ctx, principal, workspace_id)
