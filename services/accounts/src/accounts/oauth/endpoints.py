from __future__ import annotations

from urllib.parse import urlencode, urlsplit, urlunsplit

from fastapi import APIRouter, status
from fastapi.responses import RedirectResponse, Response

from accounts.cipher import TokenUndecryptable
from accounts.connections.endpoints import shown
from accounts.deps import Ctx
from accounts.oauth.schemas import CallbackOut, CompleteIn, CompleteOut, ConnectIn, ConnectOut
from accounts.oauth.service import (
    ConnectFailed,
    ConnectNotFound,
    ConsentDenied,
    InvalidState,
    MissingCode,
    RedirectNotAllowed,
    connect,
)
from socialseed.app import CurrentPrincipal, Session
from socialseed.errors import InsufficientRole, WorkspaceNotFound
from socialseed.openapi import errors
from socialseed.platforms import Platform

router = APIRouter(prefix="/api/v1", tags=["accounts"])


@router.post(
    "/accounts/connect",
    response_model=ConnectOut,
    status_code=status.HTTP_201_CREATED,
    responses=errors(RedirectNotAllowed, WorkspaceNotFound, InsufficientRole),
)
async def start_connect(
    body: ConnectIn, principal: CurrentPrincipal, session: Session, ctx: Ctx
) -> ConnectOut:
    """Start connecting a social account (editor or above): open `authorize_url` in the
    browser; the platform sends the user back to our callback, then complete the connect
    with `POST /api/v1/accounts/oauth/complete`."""
    return await connect.start(
        session,
        ctx,
        principal,
        workspace_id=body.workspace_id,
        platform=body.platform,
        return_to=body.redirect_uri,
    )


@router.get(
    "/oauth/{platform}/callback",
    response_model=CallbackOut,
    responses={
        302: {"description": "To the connect's redirect_uri with code and state, or error"},
        **errors(InvalidState, MissingCode, ConsentDenied),
    },
)
async def oauth_callback(
    platform: Platform,
    ctx: Ctx,
    code: str | None = None,
    state: str | None = None,
    error: str | None = None,
) -> Response | CallbackOut:
    """Where the platform redirects after consent. No bearer token and nothing stored: with
    the connect's `redirect_uri` it answers 302 there with `code` and `state` (or the
    platform's `error`) appended, otherwise JSON `{state, code}`. The signed-in user who
    started the connect then completes it."""
    back = await connect.callback(ctx, platform=platform, state=state, code=code, error=error)
    if back.return_to:
        parts = urlsplit(back.return_to)
        pairs = [("state", back.state)]
        pairs += [("error", back.error)] if back.error else [("code", back.code or "")]
        extra = urlencode(pairs)
        query = f"{parts.query}&{extra}" if parts.query else extra
        return RedirectResponse(urlunsplit(parts._replace(query=query)), status_code=302)
    assert back.code is not None
    return CallbackOut(state=back.state, code=back.code)


@router.post(
    "/accounts/oauth/complete",
    response_model=CompleteOut,
    status_code=status.HTTP_201_CREATED,
    responses=errors(
        InvalidState,
        ConnectNotFound,
        WorkspaceNotFound,
        InsufficientRole,
        ConnectFailed,
        TokenUndecryptable,
    ),
)
async def complete_connect(body: CompleteIn, principal: CurrentPrincipal, ctx: Ctx) -> CompleteOut:
    """Finish a connect with what the callback handed back: exchanges the code and stores the
    accounts. Only the user who started the connect can complete it."""
    accounts = await connect.complete(ctx, principal, state=body.state, code=body.code)
    return CompleteOut(accounts=[shown(ctx, a) for a in accounts])
