"""Which service answers which public path (no network: the route table alone)."""

from __future__ import annotations

from gateway.routes import match


def test_routes_pick_the_longest_prefix() -> None:
    assert match("/api/v1/auth/login").login  # type: ignore[union-attr]
    assert match("/api/v1/auth/me").public is False  # type: ignore[union-attr]
    assert match("/api/v1/workspaces/1/members").service == "auth"  # type: ignore[union-attr]
    assert match("/api/v1/oauth/x/callback").public  # type: ignore[union-attr]
    assert match("/api/v1/workspacesX") is None
    assert match("/internal/accounts/1/access-token") is None
