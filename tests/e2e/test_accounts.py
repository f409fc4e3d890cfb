"""Connecting social accounts through the gateway against the platform sandbox."""

from __future__ import annotations

import asyncio
import logging
import subprocess
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import asyncpg
import httpx
import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr
from sqlalchemy.engine import make_url

from accounts.app import create_app as create_accounts
from accounts.background import refresh_due_tokens
from accounts.cipher import TokenCipher
from accounts.cli import rotate_keys
from sandbox.settings import SandboxSettings
from socialseed.devstack.postgres import ensure_pg_bindir
from socialseed.platforms import Platform, PlatformsConfig, Profile, TokenSet, build_providers
from socialseed.testing import TEST_DATABASE, Infra
from socialseed.vault import AccountUnusable, TokenVault
from tests.conftest import (
    Stack,
    add_member,
    connect_account,
    make_user,
    own_accounts_database,
    own_accounts_service,
    owner_with_workspace,
)

PLATFORMS = ["tiktok", "instagram", "facebook", "x", "linkedin", "youtube"]


async def pg(infra: Infra) -> asyncpg.Connection:
    return await asyncpg.connect(infra.service_url("accounts").replace("+asyncpg", ""))


async def sandbox_tokens(stack: Stack, platform: str | None = None) -> list[dict[str, str]]:
    async with httpx.AsyncClient(base_url=stack.sandbox_url) as sb:
        params = {"platform": platform} if platform else {}
        return list((await sb.get("/_sandbox/tokens", params=params)).json()["tokens"])


async def token_calls(stack: Stack, account: str, platform: str = "x") -> int:
    """Calls to the platform's token endpoint that carried a code or token of ``account`` (a
    sandbox user id or name): only what this test caused, whatever else shares the sandbox."""
    endpoint = {"x": "POST /2/oauth2/token"}[platform]
    async with httpx.AsyncClient(base_url=stack.sandbox_url) as sb:
        r = await sb.get("/_sandbox/stats", params={"account": account})
    stats = r.json()["platforms"]
    return int(stats.get(platform, {}).get("endpoints", {}).get(endpoint, {}).get("calls", 0))


async def test_connect_all_six_platforms(api: httpx.AsyncClient, stack: Stack) -> None:
    user, ws = await owner_with_workspace(api)
    connected: dict[str, list[dict[str, object]]] = {}
    for platform in PLATFORMS:
        connected[platform] = await connect_account(
            api, user, ws, platform, f"{platform}_{uuid.uuid4().hex[:6]}"
        )
    assert all(len(accs) >= 1 for accs in connected.values())
    assert len(connected["facebook"]) >= 2  # every page granted becomes an account
    listed = (
        await api.get("/api/v1/accounts", params={"workspace_id": ws}, headers=user.headers)
    ).json()
    assert sorted({a["platform"] for a in listed}) == sorted(PLATFORMS)
    for account in listed:
        assert account["status"] == "active"
        assert account["health"]["score"] > 0
        assert account["username"] and account["platform_user_id"]
        assert not {"access_token", "refresh_token"} & set(account)
    # no token the platforms issued appears in our API answers
    body = str(listed)
    for token in await sandbox_tokens(stack):
        assert token["value"] not in body


async def test_reconnect_updates_instead_of_duplicating(
    api: httpx.AsyncClient, stack: Stack
) -> None:
    user, ws = await owner_with_workspace(api)
    name = f"yt_{uuid.uuid4().hex[:6]}"
    first = await connect_account(api, user, ws, "youtube", name)
    again = await connect_account(api, user, ws, "youtube", name)
    assert [a["id"] for a in again] == [a["id"] for a in first]
    listed = (
        await api.get("/api/v1/accounts", params={"workspace_id": ws}, headers=user.headers)
    ).json()
    assert len(listed) == 1


async def test_connect_redirects_back_to_the_app(api: httpx.AsyncClient) -> None:
    user, ws = await owner_with_workspace(api)
    r = await api.post(
        "/api/v1/accounts/connect",
        json={"workspace_id": ws, "platform": "x", "redirect_uri": "https://evil.example/steal"},
        headers=user.headers,
    )
    assert (r.status_code, r.json()["error"]) == (400, "RedirectNotAllowed")
    r = await api.post(
        "/api/v1/accounts/connect",
        json={"workspace_id": ws, "platform": "x", "redirect_uri": "http://localhost:3000/done"},
        headers=user.headers,
    )
    consent = await api.get(f"{r.json()['authorize_url']}&sandbox_approve=x_{uuid.uuid4().hex[:6]}")
    back = await api.get(consent.headers["location"])
    assert back.status_code == 302
    target = urlsplit(back.headers["location"])
    assert f"{target.scheme}://{target.netloc}{target.path}" == "http://localhost:3000/done"
    query = parse_qs(target.query)
    assert query["state"] == [r.json()["state"]]
    done = await api.post(
        "/api/v1/accounts/oauth/complete",
        json={"state": query["state"][0], "code": query["code"][0]},
        headers=user.headers,
    )
    assert done.status_code == 201, done.text
    assert len(done.json()["accounts"]) == 1

    # a denied consent is passed back to the app as `error`, and spends the state
    r = await api.post(
        "/api/v1/accounts/connect",
        json={"workspace_id": ws, "platform": "x", "redirect_uri": "http://localhost:3000/done"},
        headers=user.headers,
    )
    denied = await api.get(f"{r.json()['authorize_url']}&sandbox_deny=1")
    back = await api.get(denied.headers["location"])
    assert back.status_code == 302
    query = parse_qs(urlsplit(back.headers["location"]).query)
    assert query["state"] == [r.json()["state"]] and query["error"] and "code" not in query
    again = await api.get(denied.headers["location"])
    assert (again.status_code, again.json()["error"]) == (400, "InvalidState")


