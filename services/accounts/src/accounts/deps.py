"""FastAPI dependencies of the accounts service."""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated

import httpx
from fastapi import Depends, Request

from accounts.settings import AccountsSettings
from accounts.vault import Vault
from socialseed.db import Database
from socialseed.errors import Unauthorized
from socialseed.outbox import Outbox
from socialseed.platforms import Platform, Provider
from socialseed.security import JWTVerifier


@dataclass
class AccountsContext:
    settings: AccountsSettings
    db: Database
    vault: Vault
    outbox: Outbox
    providers: dict[Platform, Provider]
    verifier: JWTVerifier
    http: httpx.AsyncClient
    # The service's notion of "now" (token due dates, failures, sync times); tests inject one
    # they can advance instead of sleeping.
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    _refresh_slots: dict[Platform, asyncio.Semaphore] = field(default_factory=dict)

    def refresh_slot(self, platform: Platform) -> asyncio.Semaphore:
        """At most ``refresh_concurrency`` refreshes of one platform's tokens run at once in
        this process: each holds a pooled connection (and a row lock) for its platform call."""
        slot = self._refresh_slots.get(platform)
        if slot is None:
            slot = self._refresh_slots[platform] = asyncio.Semaphore(
                self.settings.refresh_concurrency
            )
        return slot


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


Ctx = Annotated[AccountsContext, Depends(context)]
InternalCaller = Annotated[str, Depends(_internal_caller)]
