"""FastAPI dependencies of the auth service (the session and principal are shared ones)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Request

from auth.keys import SigningKey
from auth.passwords import Hasher
from auth.settings import AuthSettings
from auth.users.throttle import LoginThrottle
from socialseed.db import Database
from socialseed.outbox import Outbox
from socialseed.security import JWTVerifier


@dataclass
class AuthContext:
    """Process-wide collaborators, built once by the app factory."""

    settings: AuthSettings
    db: Database
    key: SigningKey
    hasher: Hasher
    outbox: Outbox
    verifier: JWTVerifier
    # The time invitations are dated and expired by; tests replace it to move time.
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

    def __post_init__(self) -> None:
        # Counted in the database: shared by every auth worker and replica.
        self.login_throttle = LoginThrottle(self.settings)


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


Ctx = Annotated[AuthContext, Depends(context)]
