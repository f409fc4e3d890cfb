"""Auth's security properties: throttling, token families, key handling (see docs/security.md)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
import jwt
from argon2 import PasswordHasher
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from auth.app import create_app as create_auth
from auth.keys import SigningKey
from socialseed.logs import configure_logging
from socialseed.testing import Infra, serve
from tests.conftest import Stack, auth_settings, make_user, make_workspace, owner_with_workspace


async def pg(infra: Infra) -> asyncpg.Connection:
    return await asyncpg.connect(infra.service_url("auth").replace("+asyncpg", ""))


# --- 13: replay of a used refresh token -------------------------------------------------------


async def test_13_refresh_token_replay_revokes_family(api: httpx.AsyncClient, infra: Infra) -> None:
    user = await make_user(api)
    first = await api.post("/api/v1/auth/refresh", json={"refresh_token": user.refresh})
    newest = first.json()["refresh_token"]
    replay = await api.post("/api/v1/auth/refresh", json={"refresh_token": user.refresh})
    assert (replay.status_code, replay.json()["error"]) == (401, "RefreshTokenInvalid")
    # The thief's replay killed the legitimate holder's newest token too.
    r = await api.post("/api/v1/auth/refresh", json={"refresh_token": newest})
    assert r.status_code == 401
    conn = await pg(infra)
    try:
        live = await conn.fetchval(
            "SELECT count(*) FROM auth.refresh_tokens WHERE user_id = $1 AND revoked_at IS NULL",
            uuid.UUID(user.id),
        )
        audits = await conn.fetchval(
            "SELECT count(*) FROM auth.audit_events"
            " WHERE user_id = $1 AND kind = 'refresh_token_reuse'",
            uuid.UUID(user.id),
        )
    finally:
        await conn.close()
    assert live == 0 and audits == 1


# --- 14: forged and invalid JWTs ----------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


async def test_14_bad_jwts_are_refused_by_gateway_and_auth(
    api: httpx.AsyncClient, stack: Stack
) -> None:
    user = await make_user(api)
    key = SigningKey.from_pem(stack.settings.jwt_private_key.get_secret_value().encode())  # type: ignore[union-attr]
    good = jwt.decode(user.access, options={"verify_signature": False})
    now = datetime.now(UTC)

    def signed(claims: dict[str, object], headers: dict[str, object] | None = None) -> str:
        return jwt.encode(
            claims, key.private, algorithm="EdDSA", headers={"kid": key.kid, **(headers or {})}
        )

    public_pem = key.private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header_none = _b64(json.dumps({"alg": "none", "kid": key.kid}).encode())
    body = _b64(json.dumps(good).encode())
    hs_header = _b64(json.dumps({"alg": "HS256", "kid": key.kid, "typ": "JWT"}).encode())
    hs_sig = _b64(hmac.new(public_pem, f"{hs_header}.{body}".encode(), hashlib.sha256).digest())
    foreign = Ed25519PrivateKey.generate()
    bad_tokens = {
        "alg none": f"{header_none}.{body}.",
        "HS256 with the public key": f"{hs_header}.{body}.{hs_sig}",
        "foreign key, our kid": jwt.encode(
            good, foreign, algorithm="EdDSA", headers={"kid": key.kid}
        ),
        "foreign kid + jku": jwt.encode(
            good,
            foreign,
            algorithm="EdDSA",
            headers={"kid": "attacker", "jku": "http://127.0.0.1:1/jwks.json"},
        ),
        "wrong aud": signed(good | {"aud": "someone-else"}),
        "wrong iss": signed(good | {"iss": "evil"}),
        "expired": signed(good | {"exp": int((now - timedelta(minutes=5)).timestamp())}),
        "not yet valid": signed(good | {"nbf": int((now + timedelta(minutes=5)).timestamp())}),
        "not an access token": signed(good | {"typ": "refresh"}),
        "garbage": "not.a.jwt",
    }
    assert (await api.get("/api/v1/auth/me", headers=user.headers)).status_code == 200
    async with httpx.AsyncClient(base_url=stack.auth_url) as direct:
        for name, token in bad_tokens.items():
            h = {"Authorization": f"Bearer {token}"}
            assert (await api.get("/api/v1/auth/me", headers=h)).status_code == 401, name
            assert (await direct.get("/api/v1/auth/me", headers=h)).status_code == 401, name


# --- 16: another tenant's workspace is a 404 -------------------------------------------------


async def test_16_other_tenants_workspace_is_not_found(api: httpx.AsyncClient) -> None:
    alice, bob = await make_user(api, name="Alice"), await make_user(api, name="Bob")
    ws = await make_workspace(api, alice)
    wid = ws["id"]
    calls = [
        ("GET", f"/api/v1/workspaces/{wid}", None),
        ("PATCH", f"/api/v1/workspaces/{wid}", {"name": "pwned"}),
        ("GET", f"/api/v1/workspaces/{wid}/members", None),
        ("POST", f"/api/v1/workspaces/{wid}/invitations", {"email": bob.email, "role": "owner"}),
        ("GET", f"/api/v1/workspaces/{wid}/invitations", None),
        ("DELETE", f"/api/v1/workspaces/{wid}/invitations/{uuid.uuid4()}", None),
        ("PATCH", f"/api/v1/workspaces/{wid}/members/{alice.id}", {"role": "viewer"}),
        ("DELETE", f"/api/v1/workspaces/{wid}/members/{alice.id}", None),
    ]
    for method, url, body in calls:
        r = await api.request(method, url, json=body, headers=bob.headers)
        assert (r.status_code, r.json()["error"]) == (404, "WorkspaceNotFound"), (method, url)
    assert (await api.get("/api/v1/workspaces", headers=bob.headers)).json() == []
    still = (await api.get(f"/api/v1/workspaces/{wid}", headers=alice.headers)).json()
    assert still["name"] == "Acme"


# --- 17: credential stuffing is throttled without enumeration ------------------------------


async def test_17_stuffing_is_throttled_without_user_enumeration(
    infra: Infra, api: httpx.AsyncClient
) -> None:
    victim = await make_user(api, name="Victim")
    strict = auth_settings(
        infra, login_limit_per_ip="30/minute", login_limit_per_ip_and_email="10/minute"
    )
    with serve(create_auth(strict)) as url:
        async with httpx.AsyncClient(base_url=url, timeout=20) as client:
            # Timing: a wrong password for a real user vs. an unknown email (both verify a hash).
            known, unknown = [], []
            for i in range(5):
                for email, bucket in ((victim.email, known), (f"nobody{i}@example.com", unknown)):
                    t0 = time.perf_counter()
                    r = await client.post(
                        "/api/v1/auth/login",
                        json={"email": email, "password": "wrong guess 1"},
                        headers={"X-Forwarded-For": "203.0.113.7"},
                    )
                    bucket.append(time.perf_counter() - t0)
                    assert r.status_code == 401
                    assert r.json() == {
                        "error": "InvalidCredentials",
                        "detail": "Invalid email or password.",
                    }
            ratio = statistics.median(unknown) / statistics.median(known)
            assert 0.5 < ratio < 2.0, ratio
            statuses = []
            for i in range(100):
                r = await client.post(
                    "/api/v1/auth/login",
                    json={"email": f"user{i}@example.com", "password": "hunter22"},
                    headers={"X-Forwarded-For": "198.51.100.9"},
                )
                statuses.append(r.status_code)
            assert statuses.count(401) == 30 and statuses.count(429) == 70
            r429 = r.json()
            assert r429["error"] == "TooManyLoginAttempts" and int(r.headers["Retry-After"]) >= 1
            # Another address is not punished for the first one's attempts.
            r = await client.post(
                "/api/v1/auth/login",
                json={"email": victim.email, "password": victim.password},
                headers={"X-Forwarded-For": "192.0.2.1"},
            )
            assert r.status_code == 200


async def test_17_one_email_is_throttled_across_addresses(
    infra: Infra, api: httpx.AsyncClient
) -> None:
    """Distributed stuffing: every attempt from a new address (auth trusts the gateway's
    X-Forwarded-For from loopback, so each value is a distinct client IP to it) still counts
    against the one email; an unknown email is throttled identically."""
    victim = await make_user(api, name="Victim")
    strict = auth_settings(
        infra,
        login_limit_per_ip="100/minute",
        login_limit_per_ip_and_email="100/minute",
        login_limit_per_email="5/minute",
    )
    with serve(create_auth(strict)) as url:
        async with httpx.AsyncClient(base_url=url, timeout=20) as client:
            for email in (victim.email, f"nobody-{uuid.uuid4().hex[:8]}@example.com"):
                statuses = []
                for i in range(8):
                    r = await client.post(
                        "/api/v1/auth/login",
                        json={"email": email, "password": "wrong guess 1"},
                        headers={"X-Forwarded-For": f"198.51.100.{i + 1}"},
                    )
                    statuses.append(r.status_code)
                assert statuses == [401] * 5 + [429] * 3, (email, statuses)
                assert r.json()["error"] == "TooManyLoginAttempts"
                assert int(r.headers["Retry-After"]) >= 1
            # Normalised the way registration normalises: case and spaces do not dodge it.
            r = await client.post(
                "/api/v1/auth/login",
                json={"email": f"  {victim.email.upper()} ", "password": victim.password},
                headers={"X-Forwarded-For": "192.0.2.99"},
            )
            assert r.status_code == 429
    # The failed attempts' audit rows survive the 401s (written in their own transaction).
    conn = await pg(infra)
    try:
        failed = await conn.fetchval(
            "SELECT count(*) FROM auth.audit_events WHERE user_id = $1 AND kind = 'login_failed'",
            uuid.UUID(victim.id),
        )
    finally:
        await conn.close()
    assert failed == 5


# --- 18: long and Unicode passwords, legacy hashes -------------------------------------------


async def test_17_one_email_is_throttled_across_auth_processes(infra: Infra) -> None:
    """Two auth apps on one database, as two workers or replicas are: the attempts against one
    email are counted once for both (an attacker gains nothing from reaching several)."""
    strict = auth_settings(infra, login_limit_per_email="5/minute")
    email = f"nobody-{uuid.uuid4().hex[:8]}@example.com"
    with serve(create_auth(strict)) as first, serve(create_auth(strict)) as second:
        statuses = []
        for i in range(8):
            async with httpx.AsyncClient(base_url=(first, second)[i % 2], timeout=20) as client:
                r = await client.post(
                    "/api/v1/auth/login", json={"email": email, "password": "wrong guess 1"}
                )
                statuses.append(r.status_code)
        assert statuses == [401] * 5 + [429] * 3, statuses
        assert r.json()["error"] == "TooManyLoginAttempts"


async def test_18_long_unicode_passwords_are_not_truncated(api: httpx.AsyncClient) -> None:
    password = "ünïcødé-🔑-" + "x" * 90  # well over bcrypt's 72-byte limit
    assert len(password.encode()) > 72
    email = f"long-{uuid.uuid4().hex[:8]}@example.com"
    r = await api.post(
        "/api/v1/auth/register", json={"email": email, "password": password, "name": "L"}
    )
    assert r.status_code == 201
    ok = await api.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert ok.status_code == 200
    truncated = password.encode()[:72].decode(errors="ignore")
    r = await api.post("/api/v1/auth/login", json={"email": email, "password": truncated})
    assert r.status_code == 401
    r = await api.post("/api/v1/auth/login", json={"email": email, "password": password[:-1] + "y"})
    assert r.status_code == 401


async def test_18_legacy_hash_is_rehashed_at_login(api: httpx.AsyncClient, infra: Infra) -> None:
    user = await make_user(api)
    legacy = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(user.password)
    conn = await pg(infra)
    try:
        await conn.execute(
            "UPDATE auth.users SET password_hash = $1 WHERE id = $2", legacy, uuid.UUID(user.id)
        )
        r = await api.post(
            "/api/v1/auth/login", json={"email": user.email, "password": user.password}
        )
        assert r.status_code == 200
        stored = await conn.fetchval(
            "SELECT password_hash FROM auth.users WHERE id = $1", uuid.UUID(user.id)
        )
    finally:
        await conn.close()
    assert stored.startswith("$argon2id$") and "m=19456,t=2,p=1" in stored


# --- 20: no secrets in logs, no log injection ---------------------------------------------------


async def test_20_logs_hold_no_secrets_and_no_injected_lines(
    api: httpx.AsyncClient, tmp_path: Path
) -> None:
    """What the service's own logging setup really writes (its handler, into a file) is read
    back: removing the masking formatter from ``configure_logging`` makes this fail."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    uvicorn = {n: logging.getLogger(n) for n in ("uvicorn", "uvicorn.error", "uvicorn.access")}
    saved_uvicorn = {n: (lg.handlers[:], lg.propagate) for n, lg in uvicorn.items()}
    quieted = {n: logging.getLogger(n).level for n in ("aiokafka", "httpx", "httpcore")}
    log_file = tmp_path / "auth.log"
    configure_logging("auth", "DEBUG", log_file=log_file)
    try:
        user = await make_user(api)
        await api.post("/api/v1/auth/refresh", json={"refresh_token": user.refresh})
        await api.post("/api/v1/auth/refresh", json={"refresh_token": user.refresh})  # warns
        await api.post(
            "/api/v1/auth/login", json={"email": user.email, "password": "wrong\r\nFAKE ok"}
        )
        keeper, ws_id = await owner_with_workspace(api, name="Keeper")
        made = await api.post(
            "/api/v1/api-keys",
            json={"workspace_id": ws_id, "name": "logs", "role": "viewer"},
            headers=keeper.headers,
        )
        api_key = made.json()["key"]
        await api.get(
            "/api/v1/accounts",
            params={"workspace_id": ws_id},
            headers={"Authorization": f"Bearer {api_key}"},
        )
        logging.getLogger("probe").warning(
            "input %s with header Authorization: Bearer %s and password=%s, key %s",
            "evil\nINFO forged line",
            user.access,
            user.password,
            api_key,
        )
    finally:
        for handler in root.handlers:
            handler.close()
        root.handlers[:], level = saved
        root.setLevel(level)
        for n, lg in uvicorn.items():
            lg.handlers[:], lg.propagate = saved_uvicorn[n]
        for n, lvl in quieted.items():
            logging.getLogger(n).setLevel(lvl)
    text = log_file.read_text()
    assert "refresh token reuse detected" in text  # the service's own records are in the file
    for secret in (user.access, user.refresh, user.password, api_key):
        assert secret not in text
    lines = text.splitlines()
    assert not any(line.startswith("INFO forged line") for line in lines)
    assert "evil\\nINFO forged line" in text


