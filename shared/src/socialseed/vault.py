"""The token vault: accounts hands out an account's platform access token (refreshed first when
it expires soon, or when asked to) through its internal endpoint
``POST /internal/accounts/{id}/access-token``, and :class:`TokenVault` is its client, keeping
the tokens in memory (never stored) until shortly before they expire. Used by every service that
calls platforms on an account's behalf (the publisher's workers, analytics' fetchers); each
authenticates with its own secret (accounts' ``ACCOUNTS_INTERNAL_TOKENS__<SERVICE>``).

A platform call made with a token goes through :meth:`TokenVault.call` (accounts itself, which
holds the tokens, through :func:`call_with_token`): the call once, and if the platform refuses
the token (``ErrorKind.REAUTH_REQUIRED``: an access token dead before its time, say), once more
with a token the vault refreshed at the platform for it. A second refusal is the caller's to
handle (accounts then marks the account as needing reconnecting).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

import httpx
from pydantic import SecretStr

from socialseed.platforms import ErrorKind, PlatformError, TokenSet

T = TypeVar("T")
K = TypeVar("K")


async def call_with_token(
    fetch: Callable[[bool], Awaitable[K]], call: Callable[[K], Awaitable[T]]
) -> T:
    """``call`` with what ``fetch(False)`` gives (a token, or what carries one); if the
    platform refuses that token (a ``PlatformError`` of kind ``REAUTH_REQUIRED``), ``call``
    once more with ``fetch(True)``: the token refreshed at the platform on purpose. Any other
    error, and a second refusal, go to the caller."""
    try:
        return await call(await fetch(False))
    except PlatformError as exc:
        if exc.kind is not ErrorKind.REAUTH_REQUIRED:
            raise
    return await call(await fetch(True))


@dataclass(frozen=True)
class VaultToken:
    tokens: TokenSet
    platform_user_id: str


class AccountUnusable(Exception):
    """The vault will not hand out a token: the account needs reconnecting, or is gone."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class VaultUnavailable(Exception):
    """The vault could not be asked (down, or an error of its own): retry later."""


class TokenVault:
    def __init__(
        self,
        http: httpx.AsyncClient,
        accounts_url: str,
        secret: SecretStr,
        *,
        clock: Callable[[], datetime],
        lead: timedelta = timedelta(minutes=2),
    ) -> None:
        self.http = http
        self.accounts_url = accounts_url.rstrip("/")
        self.secret = secret
        self.clock = clock
        self.lead = lead
        self._cache: dict[uuid.UUID, VaultToken] = {}
        self._locks: dict[uuid.UUID, asyncio.Lock] = {}

    async def token(self, account_id: uuid.UUID, *, force: bool = False) -> VaultToken:
        """A valid token for the account; ``force`` after the platform refused the cached one
        (the vault then refreshes it at the platform)."""
        async with self._locks.setdefault(account_id, asyncio.Lock()):
            held = None if force else self._held(account_id)
            if held is not None:
                return held
            fetched = await self._fetch(account_id, force=force)
            self._cache[account_id] = fetched
            return fetched

    async def call(self, account_id: uuid.UUID, call: Callable[[TokenSet], Awaitable[T]]) -> T:
        """``call`` with the account's token; once more with a refreshed one if the platform
        refuses it (see :func:`call_with_token`). Raises what ``call`` raises, and
        ``AccountUnusable`` / ``VaultUnavailable`` when no token can be had."""

        async def fetch(force: bool) -> TokenSet:
            return (await self.token(account_id, force=force)).tokens

        return await call_with_token(fetch, call)

    def forget(self, account_id: uuid.UUID) -> None:
        self._cache.pop(account_id, None)

    async def warm(self, account_ids: Iterable[uuid.UUID], *, concurrency: int) -> int:
        """Fetch, ``concurrency`` at a time, the tokens of these accounts that the cache does
        not hold fresh: a campaign's first publishes then find them, instead of all asking
        the vault at the instant they fall due. A token that cannot be had is left for the
        publish itself to meet (and report). How many were fetched."""
        gate = asyncio.Semaphore(concurrency)

        async def one(account_id: uuid.UUID) -> bool:
            async with gate:
                if self._held(account_id) is not None:  # fetched meanwhile, by a publish
                    return False
                try:
                    await self.token(account_id)
                except (AccountUnusable, VaultUnavailable):
                    return False
                return True

        wanted = [a for a in dict.fromkeys(account_ids) if self._held(a) is None]
        return sum(await asyncio.gather(*(one(a) for a in wanted)))

    def _held(self, account_id: uuid.UUID) -> VaultToken | None:
        """The cached token while it does not expire within ``lead``."""
        cached = self._cache.get(account_id)
        if cached is None:
            return None
        expires = cached.tokens.expires_at
        return cached if expires is None or expires - self.lead > self.clock() else None

    async def _fetch(self, account_id: uuid.UUID, *, force: bool) -> VaultToken:
        try:
            response = await self.http.post(
                f"{self.accounts_url}/internal/accounts/{account_id}/access-token",
                params={"force": "true"} if force else None,
                headers={"authorization": f"Bearer {self.secret.get_secret_value()}"},
            )
        except httpx.HTTPError as exc:
            raise VaultUnavailable(f"unreachable ({type(exc).__name__})") from exc
        if response.status_code in (404, 409):
            error = _error_name(response)
            raise AccountUnusable(
                "The account needs to be connected again."
                if error in ("AccountNeedsReauth", "AccountNotActive", "TokenUndecryptable")
                else "The account is no longer connected."
            )
        if response.status_code != 200:
            raise VaultUnavailable(f"answered {response.status_code}")
        body = response.json()
        expires_at = body.get("expires_at")
        # The tokens name their user too: providers that address the user by id (LinkedIn's
        # member URN) then never ask the platform who it is.
        return VaultToken(
            tokens=TokenSet(
                access_token=body["access_token"],
                expires_at=datetime.fromisoformat(expires_at) if expires_at else None,
                platform_user_id=body["platform_user_id"],
            ),
            platform_user_id=body["platform_user_id"],
        )


def _error_name(response: httpx.Response) -> str:
    try:
        return str(response.json().get("error", ""))
    except ValueError:
        return ""
