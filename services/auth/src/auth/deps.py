"""FastAPI dependencies of the auth service (the session and principal are shared ones)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from auth.context import AuthContext


def context(request: Request) -> AuthContext:
    ctx: AuthContext = request.app.state.auth
    return ctx


def client_ip(request: Request) -> str:
    """The caller's address; behind our gateway (a trusted proxy) the last X-Forwarded-For
    entry, which the gateway itself appended, so a client cannot spoof it."""
    peer = request.client.host if request.client else "unknown"
    forwarded = request.headers.get("x-forwarded-for")
    if forwarded and peer in context(request).settings.trusted_proxies:
        return forwarded.rsplit(",", 1)[-1].strip() or peer
    return peer


async def _context(request: Request) -> AuthContext:
    # async: FastAPI runs a plain ``def`` dependency in a worker thread, a hand-off per request.
    return context(request)


Ctx = Annotated[AuthContext, Depends(_context)]