# --- 22: bad input gets a named 4xx and creates nothing ---------------------------------------


async def test_22_bad_workspace_input_creates_nothing(api: httpx.AsyncClient, infra: Infra) -> None:
    user = await make_user(api)
    bad = [
        {"name": "Tz", "timezone": "Mars/Olympus_Mons"},
        {"name": "Tz", "timezone": "../../etc/passwd"},
        {"name": ""},
        {"name": "x" * 201},
        {"name": "Flag", "require_approval": "maybe"},
    ]
    for body in bad:
        r = await api.post("/api/v1/workspaces", json=body, headers=user.headers)
        assert (r.status_code, r.json()["error"]) == (422, "ValidationError"), body
    ws = await make_workspace(api, user)
    r = await api.patch(
        f"/api/v1/workspaces/{ws['id']}", json={"timezone": "Nowhere/City"}, headers=user.headers
    )
    assert r.status_code == 422
    r = await api.post(
        f"/api/v1/workspaces/{ws['id']}/invitations",
        json={"email": user.email, "role": "superuser"},
        headers=user.headers,
    )
    assert r.status_code == 422
    r = await api.post(
        f"/api/v1/workspaces/{ws['id']}/invitations",
        json={"email": "not-an-email", "role": "viewer"},
        headers=user.headers,
    )
    assert (r.status_code, r.json()["error"]) == (400, "InvalidEmail")  # a rule: a named 400
    conn = await pg(infra)
    try:
        count = await conn.fetchval(
            "SELECT count(*) FROM auth.memberships WHERE user_id = $1", uuid.UUID(user.id)
        )
        tz = await conn.fetchval(
            "SELECT timezone FROM auth.workspaces WHERE id = $1", uuid.UUID(str(ws["id"]))
        )
    finally:
        await conn.close()
    assert count == 1 and tz == "UTC"
