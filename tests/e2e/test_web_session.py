"""The web app's session through the gateway: the refresh token only ever in an HttpOnly,
SameSite=Strict cookie scoped to /api/v1/auth, refresh and logout through it only with the
X-SocialSeed-Client header (CSRF), replay of a spent cookie signs out cleanly; the JSON token
flow for API clients unchanged."""

from __future__ import annotations

from http.cookies import SimpleCookie

import httpx

from auth.settings import AuthSettings
from auth.users.cookies import REFRESH_COOKIE, set_refresh_cookie
from tests.conftest import make_user

WEB = {"X-SocialSeed-Client": "web"}


def refresh_cookie(response: httpx.Response) -> SimpleCookie:
    """The one Set-Cookie the answer carries, parsed (attributes included)."""
    headers = response.headers.get_list("set-cookie")
    assert len(headers) == 1, headers
    jar: SimpleCookie = SimpleCookie()
    jar.load(headers[0])
    assert list(jar) == [REFRESH_COOKIE], headers
    return jar


def cookie_header(value: str) -> dict[str, str]:
    return {"Cookie": f"{REFRESH_COOKIE}={value}"}


async def web_login(api: httpx.AsyncClient) -> tuple[str, str]:
    """(access token, refresh cookie value) of a new user signed in as the web app."""
    user = await make_user(api)
    r = await api.post(
        "/api/v1/auth/login", json={"email": user.email, "password": user.password}, headers=WEB
    )
    assert r.status_code == 200, r.text
    assert "refresh_token" not in r.json()
    return r.json()["access_token"], refresh_cookie(r)[REFRESH_COOKIE].value


async def test_web_login_sets_an_httponly_strict_cookie_and_keeps_the_token_out_of_json(
    api: httpx.AsyncClient,
) -> None:
    user = await make_user(api)
    r = await api.post(
        "/api/v1/auth/login", json={"email": user.email, "password": user.password}, headers=WEB
    )
    assert r.status_code == 200, r.text
    assert set(r.json()) == {"access_token", "token_type", "expires_in"}
    morsel = refresh_cookie(r)[REFRESH_COOKIE]
    assert morsel["httponly"] is True
    assert morsel["samesite"].lower() == "strict"
    assert morsel["path"] == "/api/v1/auth"
    assert int(morsel["max-age"]) > 29 * 24 * 3600
    assert not morsel["secure"]  # dev mode (plain http on this machine); see the next test
    me = await api.get(
        "/api/v1/auth/me", headers={"Authorization": f"Bearer {r.json()['access_token']}"}
    )
    assert me.status_code == 200 and me.json()["email"] == user.email


def test_the_cookie_is_secure_outside_dev_mode() -> None:
    from datetime import UTC, datetime, timedelta

    from starlette.responses import Response

    now = datetime.now(UTC)
    for dev_mode, secure in ((False, True), (True, False)):
        response = Response()
        settings = AuthSettings.model_construct(dev_mode=dev_mode)
        set_refresh_cookie(response, settings, "t", expires_at=now + timedelta(days=1), now=now)
        jar: SimpleCookie = SimpleCookie()
        jar.load(response.headers["set-cookie"])
        assert bool(jar[REFRESH_COOKIE]["secure"]) is secure


async def test_cookie_refresh_rotates_and_a_replayed_cookie_signs_the_session_out(
    api: httpx.AsyncClient,
) -> None:
    _, first = await web_login(api)
    r = await api.post("/api/v1/auth/refresh", headers=WEB | cookie_header(first))
    assert r.status_code == 200, r.text
    assert set(r.json()) == {"access_token", "token_type", "expires_in"}
    second = refresh_cookie(r)[REFRESH_COOKIE].value
    assert second != first
    # Another tab replays the spent cookie: 401, the cookie is cleared, and the whole login
    # (the live cookie too) is revoked.
    r = await api.post("/api/v1/auth/refresh", headers=WEB | cookie_header(first))
    assert (r.status_code, r.json()["error"]) == (401, "RefreshTokenInvalid")
    cleared = refresh_cookie(r)[REFRESH_COOKIE]
    assert cleared.value == "" and int(cleared["max-age"]) == 0
    assert cleared["path"] == "/api/v1/auth"
    r = await api.post("/api/v1/auth/refresh", headers=WEB | cookie_header(second))
    assert (r.status_code, r.json()["error"]) == (401, "RefreshTokenInvalid")
    # No cookie at all: signed out, named.
    r = await api.post("/api/v1/auth/refresh", headers=WEB)
    assert (r.status_code, r.json()["error"]) == (401, "RefreshTokenInvalid")


