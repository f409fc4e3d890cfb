"""API keys at the gateway: a ``Bearer ssk_...`` key is exchanged at auth for a short-lived
access token, which is what the services receive and verify (every service honours a key
without knowing keys exist). Exchanges are cached per key (by its SHA-256, never the key) for
``api_key_cache_seconds``: a revoked key stops working at once through the gateway process that
forwarded the revocation, and within that bound through any other."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable

import aiohttp
from cachetools import TTLCache

from socialseed.errors import ServiceUnavailable, Unauthorized

KEY_PREFIX = "ssk_"


def is_api_key(authorization: str | None) -> str | None:
    """The key when ``authorization`` is ``Bearer ssk_...``, else None."""
    scheme, _, credential = (authorization or "").partition(" ")
    credential = credential.strip()
    if scheme.lower() == "bearer" and credential.startswith(KEY_PREFIX):
        return credential
    return None


class ApiKeys:
    def __init__(
        self,
        exchange_url: str,
        secret: str | None,
        *,
        cache_seconds: float,
        cache_size: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.exchange_url = exchange_url
        self.secret = secret
        # digest -> (access token, key id); an entry lives cache_seconds at most (0: none).
        self.cache: TTLCache[bytes, tuple[str, str]] | None = (
            TTLCache(cache_size, ttl=cache_seconds, timer=clock) if cache_seconds > 0 else None
        )

    async def token(self, session: aiohttp.ClientSession, key: str) -> str:
        """An access token standing for ``key`` (401 InvalidApiKey when it is not live)."""
        if self.secret is None:
            raise Unauthorized("API keys are not enabled on this gateway.")
        digest = hashlib.sha256(key.encode()).digest()
        if self.cache is not None and (hit := self.cache.get(digest)) is not None:
            return hit[0]
        try:
            async with session.post(
                self.exchange_url,
                data=json.dumps({"key": key}),
                # (the proxy's session adds no Content-Type of its own)
                headers={
                    "Authorization": f"Bearer {self.secret}",
                    "Content-Type": "application/json",
                },
            ) as response:
                if response.status == 401:
                    raise Unauthorized("This API key is unknown or has been revoked.")
                if response.status != 200:
                    raise ServiceUnavailable("Cannot check the API key now.")
                body = await response.json()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise ServiceUnavailable("Cannot check the API key now.") from exc
        token, key_id = str(body["access_token"]), str(body["key_id"])
        if self.cache is not None:
            self.cache[digest] = (token, key_id)
        return token

    def forget(self, key_id: str) -> None:
        """Drop every cached exchange of ``key_id`` (it was just revoked)."""
        if self.cache is None:
            return
        for digest in [d for d, (_, k) in self.cache.items() if k == key_id]:
            self.cache.pop(digest, None)
