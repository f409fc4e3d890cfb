"""Which service answers which public path, and which paths need no bearer token."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Route:
    prefix: str
    service: str
    public: bool = False  # no bearer token needed (the upstream authenticates otherwise)
    login: bool = False  # credential endpoints: the strict per-IP limit applies
    media: bool = False  # uploads: the larger body ceiling applies


# Longest prefix first wins.
ROUTES: tuple[Route, ...] = (
    Route("/api/v1/auth/register", "auth", public=True, login=True),
    Route("/api/v1/auth/login", "auth", public=True, login=True),
    Route("/api/v1/auth/refresh", "auth", public=True, login=True),
    Route("/api/v1/auth/logout", "auth", public=True),
    Route("/api/v1/auth/", "auth"),
    Route("/api/v1/workspaces", "auth"),
    Route("/api/v1/invitations", "auth"),
    Route("/api/v1/api-keys", "auth"),
    Route("/.well-known/jwks.json", "auth", public=True),
    Route("/api/v1/oauth/", "accounts", public=True),  # platform redirects: state authenticates
    Route("/api/v1/accounts", "accounts"),
    Route("/api/v1/posts", "publisher"),
    Route("/api/v1/media", "publisher", media=True),
    Route("/api/v1/analytics", "analytics"),
    Route("/api/v1/webhooks", "webhooks"),
)


def match(path: str) -> Route | None:
    best: Route | None = None
    for route in ROUTES:
        hit = path == route.prefix.rstrip("/") or path.startswith(
            route.prefix if route.prefix.endswith("/") else route.prefix + "/"
        )
        if hit and (best is None or len(route.prefix) > len(best.prefix)):
            best = route
    return best
