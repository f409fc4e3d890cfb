from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from auth.deps import Ctx, client_ip
from auth.users.schemas import LoginIn, MeOut, RefreshIn, RegisterIn, TokenPair, UserOut
from auth.users.service import (
    EmailTaken,
    InvalidCredentials,
    InvalidEmail,
    RefreshTokenInvalid,
    WeakPassword,
    users,
)
from auth.users.throttle import TooManyLoginAttempts
from socialseed.openapi import errors
from socialseed.service import CurrentPrincipal, Session

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


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
    response_model=TokenPair,
    responses=errors(InvalidCredentials, TooManyLoginAttempts),
)
async def login(body: LoginIn, request: Request, session: Session, ctx: Ctx) -> TokenPair:
    """Exchange email and password for an access token and a rotating refresh token.
    401 `InvalidCredentials` whatever was wrong; 429 `TooManyLoginAttempts` when throttled."""
    return await users.login(
        session, ctx, email=body.email, password=body.password, ip=client_ip(request)
    )


@router.post("/refresh", response_model=TokenPair, responses=errors(RefreshTokenInvalid))
async def refresh(body: RefreshIn, request: Request, session: Session, ctx: Ctx) -> TokenPair:
    """Rotate: the refresh token is spent and a new pair returned. Presenting a spent token
    again revokes every token of that login (401)."""
    return await users.refresh(
        session, ctx, refresh_token=body.refresh_token, ip=client_ip(request)
    )


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(body: RefreshIn, request: Request, session: Session) -> Response:
    """Revoke the session the refresh token belongs to."""
    await users.logout(session, refresh_token=body.refresh_token, ip=client_ip(request))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/me", response_model=MeOut)
async def me(principal: CurrentPrincipal, session: Session, ctx: Ctx) -> MeOut:
    """The caller, their workspaces with roles, and the open invitations to their email."""
    return await users.me(session, ctx, principal.user_id)