async def test_callback_without_parameters_is_a_named_400(api: httpx.AsyncClient) -> None:
    r = await api.get("/api/v1/oauth/x/callback")
    assert (r.status_code, r.json()["error"]) == (400, "InvalidState")
    user, ws = await owner_with_workspace(api)
    r = await api.post(
        "/api/v1/accounts/connect", json={"workspace_id": ws, "platform": "x"}, headers=user.headers
    )
    r = await api.get("/api/v1/oauth/x/callback", params={"state": r.json()["state"]})
    assert (r.status_code, r.json()["error"]) == (400, "MissingCode")


async def test_another_user_cannot_complete_a_connect(api: httpx.AsyncClient, stack: Stack) -> None:
    """Account injection: a code and state from Alice's consent cannot be completed by Bob
    (nor attached to his workspace); his attempt exchanges nothing and leaves the state
    usable by Alice."""
    alice, ws = await owner_with_workspace(api, "Alice")
    bob, _ = await owner_with_workspace(api, "Bob")
    r = await api.post(
        "/api/v1/accounts/connect",
        json={"workspace_id": ws, "platform": "x"},
        headers=alice.headers,
    )
    name = f"a_{uuid.uuid4().hex[:6]}"
    consent = await api.get(f"{r.json()['authorize_url']}&sandbox_approve={name}")
    callback = await api.get(consent.headers["location"])
    assert callback.status_code == 200, callback.text
    r = await api.post("/api/v1/accounts/oauth/complete", json=callback.json(), headers=bob.headers)
    assert (r.status_code, r.json()["error"]) == (404, "ConnectNotFound")
    assert await token_calls(stack, name) == 0  # never exchanged
    r = await api.post(
        "/api/v1/accounts/oauth/complete", json=callback.json(), headers=alice.headers
    )
    assert r.status_code == 201, r.text
    [account] = r.json()["accounts"]
    assert account["workspace_id"] == ws
    assert await token_calls(stack, name) == 1
    # the callback is anonymous and answers the same to anyone; completion needs sign-in
    r = await api.post("/api/v1/accounts/oauth/complete", json=callback.json())
    assert r.status_code == 401


async def test_foreign_workspace_accounts_are_not_found(api: httpx.AsyncClient) -> None:
    alice, ws = await owner_with_workspace(api, "Alice")
    [account] = await connect_account(api, alice, ws, "x", f"x_{uuid.uuid4().hex[:6]}")
    bob, _ = await owner_with_workspace(api, "Bob")
    aid = account["id"]
    for method, url in [
        ("GET", f"/api/v1/accounts/{aid}"),
        ("DELETE", f"/api/v1/accounts/{aid}"),
        ("POST", f"/api/v1/accounts/{aid}/sync"),
    ]:
        r = await api.request(method, url, headers=bob.headers)
        assert (r.status_code, r.json()["error"]) == (404, "AccountNotFound"), (method, url)
    r = await api.get("/api/v1/accounts", params={"workspace_id": ws}, headers=bob.headers)
    assert r.status_code == 404
    r = await api.post(
        "/api/v1/accounts/connect", json={"workspace_id": ws, "platform": "x"}, headers=bob.headers
    )
    assert r.status_code == 404
    assert (await api.get(f"/api/v1/accounts/{aid}", headers=alice.headers)).status_code == 200


async def test_viewer_reads_but_cannot_connect_or_remove(api: httpx.AsyncClient) -> None:
    owner, ws = await owner_with_workspace(api)
    [account] = await connect_account(api, owner, ws, "linkedin", f"li_{uuid.uuid4().hex[:6]}")
    viewer = await make_user(api, name="Viewer")
    viewer = await add_member(api, owner, ws, viewer, "viewer")
    assert (
        await api.get(f"/api/v1/accounts/{account['id']}", headers=viewer.headers)
    ).status_code == 200
    r = await api.post(
        "/api/v1/accounts/connect",
        json={"workspace_id": ws, "platform": "x"},
        headers=viewer.headers,
    )
    assert r.status_code == 403
    r = await api.delete(f"/api/v1/accounts/{account['id']}", headers=viewer.headers)
    assert r.status_code == 403


