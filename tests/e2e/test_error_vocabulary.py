"""One error vocabulary: the same situation answers the same error name whichever service
serves the route (``socialseed.errors``), through the gateway.

- a workspace the caller's token does not carry (not a member, no such workspace, or one the
  caller created or joined after the token was issued) is 404 ``WorkspaceNotFound``, with the
  same words in all three cases (no hint the workspace exists) and a hint to refresh the token;
- a member whose role is too low is 403 ``InsufficientRole``.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from socialseed.errors import WORKSPACE_NOT_IN_TOKEN
from tests.conftest import User, add_member, make_user, make_workspace, refresh

# (service, method, path, JSON body); "{ws}" stands for the workspace id.
Route = tuple[str, str, str, dict[str, Any] | None]
READS: list[Route] = [
    ("accounts", "GET", "/api/v1/accounts?workspace_id={ws}", None),
    ("publisher", "GET", "/api/v1/posts?workspace_id={ws}", None),
    ("publisher", "GET", "/api/v1/media?workspace_id={ws}", None),
    ("analytics", "GET", "/api/v1/analytics/sync-status?workspace_id={ws}", None),
    ("analytics", "GET", "/api/v1/analytics/dashboard?workspace_id={ws}", None),
]
EDITOR_ACTIONS: list[Route] = [
    ("accounts", "POST", "/api/v1/accounts/connect", {"workspace_id": "{ws}", "platform": "x"}),
    (
        "publisher",
        "POST",
        "/api/v1/posts/validate",
        {"workspace_id": "{ws}", "text": "hi", "targets": [{"account_id": str(uuid.uuid4())}]},
    ),
    ("analytics", "POST", "/api/v1/analytics/refresh", {"workspace_id": "{ws}"}),
]
ADMIN_ACTIONS: list[Route] = [
    (
        "auth",
        "POST",
        "/api/v1/workspaces/{ws}/invitations",
        {"email": "someone@example.com", "role": "viewer"},
    ),
]


def _ids(routes: list[Route]) -> list[str]:
    return [f"{service}:{method} {path.split('?')[0]}" for service, method, path, _ in routes]


def _fill(value: Any, ws: str) -> Any:
    if isinstance(value, str):
        return value.replace("{ws}", ws)
    if isinstance(value, dict):
        return {k: _fill(v, ws) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, ws) for v in value]
    return value


async def call(api: httpx.AsyncClient, route: Route, user: User, ws: str) -> httpx.Response:
    _, method, path, body = route
    return await api.request(method, _fill(path, ws), json=_fill(body, ws), headers=user.headers)


@pytest.mark.parametrize("route", READS + EDITOR_ACTIONS, ids=_ids(READS + EDITOR_ACTIONS))
async def test_a_workspace_the_token_does_not_carry_is_workspace_not_found(
    api: httpx.AsyncClient, route: Route
) -> None:
    user = await refresh(api, await make_user(api, name="Fresh"))
    stranger = await refresh(api, await make_user(api, name="Stranger"))
    # Created after the token was issued: the token does not carry it yet.
    new = str((await make_workspace(api, user))["id"])
    foreign = str((await make_workspace(api, stranger))["id"])
    answers = {
        "just created": await call(api, route, user, new),
        "another tenant's": await call(api, route, user, foreign),
        "none at all": await call(api, route, user, str(uuid.uuid4())),
    }
    for case, r in answers.items():
        assert (r.status_code, r.json()) == (
            404,
            {"error": "WorkspaceNotFound", "detail": WORKSPACE_NOT_IN_TOKEN},
        ), (case, r.text)
    assert "refresh your access token" in WORKSPACE_NOT_IN_TOKEN
    # The hint is right: with a fresh token the workspace is there.
    user = await refresh(api, user)
    r = await call(api, route, user, new)
    assert r.status_code != 404, r.text


@pytest.mark.parametrize(
    ("route", "role"),
    [(r, "viewer") for r in EDITOR_ACTIONS] + [(r, "editor") for r in ADMIN_ACTIONS],
    ids=_ids(EDITOR_ACTIONS) + _ids(ADMIN_ACTIONS),
)
async def test_a_role_too_low_is_insufficient_role(
    api: httpx.AsyncClient, route: Route, role: str
) -> None:
    owner = await refresh(api, await make_user(api, name="Owner"))
    ws = str((await make_workspace(api, owner))["id"])
    member = await add_member(api, await refresh(api, owner), ws, await make_user(api), role)
    r = await call(api, route, member, ws)
    assert (r.status_code, r.json()["error"]) == (403, "InsufficientRole"), r.text
