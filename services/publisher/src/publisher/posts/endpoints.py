from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status
from fastapi.responses import JSONResponse, Response

from publisher.deps import Ctx, CurrentCaller
from publisher.directory.service import DirectoryUnavailable
from publisher.idempotency import service as idempotency
from publisher.idempotency.service import IDEMPOTENCY_ERRORS, IdempotencyKey
from publisher.models import PostStatus
from publisher.posts.repository import CalendarQuery
from publisher.posts.schedule import (
    InvalidTimezone,
    NonexistentLocalTime,
    ScheduledInPast,
    ScheduledTooFar,
)
from publisher.posts.schemas import (
    CalendarPage,
    PostIn,
    PostOut,
    PostPage,
    PostPatch,
    RejectIn,
    ValidationOut,
)
from publisher.posts.service import (
    AlreadyPublishing,
    AlreadySubmitted,
    NothingToRetry,
    NotPendingApproval,
    OwnPostApproval,
    posts,
)
from publisher.posts.validation import InvalidTargets
from socialseed.app import Session
from socialseed.errors import InsufficientRole, InvalidCursor, PostNotFound, WorkspaceNotFound
from socialseed.inputs import Instant
from socialseed.openapi import errors

router = APIRouter(prefix="/api/v1/posts", tags=["posts"])

# what checking a draft can answer
DRAFT_ERRORS = (
    WorkspaceNotFound,
    InsufficientRole,
    InvalidTimezone,
    NonexistentLocalTime,
    ScheduledInPast,
    ScheduledTooFar,
    DirectoryUnavailable,
)
CHANGE_ERRORS = (PostNotFound, InsufficientRole, AlreadyPublishing)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=PostOut,
    responses=errors(*DRAFT_ERRORS, InvalidTargets, *IDEMPOTENCY_ERRORS),
)
async def create_post(
    body: PostIn,
    caller: CurrentCaller,
    session: Session,
    ctx: Ctx,
    idempotency_key: IdempotencyKey = None,
) -> PostOut | JSONResponse:
    """Compose a post for one or more accounts (editor or above). Without `scheduled_at` it is
    published now; in a workspace that requires approval, an editor's post waits for an admin.
    With `"draft": true` it is saved as a draft: never published, its time optional. Safe to
    retry with an `Idempotency-Key`."""
    if idempotency_key is None:
        return await posts.create(session, ctx, caller, body)
    caller.principal.require(body.workspace_id, "editor")
    return await idempotency.once(
        session,
        principal=caller.principal,
        workspace_id=body.workspace_id,
        raw_key=idempotency_key,
        fingerprint=idempotency.fingerprint("posts.create", body.model_dump(mode="json")),
        now=ctx.clock(),
        create=lambda: posts.create(session, ctx, caller, body),
    )


@router.post("/validate", response_model=ValidationOut, responses=errors(*DRAFT_ERRORS))
async def validate_post(
    body: PostIn, caller: CurrentCaller, session: Session, ctx: Ctx
) -> ValidationOut:
    """Run every check creating this post would run, storing nothing (the composer's preview)."""
    return await posts.validate(session, ctx, caller, body)


@router.get("", response_model=PostPage, responses=errors(WorkspaceNotFound, InvalidCursor))
async def list_posts(
    workspace_id: uuid.UUID,
    caller: CurrentCaller,
    session: Session,
    start: Annotated[Instant | None, Query(alias="from", description="Inclusive")] = None,
    to: Annotated[Instant | None, Query(description="Exclusive")] = None,
    status: PostStatus | None = None,
    account_id: uuid.UUID | None = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> PostPage:
    """The calendar: the workspace's posts by scheduled time, `from` (inclusive) `to`
    (exclusive), a page at a time (`next_cursor`)."""
    query = CalendarQuery(workspace_id, start, to, status, account_id, cursor, limit)
    return await posts.calendar(session, caller, query)


@router.get(
    "/calendar", response_model=CalendarPage, responses=errors(WorkspaceNotFound, InvalidCursor)
)
async def calendar(
    workspace_id: uuid.UUID,
    caller: CurrentCaller,
    session: Session,
    start: Annotated[Instant | None, Query(alias="from", description="Inclusive")] = None,
    to: Annotated[Instant | None, Query(description="Exclusive")] = None,
    status: PostStatus | None = None,
    account_id: uuid.UUID | None = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
) -> CalendarPage:
    """What a calendar draws of the posts `from` (inclusive) `to` (exclusive): the same posts,
    order and cursors as `GET /posts`, each only as much as a chip shows (status, time, zone,
    the text's start, its platforms), so a busy month is one request."""
    query = CalendarQuery(workspace_id, start, to, status, account_id, cursor, limit)
    return await posts.calendar_entries(session, caller, query)


@router.get("/{post_id:uuid}", response_model=PostOut, responses=errors(PostNotFound))
async def get_post(post_id: uuid.UUID, caller: CurrentCaller, session: Session) -> PostOut:
    return await posts.get(session, caller, post_id)


@router.patch(
    "/{post_id:uuid}",
    response_model=PostOut,
    responses=errors(*CHANGE_ERRORS, *DRAFT_ERRORS, InvalidTargets, AlreadySubmitted),
)
async def edit_post(
    post_id: uuid.UUID, body: PostPatch, caller: CurrentCaller, session: Session, ctx: Ctx
) -> PostOut:
    """Edit or reschedule until publishing starts (409 `AlreadyPublishing` after). An editor's
    edit of an approved post sends it back for approval. A draft stays a draft unless
    `"draft": false` schedules it (or submits it for approval, as the workspace requires)."""
    return await posts.update(session, ctx, caller, post_id, body)


@router.delete(
    "/{post_id:uuid}", status_code=status.HTTP_204_NO_CONTENT, responses=errors(*CHANGE_ERRORS)
)
async def cancel_post(
    post_id: uuid.UUID, caller: CurrentCaller, session: Session, ctx: Ctx
) -> Response:
    """Cancel the post (until publishing starts). A draft is deleted."""
    await posts.cancel(session, ctx, caller, post_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{post_id:uuid}/retry",
    response_model=PostOut,
    responses=errors(PostNotFound, InsufficientRole, NothingToRetry),
)
async def retry_post(
    post_id: uuid.UUID, caller: CurrentCaller, session: Session, ctx: Ctx
) -> PostOut:
    """Publish the failed targets again, now (editor or above; editors their own posts).
    409 `NothingToRetry` when none failed."""
    return await posts.retry(session, ctx, caller, post_id)


REVIEW_ERRORS = (PostNotFound, InsufficientRole, OwnPostApproval, NotPendingApproval)


@router.post("/{post_id:uuid}/approve", response_model=PostOut, responses=errors(*REVIEW_ERRORS))
async def approve_post(
    post_id: uuid.UUID, caller: CurrentCaller, session: Session, ctx: Ctx
) -> PostOut:
    """Approve an editor's post (admin or owner; never your own): it is scheduled."""
    return await posts.approve(session, ctx, caller, post_id)


@router.post("/{post_id:uuid}/reject", response_model=PostOut, responses=errors(*REVIEW_ERRORS))
async def reject_post(
    post_id: uuid.UUID, body: RejectIn, caller: CurrentCaller, session: Session, ctx: Ctx
) -> PostOut:
    """Reject an editor's post with a reason the author sees (admin or owner)."""
    return await posts.reject(session, ctx, caller, post_id, body.reason)
