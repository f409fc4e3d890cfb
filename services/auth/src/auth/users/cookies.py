"""The web app's session: the refresh token lives in an HttpOnly cookie, never in JavaScript.

A client opts in with the ``X-SocialSeed-Client: web`` header. Login then answers the access
token alone and sets the refresh token as a cookie (``HttpOnly; SameSite=Strict;
Path=/api/v1/auth``, ``Secure`` outside dev mode); refresh and logout read the cookie, but only
when the same header comes with it. That header is the CSRF defence beside SameSite: a page of
another origin cannot send a custom header without a CORS preflight, which the gateway refuses.
API clients keep the JSON flow (refresh token in the body) unchanged.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Cookie, Header
from starlette.responses import Response

from auth.settings import AuthSettings
from socialseed.errors import BadRequest, Forbidden

WEB_CLIENT_HEADER = "X-SocialSeed-Client"
REFRESH_COOKIE = "socialseed_refresh"
REFRESH_COOKIE_PATH = "/api/v1/auth"

WebClient = Annotated[
    str | None,
    Header(
        alias=WEB_CLIENT_HEADER,
        max_length=64,
        description="`web`: the refresh token travels in the HttpOnly `socialseed_refresh` "
        "cookie instead of the JSON body (login sets it; refresh and logout read it, and "
        "require this header with it as their CSRF defence). Any other value: the JSON flow",
    ),
]
RefreshCookie = Annotated[
    str | None,
    Cookie(
        alias=REFRESH_COOKIE,
        description="The web app's refresh token (set by login with X-SocialSeed-Client: web)",
    ),
]


def is_web(header: str | None) -> bool:
    return header is not None and header.strip().lower() == "web"


class CsrfHeaderMissing(Forbidden):
    default_detail = (
        f"The session cookie is only accepted with the {WEB_CLIENT_HEADER}: web header."
    )


class RefreshTokenMissing(BadRequest):
    default_detail = (
        f"Send refresh_token in the body, or the {WEB_CLIENT_HEADER}: web header with the "
        "session cookie."
    )


def set_refresh_cookie(
    response: Response, settings: AuthSettings, token: str, *, expires_at: datetime, now: datetime
) -> None:
    response.set_cookie(
        REFRESH_COOKIE,
        token,
        max_age=max(0, int((expires_at - now).total_seconds())),
        path=REFRESH_COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=not settings.dev_mode,
    )


def clear_refresh_cookie(response: Response, settings: AuthSettings) -> None:
    response.delete_cookie(
        REFRESH_COOKIE,
        path=REFRESH_COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=not settings.dev_mode,
    )


def cleared_cookie_header(settings: AuthSettings) -> dict[str, str]:
    """The Set-Cookie header that ends the cookie, for an error answer (which is built by the
    error handler, not from the endpoint's response)."""
    scratch = Response()
    clear_refresh_cookie(scratch, settings)
    return {"set-cookie": scratch.headers["set-cookie"]}
