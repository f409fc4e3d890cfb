from __future__ import annotations

from urllib.parse import urlencode, urlsplit, urlunsplit

from fastapi import APIRouter, status
from fastapi.responses import RedirectResponse, Response

from accounts.accounts.schemas import AccountOut
from accounts.deps import Ctx
from accounts.oauth.schemas import CallbackOut, ConnectIn, ConnectOut
from accounts.oauth.service import connect
from socialseed.platforms import Platform
from socialseed.service import CurrentPrincipal, Session

router = APIRouter(prefix="/api/v1", tags=["accounts"])


@router.post("/accounts/connect", response_model=ConnectOut, status_code=status.HTTP_201_CREATED)
async def start_connect(
    body: ConnectIn, principal: CurrentPrincipal, session: Session, ctx: Ctx
) -> ConnectOut:
    """Start connecting a social account (editor or above): open `authorize_url` in the
    browser; the platform sends the user back to our callback."""
    return await connect.start(
        session,
        ctx,
        principal,
        workspace_id=body.workspace_id,
        platform=body.platform,
        return_to=body.redirect_uri,
    )


@router.get("/oauth/{platform}/callback", response_model=CallbackOut)
async def oauth_callback(
    platform: Platform,
    session: Session,
    ctx: Ctx,
    code: str | None = None,
    state: str | None = None,
    error: str | None = None,
) -> Response | CallbackOut:
    """Where the platform redirects after consent. No bearer token: the single-use state
    authenticates the request. Answers JSON, or 302 to the connect's `redirect_uri` with
    `account_id` (one per account)."""
    accounts, return_to = await connect.complete(
        session, ctx, platform=platform, state=state, code=code, error=error
    )
    if return_to:
        parts = urlsplit(return_to)
        extra = urlencode([("account_id", str(a.id)) for a in accounts])
        query = f"{parts.query}&{extra}" if parts.query else extra
        return RedirectResponse(urlunsplit(parts._replace(query=query)), status_code=302)
    return CallbackOut(accounts=[AccountOut.of(a) for a in accounts])