# --- checklist 15: the OAuth state and redirect URI ------------------------------------------


async def test_15_bad_states_are_rejected_and_the_code_never_exchanged(
    api: httpx.AsyncClient, stack: Stack, infra: Infra
) -> None:
    user, ws = await owner_with_workspace(api)

    async def consented() -> tuple[str, str, str, str]:
        """A consent at X: the callback URL, its code, the state and the sandbox user."""
        r = await api.post(
            "/api/v1/accounts/connect",
            json={"workspace_id": ws, "platform": "x"},
            headers=user.headers,
        )
        state = r.json()["state"]
        name = f"s_{uuid.uuid4().hex[:6]}"
        consent = await api.get(f"{r.json()['authorize_url']}&sandbox_approve={name}")
        location = consent.headers["location"]
        return location, parse_qs(urlsplit(location).query)["code"][0], state, name

    location, code, state, name = await consented()
    base = location.split("?")[0]
    tampered = state[:-2] + ("AA" if not state.endswith("AA") else "BB")
    for params in (
        {"code": code, "state": tampered},
        {"code": code},
        {"code": code, "state": ""},
    ):
        r = await api.get(base, params=params)
        assert (r.status_code, r.json()["error"]) == (400, "InvalidState"), params
    # right state, wrong platform's callback
    r = await api.get(base.replace("/x/", "/tiktok/"), params={"code": code, "state": state})
    assert r.status_code == 400
    assert await token_calls(stack, name) == 0  # never exchanged

    # an expired state
    location, code, state, name = await consented()
    conn = await pg(infra)
    try:
        await conn.execute(
            "UPDATE accounts.oauth_states SET expires_at = now() - interval '1 second'"
            " WHERE used_at IS NULL"
        )
    finally:
        await conn.close()
    r = await api.get(location)
    assert (r.status_code, r.json()["error"]) == (400, "InvalidState")
    assert await token_calls(stack, name) == 0

    # a used state cannot be replayed, even when the exchange failed: it is spent before
    location, code, state, name = await consented()
    assert (await api.get(location)).status_code == 200
    complete = "/api/v1/accounts/oauth/complete"
    r = await api.post(
        complete, json={"state": state, "code": "not-the-code"}, headers=user.headers
    )
    assert (r.status_code, r.json()["error"]) == (400, "ConnectFailed")  # X refused that code
    r = await api.get(location)
    assert (r.status_code, r.json()["error"]) == (400, "InvalidState")
    r = await api.post(complete, json={"state": state, "code": code}, headers=user.headers)
    assert (r.status_code, r.json()["error"]) == (400, "InvalidState")
    assert await token_calls(stack, name) == 0  # the real code never reached X

    # a completed state cannot be replayed
    location, code, state, name = await consented()
    r = await api.post(complete, json={"state": state, "code": code}, headers=user.headers)
    assert r.status_code == 201, r.text
    r = await api.post(complete, json={"state": state, "code": code}, headers=user.headers)
    assert (r.status_code, r.json()["error"]) == (400, "InvalidState")
    assert await token_calls(stack, name) == 1

    # denied consent spends the state
    r = await api.post(
        "/api/v1/accounts/connect", json={"workspace_id": ws, "platform": "x"}, headers=user.headers
    )
    denied = await api.get(f"{r.json()['authorize_url']}&sandbox_deny=1")
    r = await api.get(denied.headers["location"])
    assert (r.status_code, r.json()["error"]) == (400, "ConsentDenied")
    r = await api.get(denied.headers["location"])
    assert (r.status_code, r.json()["error"]) == (400, "InvalidState")


async def test_15_platform_refuses_missing_pkce_and_foreign_redirects(
    api: httpx.AsyncClient, stack: Stack
) -> None:
    user, ws = await owner_with_workspace(api)
    r = await api.post(
        "/api/v1/accounts/connect", json={"workspace_id": ws, "platform": "x"}, headers=user.headers
    )
    authorize = r.json()["authorize_url"]
    query = parse_qs(urlsplit(authorize).query)
    redirect = query["redirect_uri"][0]
    assert query["code_challenge_method"] == ["S256"] and query["code_challenge"]
    # A redirect URI with an extra path or query is not the registered one.
    for bad in (redirect + "/extra", redirect + "?next=/evil"):
        tampered = authorize.replace(
            httpx.QueryParams({"redirect_uri": redirect}).__str__(),
            httpx.QueryParams({"redirect_uri": bad}).__str__(),
        )
        consent = await api.get(f"{tampered}&sandbox_approve=p_{uuid.uuid4().hex[:6]}")
        assert consent.status_code >= 400, bad
    # The code without the PKCE verifier is refused by the platform.
    consent = await api.get(f"{authorize}&sandbox_approve=p_{uuid.uuid4().hex[:6]}")
    code = parse_qs(urlsplit(consent.headers["location"]).query)["code"][0]
    async with httpx.AsyncClient(base_url=stack.sandbox_url) as sb:
        r = await sb.post(
            "/x/2/oauth2/token",
            data={"grant_type": "authorization_code", "code": code, "redirect_uri": redirect},
            auth=("socialseed-local", "socialseed-local-secret"),
        )
    assert r.status_code == 400


