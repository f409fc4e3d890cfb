"""Path normalisation and the deny wall, without the stack."""

from __future__ import annotations

import pytest

from gateway.paths import AmbiguousPath, normalise, refuse_upstream_internals
from gateway.routes import match
from socialseed.errors import NotFound

TRICKS = [
    b"/api/v1/oauth/../../../internal/accounts/1/access-token",
    b"/api/v1/oauth/x/./callback",
    b"/api/v1/oauth/%2e%2e/%2e%2e/%2e%2e/internal/accounts/1/access-token",
    b"/api/v1/oauth/%2E%2e/%2e%2E/metrics",
    b"/api/v1/oauth/.%2e/.%2E/openapi.json",
    b"/api/v1/oauth/%2e/callback",
    b"/api/v1/oauth/..%2f..%2Finternal",
    b"/api/v1/oauth/..%5c..%5Cinternal",
    b"/api/v1/oauth/..\\..\\internal",
    b"/api/v1/oauth//callback",
    b"//api/v1/auth/login",
    b"/api/v1/auth/login;jsessionid=1",
    b"/api/v1/auth/login%3bx",
    b"/api/v1/auth/login%00",
    b"/api/v1/auth/login\x00",
    b"/api/v1/auth/login%0d%0aX: y",
    b"/api/v1/auth/%252e%252e/metrics",
    b"/.well-known/jwks.json/../../metrics",
    b"api/v1/auth/login",
]


@pytest.mark.parametrize("raw", TRICKS)
def test_ambiguous_paths_are_refused(raw: bytes) -> None:
    with pytest.raises(AmbiguousPath):
        normalise(raw)


@pytest.mark.parametrize(
    ("raw", "path"),
    [
        (b"/api/v1/auth/login", "/api/v1/auth/login"),
        (b"/api/v1/workspaces/", "/api/v1/workspaces/"),
        (b"/api/v1/posts/caf%C3%A9", "/api/v1/posts/café"),
        (b"/api/v1/oauth/x/callback", "/api/v1/oauth/x/callback"),
        (b"/api/v1/oauth/x/.hidden", "/api/v1/oauth/x/.hidden"),
    ],
)
def test_canonical_paths_pass_unchanged(raw: bytes, path: str) -> None:
    assert normalise(raw) == path


@pytest.mark.parametrize(
    "path",
    [
        "/internal/accounts/1/access-token",
        "/metrics",
        "/docs",
        "/openapi.json",
        "/healthz",
        "/Metrics/",
        "/docs/oauth2-redirect",
        "/INTERNAL/x",
    ],
)
def test_upstream_internals_are_denied_even_if_routed(path: str) -> None:
    assert match(path) is None
    with pytest.raises(NotFound):
        refuse_upstream_internals(path)


def test_public_paths_pass_the_wall() -> None:
    refuse_upstream_internals("/api/v1/oauth/x/callback")
    refuse_upstream_internals("/.well-known/jwks.json")
