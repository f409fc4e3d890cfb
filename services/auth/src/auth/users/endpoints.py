from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Request, Response, status

from auth.deps import Ctx, client_ip
from auth.users.cookies import (
    CsrfHeaderMissing,
    RefreshCookie,
    RefreshTokenMissing,
    WebClient,
    clear_refresh_cookie,
    cleared_cookie_header,
    is_web,
    set_refresh_cookie,
)
from auth.users.schemas import (
    AccessToken,
    LoginIn,
    MeOut,
    RefreshIn,
    RegisterIn,
    TokenPair,
    UserOut,
)
from auth.users.service import (
    EmailTaken,
    InvalidCredentials,
    InvalidEmail,
    Issued,
    RefreshTokenInvalid,
    WeakPassword,
    users,
)
from auth.users.throttle import TooManyLoginAttempts
from socialseed.app import ReadPrincipal, ReadSession, Session
from socialseed.openapi import errors

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])

# Optional: the web client sends none (its refresh token is the cookie).
OptionalRefreshIn = Annotated[RefreshIn | None, Body()]


def answer(
    issued: Issued, web: str | None, response: Response, ctx: Ctx
) -> TokenPair | AccessToken:
    """The pair in JSON for API clients; for the web client the access token in JSON and the
    refresh token in the HttpOnly cookie only."""
    if not is_web(web):
        return issued.pair
    set_refresh_cookie(
        response,
        ctx.settings,
        issued.pair.refresh_token,
        expires_at=issued.refresh_expires_at,
        now=issued.issued_at,
    )
    return AccessToken(access_token=issued.pair.access_token, expires_in=issued.pair.expires_in)


def presented_token(body: RefreshIn | None, web: str | None, cookie: str | None) -> str:
    """The refresh token this request presents: the cookie for the web client (the header is
    what makes the cookie count), the body for everyone else."""
    if is_web(web):
        if cookie is None:
            raise RefreshTokenInvalid("No session cookie: sign in again.")
        return cookie
    if body is not None:
        return body.refresh_token
    if cookie is not None:
        raise CsrfHeaderMissing()
    raise RefreshTokenMissing()


@router.post(
    "/register",
    status_code=status.HTTP_201_CREATED,
    response_model=UserOut,
    responses=errors(WeakPassword, EmailTaken, InvalidEmail),
)
async def register(body: RegisterIn, session: Session, ctx: Ctx) -> UserOut:
    """Create a login. 409 `EmailTaken` if the email is in use, 400 `WeakPassword` if the
    password is common or equal to the email or name (shorter than 8 is a 422)."""
    user = await users.register(
        session, ctx, email=str(body.email), password=body.password, name=body.name
    )
    return UserOut(id=user.id, email=user.email, name=user.name)


@router.post(
    "/login",
    response_model=TokenPair | AccessToken,
    responses=errors(InvalidCredentials, TooManyLoginAttempts),
)
async def login(
    body: LoginIn,
    request: Request,
    response: Response,
    session: Session,
    ctx: Ctx,
    web: WebClient = None,
) -> TokenPair | AccessToken:
    """Exchange email and password for an access token and a rotating refresh token.
    401 `InvalidCredentials` whatever was wrong; 429 `TooManyLoginAttempts` when throttled.
    With `X-SocialSeed-Client: web` the refresh token is set as an HttpOnly cookie
    (`socialseed_refresh`, `SameSite=Strict`, `Path=/api/v1/auth`) and left out of the body."""
    issued = await users.login(
        session, ctx, email=body.email, password=body.password, ip=client_ip(request)
    )
    return answer(issued, web, response, ctx)


@router.post(
    "/refresh",
    response_model=TokenPair | AccessToken,
    responses=errors(RefreshTokenInvalid, RefreshTokenMissing, CsrfHeaderMissing),
)
async def refresh(
    request: Request,
    response: Response,
    session: Session,
    ctx: Ctx,
    web: WebClient = None,
    cookie: RefreshCookie = None,
    body: OptionalRefreshIn = None,
) -> TokenPair | AccessToken:
    """Rotate: the refresh token is spent and a new pair returned. Presenting a spent token
    again revokes every token of that login (401). API clients send `refresh_token` in the
    body; the web client sends `X-SocialSeed-Client: web` and the cookie (403
    `CsrfHeaderMissing` for the cookie without the header); a 401 then also clears the cookie."""
    token = presented_token(body, web, cookie)
    try:
        issued = await users.refresh(session, ctx, refresh_token=token, ip=client_ip(request))
    except RefreshTokenInvalid as exc:
        if is_web(web):
            exc.headers = cleared_cookie_header(ctx.settings)
        raise
    return answer(issued, web, response, ctx)


@router.post(
    "/logout",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=errors(RefreshTokenMissing, CsrfHeaderMissing),
)
async def logout(
    request: Request,
    session: Session,
    ctx: Ctx,
    web: WebClient = None,
    cookie: RefreshCookie = None,
    body: OptionalRefreshIn = None,
) -> Response:
    """Revoke the session the refresh token belongs to (the body's, or the web client's
    cookie, which is then cleared)."""
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    if is_web(web) and cookie is None:
        clear_refresh_cookie(response, ctx.settings)
        return response
    token = presented_token(body, web, cookie)
    await users.logout(session, ctx, refresh_token=token, ip=client_ip(request))
    if is_web(web):
        clear_refresh_cookie(response, ctx.settings)
    return response


@router.get("/me", response_model=MeOut)
async def me(principal: ReadPrincipal, session: ReadSession, ctx: Ctx) -> MeOut:
    """The caller, their workspaces with roles, and the open invitations to their email."""
    return await users.me(session, ctx, principal.user_id)