async def test_the_cookie_alone_is_refused_without_the_csrf_header(
    api: httpx.AsyncClient,
) -> None:
    _, token = await web_login(api)
    for path in ("/api/v1/auth/refresh", "/api/v1/auth/logout"):
        r = await api.post(path, headers=cookie_header(token))
        assert (r.status_code, r.json()["error"]) == (403, "CsrfHeaderMissing"), path
        assert "set-cookie" not in r.headers
    # Neither spent it nor ended the session.
    r = await api.post("/api/v1/auth/refresh", headers=WEB | cookie_header(token))
    assert r.status_code == 200, r.text


async def test_cookie_logout_revokes_and_clears(api: httpx.AsyncClient) -> None:
    _, token = await web_login(api)
    r = await api.post("/api/v1/auth/logout", headers=WEB | cookie_header(token))
    assert r.status_code == 204, r.text
    cleared = refresh_cookie(r)[REFRESH_COOKIE]
    assert cleared.value == "" and int(cleared["max-age"]) == 0
    r = await api.post("/api/v1/auth/refresh", headers=WEB | cookie_header(token))
    assert (r.status_code, r.json()["error"]) == (401, "RefreshTokenInvalid")
    # Signing out without a cookie (another tab did already) is fine and clears it again.
    r = await api.post("/api/v1/auth/logout", headers=WEB)
    assert r.status_code == 204 and refresh_cookie(r)[REFRESH_COOKIE].value == ""


async def test_the_json_token_flow_is_unchanged_for_api_clients(api: httpx.AsyncClient) -> None:
    user = await make_user(api)
    r = await api.post("/api/v1/auth/login", json={"email": user.email, "password": user.password})
    assert r.status_code == 200 and "set-cookie" not in r.headers
    refresh = r.json()["refresh_token"]
    r = await api.post("/api/v1/auth/refresh", json={"refresh_token": refresh})
    assert r.status_code == 200 and "set-cookie" not in r.headers
    assert set(r.json()) == {"access_token", "refresh_token", "token_type", "expires_in"}
    r = await api.post("/api/v1/auth/logout", json={"refresh_token": r.json()["refresh_token"]})
    assert r.status_code == 204 and "set-cookie" not in r.headers
    # Neither a body nor a cookie: a named 400, not a 422 or 500.
    for path in ("/api/v1/auth/refresh", "/api/v1/auth/logout"):
        r = await api.post(path)
        assert (r.status_code, r.json()["error"]) == (400, "RefreshTokenMissing"), path
    # Any other value of the header is the JSON flow.
    user = await make_user(api)
    r = await api.post(
        "/api/v1/auth/login",
        json={"email": user.email, "password": user.password},
        headers={"X-SocialSeed-Client": "cli"},
    )
    assert r.status_code == 200 and "refresh_token" in r.json() and "set-cookie" not in r.headers


async def test_the_contract_is_in_the_openapi_document(api: httpx.AsyncClient) -> None:
    spec = (await api.get("/api/v1/openapi.json")).json()
    for path in ("/api/v1/auth/login", "/api/v1/auth/refresh", "/api/v1/auth/logout"):
        operation = spec["paths"][path]["post"]
        params = {(p["in"], p["name"]) for p in operation.get("parameters", [])}
        assert ("header", "X-SocialSeed-Client") in params, path
        if path != "/api/v1/auth/login":
            assert ("cookie", REFRESH_COOKIE) in params
            assert "403" in operation["responses"]
