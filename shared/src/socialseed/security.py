"""JWT verification against auth's JWKS, the request principal and workspace role checks.

Every service verifies tokens itself (the gateway is not the only wall). The signature is
checked before any claim is trusted; only algorithms on the allowlist and keys from our own JWKS
are accepted (a token's ``jku``/``jwk``/``x5u`` headers are ignored), and ``exp``, ``nbf``,
``aud`` and ``iss`` are enforced.

A verifier built with ``cache_size`` remembers each token it accepted (by its SHA-256, never the
token itself) until the token's ``exp``, so a busy client costs one signature check per token,
not one per request. Only what the token proves is cached (signature, expiry, audience, issuer);
what can change during a token's life (workspace membership) is checked by the services on every
request, as without the cache.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Literal

import httpx
import jwt
from cachetools import TLRUCache

from socialseed.errors import (
    WORKSPACE_NOT_IN_TOKEN,
    InsufficientRole,
    ServiceUnavailable,
    Unauthorized,
    WorkspaceNotFound,
)
from socialseed.settings import ServiceSettings

Role = Literal["owner", "admin", "editor", "viewer"]
ROLE_RANK: dict[str, int] = {"viewer": 1, "editor": 2, "admin": 3, "owner": 4}
ALLOWED_ALGORITHMS = ("EdDSA",)


@dataclass(frozen=True)
class Principal:
    """The authenticated caller and their role in each workspace (from the access token)."""

    user_id: uuid.UUID
    roles: dict[uuid.UUID, str] = field(default_factory=dict)
    token_id: str = ""
    # When auth signed the token (its ``iat``, whole seconds, auth's clock).
    issued_at: datetime | None = None
    # Set when the caller is an API key (the gateway exchanged it for this token): then
    # ``user_id`` is the key's own id and ``roles`` its one workspace.
    api_key_id: uuid.UUID | None = None

    def with_roles(self, roles: dict[uuid.UUID, str]) -> Principal:
        return replace(self, roles=roles)

    def require(self, workspace_id: uuid.UUID, minimum: Role = "viewer") -> str:
        """The caller's role, or WorkspaceNotFound (not a member, as far as the token says:
        no hint the workspace exists; the words suggest a fresh token, since one issued
        before the caller created or joined the workspace does not carry it) /
        InsufficientRole (a member whose role is too low)."""
        role = self.roles.get(workspace_id)
        if role is None:
            raise WorkspaceNotFound(WORKSPACE_NOT_IN_TOKEN)
        require_role(role, minimum)
        return role


def require_role(role: str, minimum: Role) -> None:
    """InsufficientRole unless ``role`` is ``minimum`` or higher."""
    if ROLE_RANK[role] < ROLE_RANK[minimum]:
        raise InsufficientRole(f"This needs the {minimum} role or higher; you are {role}.")


def _until_exp(_digest: bytes, claims: dict[str, Any], _now: float) -> float:
    """A cached token is forgotten at its ``exp``: the cache never extends its life."""
    return float(claims["exp"])


class JWTVerifier:
    @classmethod
    def for_service(cls, settings: ServiceSettings) -> JWTVerifier:
        """A service's verifier of its callers' access tokens: auth's JWKS, issuer, audience and
        the token cache from its settings."""
        return cls(
            settings.jwks_url,
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            cache_size=settings.jwt_cache_size,
        )

    def __init__(
        self,
        jwks_url: str,
        *,
        issuer: str,
        audience: str,
        algorithms: tuple[str, ...] = ALLOWED_ALGORITHMS,
        leeway: float = 5.0,
        refetch_interval: float = 30.0,
        jwks_loader: Callable[[], Awaitable[dict[str, Any]]] | None = None,
        cache_size: int = 0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """``cache_size``: how many accepted tokens to remember until their ``exp`` (least
        recently used first out; 0: none). ``clock``: seconds since the epoch, the time the
        cache and the expiry check go by."""
        self.jwks_url = jwks_url
        self.issuer = issuer
        self.audience = audience
        self.algorithms = algorithms
        self.leeway = leeway
        self.refetch_interval = refetch_interval
        self._loader = jwks_loader or self._fetch_jwks
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at = 0.0
        self._lock = asyncio.Lock()
        self._clock = clock
        self._accepted: TLRUCache[bytes, dict[str, Any]] | None = (
            TLRUCache(cache_size, ttu=_until_exp, timer=clock) if cache_size > 0 else None
        )

    async def _fetch_jwks(self) -> dict[str, Any]:
        async with httpx.AsyncClient(timeout=5.0) as client:
            response = await client.get(self.jwks_url)
            response.raise_for_status()
            data: dict[str, Any] = response.json()
            return data

    async def _key(self, kid: str) -> jwt.PyJWK | None:
        if kid in self._keys:
            return self._keys[kid]
        async with self._lock:
            # An unknown kid refetches (key rotation), but at most every refetch_interval:
            # tokens with random kids must not turn us into a JWKS request amplifier.
            if (
                kid not in self._keys
                and time.monotonic() - self._fetched_at > self.refetch_interval
            ):
                # A failed attempt counts too: a dead or broken auth must not cost a fetch
                # per request.
                self._fetched_at = time.monotonic()
                try:
                    jwks = await self._loader()
                    keys = jwt.PyJWKSet.from_dict(jwks).keys
                except (httpx.HTTPError, jwt.PyJWTError, ValueError, TypeError, KeyError) as exc:
                    raise ServiceUnavailable("Cannot load signing keys.") from exc
                self._keys = {
                    k.key_id: k for k in keys if k.key_id and k.algorithm_name in self.algorithms
                }
        return self._keys.get(kid)

    async def verify(self, token: str) -> dict[str, Any]:
        """The token's claims (do not change them: they may be shared with later requests),
        or Unauthorized."""
        if self._accepted is None:
            return await self._verify_signed(token)
        digest = hashlib.sha256(token.encode()).digest()
        claims = self._accepted.get(digest)
        if claims is None:
            claims = await self._verify_signed(token)
            self._accepted[digest] = claims  # not kept at all once past its exp
        return claims

    async def _verify_signed(self, token: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise Unauthorized("Malformed token.") from exc
        alg, kid = header.get("alg"), header.get("kid")
        if alg not in self.algorithms or not isinstance(kid, str):
            raise Unauthorized("Token algorithm or key id not accepted.")
        key = await self._key(kid)
        if key is None:
            raise Unauthorized("Unknown signing key.")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key=key,
                algorithms=list(self.algorithms),
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway,
                options={"require": ["exp", "iat", "sub", "iss", "aud"]},
            )
        except jwt.PyJWTError as exc:
            raise Unauthorized("Invalid or expired token.") from exc
        if claims.get("typ") != "access":
            raise Unauthorized("Not an access token.")
        if (
            not isinstance(claims["exp"], int | float)
            or claims["exp"] + self.leeway <= self._clock()
        ):
            raise Unauthorized("Invalid or expired token.")  # by our clock, as the cache goes
        return claims

    async def principal_from(self, authorization: str | None) -> Principal:
        if not authorization:
            raise Unauthorized("Missing bearer token.", headers={"WWW-Authenticate": "Bearer"})
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise Unauthorized("Use an Authorization: Bearer token.")
        claims = await self.verify(token.strip())
        try:
            return Principal(
                user_id=uuid.UUID(claims["sub"]),
                roles={uuid.UUID(ws): role for ws, role in claims.get("ws", {}).items()},
                token_id=str(claims.get("jti", "")),
                issued_at=datetime.fromtimestamp(float(claims["iat"]), UTC),
                api_key_id=uuid.UUID(claims["akid"]) if "akid" in claims else None,
            )
        except (ValueError, AttributeError, TypeError, OverflowError, OSError) as exc:
            raise Unauthorized("Malformed token claims.") from exc
