"""FastAPI dependencies of the accounts service."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Request

from accounts.context import AccountsContext
from socialseed.errors import Unauthorized


def context(request: Request) -> AccountsContext:
    ctx: AccountsContext = request.app.state.accounts
    return ctx


async def _internal_caller(request: Request) -> str:
    """The calling service, authenticated by its shared secret (never a user token)."""
    scheme, _, secret = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and secret:
        for service, expected in context(request).settings.internal_tokens.items():
            if hmac.compare_digest(secret.encode(), expected.get_secret_value().encode()):
                return service
    raise Unauthorized("This endpoint is for SocialSeed services only.")


async def _context(request: Request) -> AccountsContext:
    # async: FastAPI runs a plain ``def`` dependency in a worker thread, a hand-off per request.
    return context(request)


Ctx = Annotated[AccountsContext, Depends(_context)]
InternalCaller = Annotated[str, Depends(_internal_caller)]
