"""Loading auth's signing keys: failures are a 503 and are rate limited like successes.
Accepted tokens are cached until their exp, never longer, in a bounded cache."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from socialseed.errors import ServiceUnavailable, Unauthorized
from socialseed.security import JWTVerifier


def verifier(loader: Any) -> JWTVerifier:
    return JWTVerifier(
        "http://auth.invalid/jwks",
        issuer="i",
        audience="a",
        refetch_interval=30.0,
        jwks_loader=loader,
    )


async def test_a_failed_jwks_fetch_counts_for_the_refetch_rate_limit() -> None:
    calls = 0

    async def dead_auth() -> dict[str, Any]:
        nonlocal calls
        calls += 1
        raise httpx.ConnectError("auth is down")

    v = verifier(dead_auth)
    with pytest.raises(ServiceUnavailable):
        await v._key("k1")
    for _ in range(5):
        assert await v._key("k1") is None  # within the interval: no new fetch
    assert calls == 1


@pytest.mark.parametrize(
    "jwks",
    [
        {"keys": []},
        {"keys": [{"kty": "nonsense"}]},
        {"nokeys": 1},
        {"keys": "not a list"},
    ],
)
async def test_a_malformed_jwks_is_service_unavailable(jwks: dict[str, Any]) -> None:
    async def broken_auth() -> dict[str, Any]:
        return jwks

    with pytest.raises(ServiceUnavailable):
        await verifier(broken_auth)._key("k1")


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def signer() -> tuple[Ed25519PrivateKey, dict[str, Any]]:
    key = Ed25519PrivateKey.generate()
    public = json.loads(jwt.algorithms.OKPAlgorithm.to_jwk(key.public_key()))
    return key, {"keys": [{**public, "kid": "k1", "alg": "EdDSA", "use": "sig"}]}


def access_token(key: Ed25519PrivateKey, exp: float) -> str:
    claims = {
        "sub": str(uuid.uuid4()),
        "iss": "i",
        "aud": "a",
        "iat": int(time.time()),
        "exp": int(exp),
        "typ": "access",
    }
    return jwt.encode(claims, key, algorithm="EdDSA", headers={"kid": "k1"})


def cached_verifier(jwks: dict[str, Any], clock: Clock, size: int = 100) -> JWTVerifier:
    async def auth() -> dict[str, Any]:
        return jwks

    return JWTVerifier(
        "http://auth.invalid/jwks",
        issuer="i",
        audience="a",
        jwks_loader=auth,
        cache_size=size,
        clock=clock,
    )


def count_signature_checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    checked: list[str] = []
    real = jwt.decode

    def decode(token: str, *args: Any, **kwargs: Any) -> Any:
        checked.append(token)
        return real(token, *args, **kwargs)

    monkeypatch.setattr(jwt, "decode", decode)
    return checked


async def test_a_cached_token_costs_one_signature_check(
    signer: tuple[Ed25519PrivateKey, dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    key, jwks = signer
    checked = count_signature_checks(monkeypatch)
    v = cached_verifier(jwks, Clock())
    token, other = access_token(key, time.time() + 600), access_token(key, time.time() + 600)
    principals = [await v.principal_from(f"Bearer {token}") for _ in range(20)]
    assert len({p.user_id for p in principals}) == 1
    assert checked == [token]
    await v.principal_from(f"Bearer {other}")
    assert checked == [token, other]


async def test_a_cached_token_is_refused_once_expired(
    signer: tuple[Ed25519PrivateKey, dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    key, jwks = signer
    checked = count_signature_checks(monkeypatch)
    clock = Clock()
    v = cached_verifier(jwks, clock)
    exp = int(clock.now) + 60
    token = access_token(key, exp)
    await v.verify(token)
    clock.now = exp - 1
    await v.verify(token)  # still cached, still valid
    assert checked == [token]
    clock.now = exp  # the cache lets go at exp: past it only the verifier's leeway applies
    await v.verify(token)
    assert checked == [token, token]
    clock.now = exp + v.leeway
    for _ in range(2):
        with pytest.raises(Unauthorized):
            await v.verify(token)


async def test_the_cache_is_bounded(
    signer: tuple[Ed25519PrivateKey, dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    key, jwks = signer
    v = cached_verifier(jwks, Clock(), size=2)
    tokens = [access_token(key, time.time() + 600) for _ in range(3)]
    for token in tokens:
        await v.verify(token)
    checked = count_signature_checks(monkeypatch)
    await v.verify(tokens[2])
    await v.verify(tokens[0])  # the least recently used one was dropped
    assert checked == [tokens[0]]


async def test_a_forged_token_is_never_cached(
    signer: tuple[Ed25519PrivateKey, dict[str, Any]],
) -> None:
    _, jwks = signer
    v = cached_verifier(jwks, Clock())
    forged = access_token(Ed25519PrivateKey.generate(), time.time() + 600)
    for _ in range(2):
        with pytest.raises(Unauthorized):
            await v.verify(forged)
