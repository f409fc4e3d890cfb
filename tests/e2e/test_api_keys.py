"""API keys through the gateway against the real stack: created by admins and owners, shown
once, stored as a keyed hash, honoured by every service in their own workspace only, limited
per key, revoked at once."""

from __future__ import annotations

import hashlib
import hmac
import uuid

import asyncpg
import httpx
from pydantic import SecretStr

from gateway.app import create_app as create_gateway
from gateway.settings import GatewaySettings
from socialseed.testing import Infra, serve
from tests.conftest import (
    GATEWAY_EXCHANGE_SECRET,
    RELAXED,
    Stack,
    add_member,
    make_user,
    owner_with_workspace,
)
from tests.e2e.test_posts import later, x_account


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def new_key(
    api: httpx.AsyncClient, headers: dict[str, str], ws: str, role: str = "editor"
) -> httpx.Response:
    return await api.post(
        "/api/v1/api-keys",
        json={"workspace_id": ws, "name": "n8n", "role": role},
        headers=headers,
    )


async def test_a_key_acts_in_its_workspace_through_every_service(
    api: httpx.AsyncClient, stack: Stack, infra: Infra
) -> None:
    owner, ws = await owner_with_workspace(api)
    account = await x_account(api, owner, ws)
    r = await new_key(api, owner.headers, ws)
    assert r.status_code == 201, r.text
    created = r.json()
    key = created["key"]
    assert key.startswith("ssk_") and len(key) >= 40
    assert key.startswith(created["prefix"]) and created["role"] == "editor"
    listed = await api.get("/api/v1/api-keys", params={"workspace_id": ws}, headers=owner.headers)
    assert listed.status_code == 200 and key not in listed.text
    [entry] = listed.json()
    assert entry["id"] == created["id"] and entry["prefix"] == created["prefix"]
    # Stored as HMAC-SHA256 under the pepper, never the key.
    conn = await asyncpg.connect(infra.service_url("auth").replace("+asyncpg", ""))
    try:
        row = await conn.fetchrow(
            "SELECT key_hash, last_used_at FROM auth.api_keys WHERE id = $1",
            uuid.UUID(created["id"]),
        )
    finally:
        await conn.close()
    pepper = stack.settings.api_key_pepper.get_secret_value().encode()
    assert bytes(row["key_hash"]) == hmac.new(pepper, key.encode(), hashlib.sha256).digest()
    assert row["last_used_at"] is None

    # publisher (which asks auth about the workspace with the key's token), accounts, analytics
    post = await api.post(
        "/api/v1/posts",
        json={
            "workspace_id": ws,
            "text": "From a script",
            "targets": [{"account_id": account}],
            "scheduled_at": later(),
        },
        headers=bearer(key),
    )
    assert post.status_code == 201, post.text
    assert post.json()["author_id"] == created["id"]
    accounts = await api.get("/api/v1/accounts", params={"workspace_id": ws}, headers=bearer(key))
    assert accounts.status_code == 200 and accounts.json()[0]["id"] == account
    workspace = await api.get(f"/api/v1/workspaces/{ws}", headers=bearer(key))
    assert workspace.status_code == 200 and workspace.json()["role"] == "editor"
    listed = await api.get("/api/v1/api-keys", params={"workspace_id": ws}, headers=owner.headers)
    assert listed.json()[0]["last_used_at"] is not None

    # another workspace: as for a member without access
    _, other_ws = await owner_with_workspace(api, name="Other")
    r = await api.get("/api/v1/accounts", params={"workspace_id": other_ws}, headers=bearer(key))
    assert r.status_code == 404 and r.json()["error"] == "WorkspaceNotFound"
    r = await api.get(f"/api/v1/workspaces/{other_ws}", headers=bearer(key))
    assert r.status_code == 404
    # an editor key cannot do what editors cannot
    r = await api.patch(f"/api/v1/workspaces/{ws}", json={"name": "x"}, headers=bearer(key))
    assert r.status_code in (403, 404), r.text
    # a key cannot make keys (a leaked key must not outlive its revocation)
    r = await new_key(api, bearer(key), ws, "viewer")
    assert r.status_code == 403 and r.json()["error"] == "ApiKeyNotAllowed"


async def test_only_admins_and_owners_make_keys_up_to_their_role(
    api: httpx.AsyncClient, stack: Stack
) -> None:
    owner, ws = await owner_with_workspace(api)
    editor = await add_member(api, owner, ws, await make_user(api, name="Ed"), "editor")
    admin = await add_member(api, owner, ws, await make_user(api, name="Ad"), "admin")
    r = await new_key(api, editor.headers, ws, "viewer")
    assert r.status_code == 403 and r.json()["error"] == "InsufficientRole"
    r = await new_key(api, admin.headers, ws, "owner")
    assert r.status_code == 403 and r.json()["error"] == "InsufficientRole"
    assert (await new_key(api, admin.headers, ws, "admin")).status_code == 201
    r = await api.get("/api/v1/api-keys", params={"workspace_id": ws}, headers=editor.headers)
    assert r.status_code == 403
    # another workspace's key: 404, and it keeps working
    key = (await new_key(api, owner.headers, ws)).json()
    other, _ = await owner_with_workspace(api, name="Other")
    r = await api.delete(f"/api/v1/api-keys/{key['id']}", headers=other.headers)
    assert r.status_code == 404 and r.json()["error"] == "ApiKeyNotFound"
    r = await api.get("/api/v1/accounts", params={"workspace_id": ws}, headers=bearer(key["key"]))
    assert r.status_code == 200


async def test_a_revoked_key_stops_at_once(api: httpx.AsyncClient, stack: Stack) -> None:
    owner, ws = await owner_with_workspace(api)
    key = (await new_key(api, owner.headers, ws)).json()
    params = {"workspace_id": ws}
    r = await api.get("/api/v1/accounts", params=params, headers=bearer(key["key"]))
    assert r.status_code == 200  # the exchange is cached now
    r = await api.delete(f"/api/v1/api-keys/{key['id']}", headers=owner.headers)
    assert r.status_code == 204
    r = await api.get("/api/v1/accounts", params=params, headers=bearer(key["key"]))
    assert r.status_code == 401, r.text
    listed = await api.get("/api/v1/api-keys", params=params, headers=owner.headers)
    assert listed.json() == []
    r = await api.get("/api/v1/accounts", params=params, headers=bearer("ssk_" + "A" * 43))
    assert r.status_code == 401


async def test_rate_limits_count_per_key(api: httpx.AsyncClient, stack: Stack) -> None:
    """A gateway of the test's own with a per-caller limit of 3 a minute: one key spends its
    own 3, the other key of the same workspace (and creator) still has its own."""
    owner, ws = await owner_with_workspace(api)
    first = (await new_key(api, owner.headers, ws)).json()["key"]
    second = (await new_key(api, owner.headers, ws)).json()["key"]
    settings = GatewaySettings(
        upstreams={"auth": stack.auth_url, "accounts": stack.accounts_url},
        limit_per_ip=RELAXED,
        limit_per_user="3/minute",
        api_key_exchange_secret=SecretStr(GATEWAY_EXCHANGE_SECRET),
    )
    with serve(create_gateway(settings)) as url:
        async with httpx.AsyncClient(base_url=url, timeout=20) as own:
            params = {"workspace_id": ws}
            codes = [
                (
                    await own.get("/api/v1/accounts", params=params, headers=bearer(first))
                ).status_code
                for _ in range(4)
            ]
            assert codes == [200, 200, 200, 429]
            r = await own.get("/api/v1/accounts", params=params, headers=bearer(second))
            assert r.status_code == 200