# --- checklist 12: one refresh for N concurrent requests -------------------------------------


async def test_12_concurrent_token_requests_refresh_once(
    api: httpx.AsyncClient, stack: Stack, infra: Infra
) -> None:
    user, ws = await owner_with_workspace(api)
    [account] = await connect_account(api, user, ws, "x", f"x_{uuid.uuid4().hex[:6]}")
    conn = await pg(infra)
    try:
        await conn.execute(
            "UPDATE accounts.accounts SET token_expires_at = now() - interval '1 minute'"
            " WHERE id = $1",
            uuid.UUID(str(account["id"])),
        )
    finally:
        await conn.close()
    before = await token_calls(stack, account["platform_user_id"])  # the connect's exchange
    secret = stack.accounts.internal_tokens["publisher"].get_secret_value()
    async with httpx.AsyncClient(base_url=stack.accounts_url, timeout=30) as internal:
        answers = await asyncio.gather(
            *(
                internal.post(
                    f"/internal/accounts/{account['id']}/access-token",
                    headers={"Authorization": f"Bearer {secret}"},
                )
                for _ in range(12)
            )
        )
        assert all(a.status_code == 200 for a in answers), [a.text for a in answers]
        assert len({a.json()["access_token"] for a in answers}) == 1
        unauthorised = await internal.post(f"/internal/accounts/{account['id']}/access-token")
        assert unauthorised.status_code == 401
    assert await token_calls(stack, account["platform_user_id"]) == before + 1  # one refresh
    # the token we hand out is the one the platform considers live
    live = {t["value"] for t in await sandbox_tokens(stack, "x") if t["status"] == "active"}
    assert answers[0].json()["access_token"] in live
    # the gateway does not expose the vault
    r = await api.post(f"/internal/accounts/{account['id']}/access-token")
    assert r.status_code == 404


# --- a refresh whose answer was lost ---------------------------------------------------------


async def expire_token(infra: Infra, account_id: object) -> None:
    conn = await pg(infra)
    try:
        await conn.execute(
            "UPDATE accounts.accounts SET token_expires_at = now() - interval '1 minute'"
            " WHERE id = $1",
            uuid.UUID(str(account_id)),
        )
    finally:
        await conn.close()


async def vault_token(stack: Stack, account_id: object) -> httpx.Response:
    """The internal token vault's answer (what publisher and analytics-sync call)."""
    secret = stack.accounts.internal_tokens["publisher"].get_secret_value()
    async with httpx.AsyncClient(base_url=stack.accounts_url, timeout=60) as internal:
        return await internal.post(
            f"/internal/accounts/{account_id}/access-token",
            headers={"Authorization": f"Bearer {secret}"},
        )


async def with_token_fault(stack: Stack, account_id: object, **fault: object) -> httpx.Response:
    """The vault's answer while X's token endpoint suffers ``fault`` once; the fault was used."""
    async with httpx.AsyncClient(base_url=stack.sandbox_url) as sb:
        spec = {"platform": "x", "endpoint": "/2/oauth2/token", "count": 1, **fault}
        added = await sb.post("/_sandbox/faults", json=spec)
        assert added.status_code < 300, added.text
        try:
            answer = await vault_token(stack, account_id)
            # Other tests' faults (scoped to their own accounts) may still be installed.
            faults = (await sb.get("/_sandbox/faults")).json()["faults"]
            [used] = [f for f in faults if f["id"] == added.json()["id"]]
            assert used["applied"] == 1, used
        finally:
            await sb.delete(f"/_sandbox/faults/{added.json()['id']}")
    return answer


async def test_a_refresh_whose_answer_was_lost_is_sent_again(
    api: httpx.AsyncClient, stack: Stack, infra: Infra
) -> None:
    """The connection dropped before X handled the refresh (the client cannot tell that from a
    lost answer): the refresh is sent again, succeeds, and the account stays healthy."""
    user, ws = await owner_with_workspace(api)
    [account] = await connect_account(api, user, ws, "x", f"x_{uuid.uuid4().hex[:6]}")
    await expire_token(infra, account["id"])
    before = await token_calls(stack, account["platform_user_id"])
    r = await with_token_fault(stack, account["id"], timeout=True, timeout_seconds=0)
    assert r.status_code == 200, r.text
    live = {t["value"] for t in await sandbox_tokens(stack, "x") if t["status"] == "active"}
    assert r.json()["access_token"] in live
    assert await token_calls(stack, account["platform_user_id"]) == before + 1  # the retry
    after = (await api.get(f"/api/v1/accounts/{account['id']}", headers=user.headers)).json()
    assert after["status"] == "active" and after["health"]["score"] == 100, after


