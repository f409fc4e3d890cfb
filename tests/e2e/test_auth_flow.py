"""The newcomer's path through the gateway: register, log in, workspace, invitations, roles."""

from __future__ import annotations

import uuid

import httpx

from tests.conftest import GATEWAY_METRICS_TOKEN, add_member, invite, make_user, make_workspace


async def test_register_login_me_and_workspace_with_member(api: httpx.AsyncClient) -> None:
    owner = await make_user(api, name="Owner")
    ws = await make_workspace(api, owner, timezone="Europe/Paris", require_approval=True)
    assert ws["timezone"] == "Europe/Paris" and ws["require_approval"] is True

    colleague = await make_user(api, name="Colleague")
    await add_member(api, owner, ws["id"], colleague, "editor")

    me = (await api.get("/api/v1/auth/me", headers=colleague.headers)).json()
    assert me["workspaces"] == [{"id": ws["id"], "name": "Acme", "role": "editor"}]
    assert me["invitations"] == []
    listed = (await api.get("/api/v1/workspaces", headers=colleague.headers)).json()
    assert [w["id"] for w in listed] == [ws["id"]]


async def test_register_errors(api: httpx.AsyncClient) -> None:
    user = await make_user(api)
    r = await api.post(
        "/api/v1/auth/register",
        json={"email": user.email.upper(), "password": "another good passphrase", "name": "X"},
    )
    assert (r.status_code, r.json()["error"]) == (409, "EmailTaken")
    # Shorter than 8 breaks the schema (422, and the schema says so); a schema-valid but
    # common password breaks the rule: 400 WeakPassword, documented on the route.
    r = await api.post(
        "/api/v1/auth/register",
        json={"email": f"{uuid.uuid4().hex}@example.com", "password": "short", "name": "W"},
    )
    assert (r.status_code, r.json()["error"]) == (422, "ValidationError")
    for weak in ("password123", "Password1"):
        r = await api.post(
            "/api/v1/auth/register",
            json={"email": f"{uuid.uuid4().hex}@example.com", "password": weak, "name": "W"},
        )
        assert (r.status_code, r.json()["error"]) == (400, "WeakPassword"), weak
    spec = (await api.get("/api/v1/openapi.json")).json()
    register = spec["paths"]["/api/v1/auth/register"]["post"]
    assert "400" in register["responses"]
    body_ref = register["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    body = spec["components"]["schemas"][body_ref.rsplit("/", 1)[-1]]
    assert body["properties"]["password"]["minLength"] == 8
    r = await api.post("/api/v1/auth/register", json={"email": "not-an-email", "password": "x"})
    assert (r.status_code, r.json()["error"]) == (422, "ValidationError")
    # An address the schema allows but nobody can receive mail at: a rule, a named 400.
    body = {"email": "ada@example.invalid", "password": "a long passphrase", "name": "A"}
    r = await api.post("/api/v1/auth/register", json=body)
    assert (r.status_code, r.json()["error"]) == (400, "InvalidEmail")


async def test_refresh_rotates_and_logout_revokes(api: httpx.AsyncClient) -> None:
    user = await make_user(api)
    r = await api.post("/api/v1/auth/refresh", json={"refresh_token": user.refresh})
    assert r.status_code == 200
    pair = r.json()
    assert pair["token_type"] == "bearer" and pair["refresh_token"] != user.refresh
    assert (
        await api.post("/api/v1/auth/logout", json={"refresh_token": pair["refresh_token"]})
    ).status_code == 204
    r = await api.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert (r.status_code, r.json()["error"]) == (401, "RefreshTokenInvalid")


async def test_roles_viewer_cannot_change_and_owner_stays(api: httpx.AsyncClient) -> None:
    owner = await make_user(api, name="Owner")
    viewer = await make_user(api, name="Viewer")
    ws = await make_workspace(api, owner)
    wid = ws["id"]
    await add_member(api, owner, wid, viewer, "viewer")
    assert (await api.get(f"/api/v1/workspaces/{wid}", headers=viewer.headers)).status_code == 200
    r = await api.patch(f"/api/v1/workspaces/{wid}", json={"name": "Mine"}, headers=viewer.headers)
    assert (r.status_code, r.json()["error"]) == (403, "InsufficientRole")
    r = await invite(api, viewer, wid, owner.email, "viewer")
    assert (r.status_code, r.json()["error"]) == (403, "InsufficientRole")
    # The last owner cannot be demoted or removed.
    r = await api.patch(
        f"/api/v1/workspaces/{wid}/members/{owner.id}",
        json={"role": "admin"},
        headers=owner.headers,
    )
    assert (r.status_code, r.json()["error"]) == (409, "LastOwner")
    r = await api.delete(f"/api/v1/workspaces/{wid}/members/{owner.id}", headers=owner.headers)
    assert (r.status_code, r.json()["error"]) == (409, "LastOwner")
    # Promote, then the viewer-turned-admin renames; the viewer may also leave.
    r = await api.patch(
        f"/api/v1/workspaces/{wid}/members/{viewer.id}",
        json={"role": "admin"},
        headers=owner.headers,
    )
    assert r.json()["role"] == "admin"
    r = await api.patch(
        f"/api/v1/workspaces/{wid}", json={"name": "Renamed"}, headers=viewer.headers
    )
    assert r.status_code == 200 and r.json()["name"] == "Renamed"
    r = await api.delete(f"/api/v1/workspaces/{wid}/members/{viewer.id}", headers=viewer.headers)
    assert r.status_code == 204
    assert (await api.get(f"/api/v1/workspaces/{wid}", headers=viewer.headers)).status_code == 404


async def test_gateway_health_metrics_openapi(api: httpx.AsyncClient) -> None:
    operator = {"Authorization": f"Bearer {GATEWAY_METRICS_TOKEN}"}
    assert (await api.get("/healthz")).json() == {"status": "ok"}
    health = await api.get("/healthz", headers=operator)
    assert health.status_code == 200 and health.json()["checks"]["auth"] == "ok"
    spec = (await api.get("/api/v1/openapi.json")).json()
    assert (
        "/api/v1/auth/login" in spec["paths"]
        and "/api/v1/workspaces/{workspace_id}" in spec["paths"]
    )
    assert spec["paths"]["/api/v1/workspaces"]["post"]["security"] == [{"bearer": []}]
    assert "swagger" in (await api.get("/docs")).text.lower()
    assert (await api.get("/metrics")).status_code == 401
    metrics = (await api.get("/metrics", headers=operator)).text
    assert "socialseed_http_requests_total" in metrics
    r = await api.get("/api/v1/nothing-here")
    assert (r.status_code, r.json()["error"]) == (404, "NotFound")
    r = await api.get("/api/v1/workspaces")
    assert (r.status_code, r.json()["error"]) == (401, "Unauthorized")
