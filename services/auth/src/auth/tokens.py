"""Access JWTs (EdDSA, short-lived, carrying workspace roles) and opaque refresh tokens."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import datetime, timedelta
from typing import Any

import jwt

from auth.keys import SigningKey
from auth.settings import AuthSettings


def new_refresh_token() -> str:
    return secrets.token_urlsafe(32)  # 256 bits


def hash_refresh_token(token: str) -> bytes:
    # High-entropy random tokens need no slow hash: SHA-256 is preimage-resistant enough.
    return hashlib.sha256(token.encode()).digest()


def issue_access_token(
    key: SigningKey,
    settings: AuthSettings,
    *,
    user_id: uuid.UUID,
    email: str,
    roles: dict[uuid.UUID, str],
    now: datetime,
    api_key_id: uuid.UUID | None = None,
) -> str:
    claims: dict[str, Any] = {
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "sub": str(user_id),
        "email": email,
        "iat": now,
        "nbf": now,
        "exp": now + timedelta(seconds=settings.access_token_ttl),
        "jti": uuid.uuid4().hex,
        "typ": "access",
        "ws": {str(ws): role for ws, role in roles.items()},
    }
    if api_key_id is not None:  # an API key's token (see auth.apikeys): short-lived
        claims["akid"] = str(api_key_id)
        claims["exp"] = now + timedelta(seconds=settings.api_key_token_ttl)
    return jwt.encode(claims, key.private, algorithm="EdDSA", headers={"kid": key.kid})