async def test_a_lost_answer_after_x_rotated_the_token_cannot_be_recovered(
    api: httpx.AsyncClient, stack: Stack, infra: Infra
) -> None:
    """X handled the refresh and rotated the refresh token, but its answer was lost: the
    retry presents the spent token, which X refuses (its refresh tokens are single use, with no
    documented grace period), so the account needs a new consent, and says why."""
    user, ws = await owner_with_workspace(api)
    [account] = await connect_account(api, user, ws, "x", f"x_{uuid.uuid4().hex[:6]}")
    await expire_token(infra, account["id"])
    before = await token_calls(stack, account["platform_user_id"])
    r = await with_token_fault(stack, account["id"], drop_after_accept=True)
    assert (r.status_code, r.json()["error"]) == (409, "AccountNeedsReauth"), r.text
    assert "lost" in r.json()["detail"]
    # the refresh X acted on (its answer dropped), then the retry it refused
    assert await token_calls(stack, account["platform_user_id"]) == before + 2
    after = (await api.get(f"/api/v1/accounts/{account['id']}", headers=user.headers)).json()
    assert after["status"] == "reauth_required", after


# --- revoked grants ---------------------------------------------------------------------------


async def test_revoked_grant_turns_account_reauth_required(
    api: httpx.AsyncClient, stack: Stack
) -> None:
    user, ws = await owner_with_workspace(api)
    name = f"tt_{uuid.uuid4().hex[:6]}"
    [account] = await connect_account(api, user, ws, "tiktok", name)
    async with httpx.AsyncClient(base_url=stack.sandbox_url) as sb:
        r = await sb.post(
            "/_sandbox/faults",
            json={
                "platform": "tiktok",
                "revoke_tokens": True,
                "account": account["platform_user_id"],
            },
        )
        assert r.status_code < 300, r.text
    r = await api.post(f"/api/v1/accounts/{account['id']}/sync", headers=user.headers)
    assert (r.status_code, r.json()["error"]) == (409, "AccountNeedsReauth")
    after = (await api.get(f"/api/v1/accounts/{account['id']}", headers=user.headers)).json()
    assert after["status"] == "reauth_required" and after["health"]["score"] == 0
    # connecting again brings it back
    [again] = await connect_account(api, user, ws, "tiktok", name)
    assert again["id"] == account["id"] and again["status"] == "active"


async def test_disconnect_revokes_at_the_platform(api: httpx.AsyncClient, stack: Stack) -> None:
    user, ws = await owner_with_workspace(api)
    [account] = await connect_account(api, user, ws, "youtube", f"yt_{uuid.uuid4().hex[:6]}")
    r = await api.delete(f"/api/v1/accounts/{account['id']}", headers=user.headers)
    assert r.status_code == 204
    after = (await api.get(f"/api/v1/accounts/{account['id']}", headers=user.headers)).json()
    assert after["status"] == "disconnected"
    mine = [
        t
        for t in await sandbox_tokens(stack, "youtube")
        if t["account_id"] == account["platform_user_id"]
    ]
    assert mine and all(t["status"] != "active" for t in mine)


# --- checklist 19 and 20: encryption at rest, key rotation, no tokens in logs ---------------


