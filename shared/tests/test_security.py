"""Loading auth's signing keys: failures are a 503 and are rate limited like successes."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from socialseed.errors import ServiceUnavailable
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