async def test_19_key_rotation_and_no_plaintext_in_a_dump(
    api: httpx.AsyncClient, stack: Stack, infra: Infra
) -> None:
    user, ws = await owner_with_workspace(api)
    for platform in ("x", "linkedin", "facebook"):
        await connect_account(api, user, ws, platform, f"{platform}_{uuid.uuid4().hex[:6]}")
    new_key = SecretStr(Fernet.generate_key().decode())
    rotated = stack.accounts.model_copy(
        update={"token_keys": [new_key, *stack.accounts.token_keys]}
    )
    assert await rotate_keys(rotated) > 0
    only_new = TokenCipher([new_key])
    conn = await pg(infra)
    try:
        # This test's accounts: others (a service's own tests) may hold made-up tokens.
        rows = await conn.fetch(
            "SELECT access_token_enc, refresh_token_enc FROM accounts.accounts"
            " WHERE access_token_enc IS NOT NULL AND workspace_id = $1",
            uuid.UUID(ws),
        )
        assert len(rows) >= 3
    finally:
        await conn.close()
    issued = {t["value"] for t in await sandbox_tokens(stack)}
    for row in rows:
        assert only_new.decrypt(row["access_token_enc"]) in issued
        if row["refresh_token_enc"] is not None:
            only_new.decrypt(row["refresh_token_enc"])
    url = make_url(infra.admin_url).set(database=TEST_DATABASE).render_as_string()
    dump = subprocess.run(
        [str(ensure_pg_bindir() / "pg_dump"), "--schema=accounts", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "COPY accounts.accounts" in dump and len(rows) >= 4  # the rows are in the dump
    assert [t for t in issued if t in dump] == []


async def test_20_no_token_in_logs_or_events(
    api: httpx.AsyncClient, stack: Stack, infra: Infra, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    user, ws = await owner_with_workspace(api)
    [account] = await connect_account(api, user, ws, "x", f"x_{uuid.uuid4().hex[:6]}")
    await api.post(f"/api/v1/accounts/{account['id']}/sync", headers=user.headers)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    conn = await pg(infra)
    try:
        rows = await conn.fetch(
            "SELECT topic, payload::text AS payload, headers::text AS headers"
            " FROM accounts.outbox WHERE key = $1",
            str(account["id"]),
        )
        everything = "\n".join(
            r["payload"] + r["headers"]
            for r in await conn.fetch("SELECT payload::text, headers::text FROM accounts.outbox")
        )
    finally:
        await conn.close()
    # This account's own events exist (so the scan below looks at something real) ...
    assert {r["topic"] for r in rows} >= {"account.connected", "account.updated"}
    # ... and no token of any account ever reached a log line or an event.
    for token in await sandbox_tokens(stack):
        assert token["value"] not in logged
        assert token["value"] not in everything


async def test_sync_after_platform_clock_jump_refreshes_on_401(
    api: httpx.AsyncClient, stack: Stack
) -> None:
    """The platform expired the token before our clock says so: 401, refresh, retry once."""
    user, ws = await owner_with_workspace(api)
    [account] = await connect_account(api, user, ws, "youtube", f"yt_{uuid.uuid4().hex[:6]}")
    expires_before = account["token_expires_at"]
    async with httpx.AsyncClient(base_url=stack.sandbox_url) as sb:
        await sb.post("/_sandbox/clock/advance", json={"seconds": 3600 * 2})
    r = await api.post(f"/api/v1/accounts/{account['id']}/sync", headers=user.headers)
    assert r.status_code == 200, r.text
    synced = r.json()
    assert synced["status"] == "active" and synced["token_expires_at"] != expires_before


async def test_token_vault_call_refreshes_a_refused_token_once(
    api: httpx.AsyncClient, stack: Stack
) -> None:
    """A platform call through the token vault's client (as the publisher's workers and
    analytics' fetchers make them): the platform expired the token before accounts' clock says
    so and refuses it; the vault refreshes it (one token-endpoint call) and the call runs once
    more with the new token. A grant the platform revoked is refused again after the forced
    refresh: the caller learns the account is unusable, after one refresh attempt."""
    user, ws = await owner_with_workspace(api)
    name = f"x_{uuid.uuid4().hex[:6]}"
    [account] = await connect_account(api, user, ws, "x", name)
    account_id = uuid.UUID(str(account["id"]))
    before = await token_calls(stack, str(account["platform_user_id"]))
    async with httpx.AsyncClient(base_url=stack.sandbox_url) as sb:
        await sb.post("/_sandbox/clock/advance", json={"seconds": 3600 * 3})
    secret = stack.accounts.internal_tokens["publisher"]
    async with httpx.AsyncClient(timeout=30) as http:
        vault = TokenVault(http, stack.accounts_url, secret, clock=lambda: datetime.now(UTC))
        x = build_providers(PlatformsConfig(sandbox_url=stack.sandbox_url), http)[Platform.X]
        shown: list[str] = []

        async def profile(tokens: TokenSet) -> Profile:
            shown.append(tokens.access_token)
            return await x.profile(tokens)

        assert (await vault.call(account_id, profile)).username == name
        assert len(shown) == 2 and shown[0] != shown[1]
        assert await token_calls(stack, str(account["platform_user_id"])) == before + 1

        async with httpx.AsyncClient(base_url=stack.sandbox_url) as sb:
            revoked = {
                "platform": "x",
                "revoke_tokens": True,
                "account": account["platform_user_id"],
            }
            assert (await sb.post("/_sandbox/faults", json=revoked)).status_code < 300
        shown.clear()
        with pytest.raises(AccountUnusable):
            await vault.call(account_id, profile)
        assert len(shown) == 1  # refused once; the forced refresh found the grant gone
        assert await token_calls(stack, str(account["platform_user_id"])) == before + 2


async def test_background_refresher_renews_tokens_before_expiry(
    api: httpx.AsyncClient, stack: Stack, infra: Infra
) -> None:
    user, ws = await owner_with_workspace(api)
    [account] = await connect_account(api, user, ws, "x", f"x_{uuid.uuid4().hex[:6]}")
    # A 120 s token issued 100 s ago: 20 s left, under half its lifetime.
    soon = datetime.now(UTC) + timedelta(seconds=20)
    conn = await pg(infra)
    try:
        await conn.execute(
            "UPDATE accounts.accounts SET token_expires_at = $2, token_refreshed_at = $3"
            " WHERE id = $1",
            uuid.UUID(str(account["id"])),
            soon,
            soon - timedelta(seconds=120),
        )
        # A second accounts replica (its own engine, on this event loop) runs the job.
        replica = create_accounts(stack.accounts, background=False)
        try:
            refreshed = await refresh_due_tokens(replica.state.accounts)
        finally:
            await replica.state.accounts.db.dispose()
        expires = await conn.fetchval(
            "SELECT token_expires_at FROM accounts.accounts WHERE id = $1",
            uuid.UUID(str(account["id"])),
        )
    finally:
        await conn.close()
    assert refreshed >= 1
    assert expires > soon + timedelta(minutes=30)


async def test_refresher_tries_a_failing_platform_once_per_turn(
    api: httpx.AsyncClient, stack: Stack, infra: Infra
) -> None:
    user, ws = await owner_with_workspace(api)
    [account] = await connect_account(api, user, ws, "x", f"x_{uuid.uuid4().hex[:6]}")
    soon = datetime.now(UTC) + timedelta(seconds=20)
    conn = await pg(infra)
    async with httpx.AsyncClient(base_url=stack.sandbox_url) as sb:
        try:
            await conn.execute(
                "UPDATE accounts.accounts SET token_expires_at = $2, token_refreshed_at = $3"
                " WHERE id = $1",
                uuid.UUID(str(account["id"])),
                soon,
                soon - timedelta(seconds=120),
            )
            r = await sb.post(
                "/_sandbox/faults",
                json={"platform": "x", "endpoint": "/2/oauth2/token", "error_rate": 1.0},
            )
            assert r.status_code < 300, r.text
            replica = create_accounts(stack.accounts, background=False)
            try:
                # batch=1: every batch is full, the case that used to loop on a failing account
                refreshed = await asyncio.wait_for(
                    refresh_due_tokens(replica.state.accounts, batch=1), timeout=30
                )
            finally:
                await replica.state.accounts.db.dispose()
            failures = await conn.fetchval(
                "SELECT consecutive_failures FROM accounts.accounts WHERE id = $1",
                uuid.UUID(str(account["id"])),
            )
        finally:
            await sb.delete("/_sandbox/faults")
            await conn.close()
    assert refreshed == 0
    # tried once this turn: every try of it counts one failure on the account (the platform's
    # 503 answers before it reads whose token it is, so its counters cannot tell)
    assert failures == 1
    after = (await api.get(f"/api/v1/accounts/{account['id']}", headers=user.headers)).json()
    assert after["status"] == "active" and after["health"]["score"] < 100


async def test_refresher_survives_an_account_it_cannot_decrypt(
    api: httpx.AsyncClient, stack: Stack, infra: Infra
) -> None:
    """A token encrypted under a key no longer configured fails that account only: the turn
    goes on to refresh the healthy one, the bad one has its failure recorded, and endpoints
    touching it answer a named 409."""
    user, ws = await owner_with_workspace(api)
    [bad] = await connect_account(api, user, ws, "x", f"x_{uuid.uuid4().hex[:6]}")
    [good] = await connect_account(api, user, ws, "x", f"x_{uuid.uuid4().hex[:6]}")
    soon = datetime.now(UTC) + timedelta(seconds=20)
    foreign = Fernet(Fernet.generate_key())
    conn = await pg(infra)
    try:
        for account, expires in ((bad, soon - timedelta(seconds=5)), (good, soon)):
            await conn.execute(
                "UPDATE accounts.accounts SET token_expires_at = $2, token_refreshed_at = $3"
                " WHERE id = $1",
                uuid.UUID(str(account["id"])),
                expires,  # the bad one first: it used to end the turn before the good one
                expires - timedelta(seconds=120),
            )
        await conn.execute(
            "UPDATE accounts.accounts SET access_token_enc = $2, refresh_token_enc = $3"
            " WHERE id = $1",
            uuid.UUID(str(bad["id"])),
            foreign.encrypt(b"access"),
            foreign.encrypt(b"refresh"),
        )
        replica = create_accounts(stack.accounts, background=False)
        try:
            refreshed = await refresh_due_tokens(replica.state.accounts)
        finally:
            await replica.state.accounts.db.dispose()
        rows = {
            str(r["id"]): r
            for r in await conn.fetch(
                "SELECT id, token_expires_at, consecutive_failures, last_error"
                " FROM accounts.accounts WHERE id = ANY($1::uuid[])",
                [uuid.UUID(str(bad["id"])), uuid.UUID(str(good["id"]))],
            )
        }
    finally:
        await conn.close()
    assert refreshed >= 1
    assert rows[str(good["id"])]["token_expires_at"] > soon + timedelta(minutes=30)
    assert rows[str(good["id"])]["consecutive_failures"] == 0
    assert rows[str(bad["id"])]["consecutive_failures"] == 1
    assert rows[str(bad["id"])]["last_error"] == "TokenUndecryptable"
    r = await api.post(f"/api/v1/accounts/{bad['id']}/sync", headers=user.headers)
    assert (r.status_code, r.json()["error"]) == (409, "TokenUndecryptable")
    secret = stack.accounts.internal_tokens["publisher"].get_secret_value()
    async with httpx.AsyncClient(base_url=stack.accounts_url) as internal:
        r = await internal.post(
            f"/internal/accounts/{bad['id']}/access-token",
            headers={"Authorization": f"Bearer {secret}"},
        )
    assert (r.status_code, r.json()["error"]) == (409, "TokenUndecryptable")


async def test_openapi_names_every_accounts_error(api: httpx.AsyncClient) -> None:
    doc = (await api.get("/api/v1/openapi.json")).json()

    def names(path: str, method: str, status: int) -> set[str]:
        responses = doc["paths"][path][method]["responses"]
        return {n.strip() for n in responses[str(status)]["description"].split(",")}

    assert {"ConnectNotFound", "WorkspaceNotFound"} <= names(
        "/api/v1/accounts/oauth/complete", "post", 404
    )
    assert {"InvalidState", "ConnectFailed"} <= names(
        "/api/v1/accounts/oauth/complete", "post", 400
    )
    assert {"InvalidState", "MissingCode", "ConsentDenied"} <= names(
        "/api/v1/oauth/{platform}/callback", "get", 400
    )
    assert "302" in doc["paths"]["/api/v1/oauth/{platform}/callback"]["get"]["responses"]
    assert {"RedirectNotAllowed"} <= names("/api/v1/accounts/connect", "post", 400)
    assert {"InsufficientRole"} <= names("/api/v1/accounts/connect", "post", 403)
    sync = "/api/v1/accounts/{account_id}/sync"
    assert {"AccountNotActive", "AccountNeedsReauth", "TokenUndecryptable"} <= names(
        sync, "post", 409
    )
    assert {"PlatformUnavailable"} <= names(sync, "post", 503)
    assert {"AccountNotFound"} <= names("/api/v1/accounts/{account_id}", "get", 404)
    assert {"TokenUndecryptable"} <= names("/api/v1/accounts/{account_id}", "delete", 409)
    assert {"WorkspaceNotFound"} <= names("/api/v1/accounts", "get", 404)


async def test_slow_profile_syncs_do_not_starve_the_pool(
    api: httpx.AsyncClient, stack: Stack, infra: Infra
) -> None:
    """30 profile syncs stuck on a 5 s platform hold no pooled connection: with a pool of at
    most 4 connections the account list still answers while every sync is pending. A disconnect
    answers while a slow sync is pending, and that sync then finds the account gone (409)."""
    db_url = await own_accounts_database(infra, "socialseed_pool")
    user, ws = await owner_with_workspace(api)
    with own_accounts_service(
        infra,
        stack,
        SandboxSettings(),
        database_url=db_url,
        background=False,
        db_pool_size=4,  # at most 4 connections
    ) as (accounts_url, sandbox_url):
        async with (
            httpx.AsyncClient(base_url=accounts_url, timeout=60) as client,
            httpx.AsyncClient(base_url=sandbox_url) as sb,
        ):
            [account] = await connect_account(client, user, ws, "x", f"pool_{uuid.uuid4().hex[:6]}")
            r = await sb.post(
                "/_sandbox/faults",
                json={"platform": "x", "endpoint": "/2/users/me", "latency_ms": 5000},
            )
            assert r.status_code < 300, r.text
            syncs = [
                asyncio.create_task(
                    client.post(f"/api/v1/accounts/{account['id']}/sync", headers=user.headers)
                )
                for _ in range(30)
            ]
            # wait until the platform holds at least as many syncs as the pool has connections
            for _ in range(600):
                [fault] = (await sb.get("/_sandbox/faults")).json()["faults"]
                if fault["applied"] >= 4:
                    break
                await asyncio.sleep(0.05)
            listed = await asyncio.wait_for(
                client.get("/api/v1/accounts", params={"workspace_id": ws}, headers=user.headers),
                timeout=60,  # only a starved pool is this slow
            )
            assert listed.status_code == 200, listed.text
            # it answered while every sync was still waiting for the platform
            assert not any(t.done() for t in syncs)
            results = await asyncio.gather(*syncs)
            assert {r.status_code for r in results} == {200}, [r.text for r in results]

            # a disconnect does not wait for a slow sync, and the sync then does not write its
            # profile onto the disconnected account
            before = (await sb.get("/_sandbox/faults")).json()["faults"][0]["applied"]
            slow = asyncio.create_task(
                client.post(f"/api/v1/accounts/{account['id']}/sync", headers=user.headers)
            )
            for _ in range(600):
                if (await sb.get("/_sandbox/faults")).json()["faults"][0]["applied"] > before:
                    break
                await asyncio.sleep(0.05)
            r = await client.delete(f"/api/v1/accounts/{account['id']}", headers=user.headers)
            assert r.status_code == 204, r.text
            assert not slow.done()
            late = await slow
            assert late.status_code == 409 and late.json()["error"] == "AccountNotActive", late.text
            after = await client.get(f"/api/v1/accounts/{account['id']}", headers=user.headers)
            assert after.json()["status"] == "disconnected", after.text
