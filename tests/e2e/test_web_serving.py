"""The gateway serves the web app's build at / (SPA fallback for client routes) with a strict
Content-Security-Policy, nosniff and a Referrer-Policy; hashed assets cached as immutable,
index.html revalidated; the API, /docs, /metrics and /healthz answer as before."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from gateway.app import create_app as create_gateway
from gateway.settings import GatewaySettings
from socialseed.testing import serve
from tests.conftest import RELAXED, Stack
from tests.e2e.test_gateway_paths import raw_request, status_and_body

INDEX = '<!doctype html><html><head><script type="module" src="/assets/app-1a2b3c.js"></script></head><body><div id="root"></div></body></html>'


@pytest.fixture(scope="module")
def web_gateway(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A gateway over the shared stack's services, serving a small build of its own."""
    dist: Path = tmp_path_factory.mktemp("dist")
    (dist / "assets").mkdir()
    (dist / "index.html").write_text(INDEX)
    (dist / "assets" / "app-1a2b3c.js").write_text("console.log('app')")
    (dist / "favicon.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    (tmp_path_factory.getbasetemp() / "secret.txt").write_text("outside the build")
    settings = GatewaySettings(
        upstreams={"auth": stack.auth_url, "accounts": stack.accounts_url},
        limit_per_ip=RELAXED,
        limit_per_user=RELAXED,
        limit_login_per_ip=RELAXED,
        web_dist=dist,
    )
    with serve(create_gateway(settings)) as url:
        yield url


def assert_strict_headers(r: httpx.Response) -> None:
    csp = {
        d.strip().split(" ", 1)[0]: d.strip()
        for d in r.headers["content-security-policy"].split(";")
    }
    assert csp["script-src"] == "script-src 'self'"  # no inline scripts, no eval
    assert csp["connect-src"] == "connect-src 'self'"
    assert csp["frame-ancestors"] == "frame-ancestors 'none'"
    assert csp["default-src"] == "default-src 'self'"
    assert csp["object-src"] == "object-src 'none'"
    assert csp["media-src"] == "media-src 'self' blob:"  # local videos only (the composer)
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "no-referrer"


async def test_the_app_and_its_client_routes_are_served_with_strict_headers(
    web_gateway: str,
) -> None:
    async with httpx.AsyncClient(base_url=web_gateway) as client:
        for path in ("/", "/sign-in", "/workspaces/abc/accounts", "/accounts/connected?x=1"):
            r = await client.get(path, headers={"Accept": "text/html"})
            assert r.status_code == 200, path
            assert r.text == INDEX
            assert r.headers["content-type"].startswith("text/html")
            assert r.headers["cache-control"] == "no-cache"
            assert_strict_headers(r)
        asset = await client.get("/assets/app-1a2b3c.js")
        assert asset.status_code == 200 and "javascript" in asset.headers["content-type"]
        assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert_strict_headers(asset)
        other = await client.get("/favicon.svg")
        assert other.status_code == 200 and other.headers["cache-control"] == "no-cache"
        head = await client.head("/sign-in")
        assert head.status_code == 200 and head.content == b""


async def test_missing_files_are_404_not_the_page(web_gateway: str) -> None:
    async with httpx.AsyncClient(base_url=web_gateway) as client:
        for path in ("/assets/gone-123.js", "/robots.txt", "/static/anything"):
            r = await client.get(path)
            assert (r.status_code, r.json()["error"]) == (404, "NotFound"), path
        # Only GET and HEAD are the app's; anything else goes the API's way.
        r = await client.post("/sign-in", json={})
        assert (r.status_code, r.json()["error"]) == (404, "NotFound")


async def test_nothing_outside_the_build_is_served(web_gateway: str) -> None:
    for target in ("/../secret.txt", "/assets/../../secret.txt", "/%2e%2e/secret.txt", "//etc"):
        status, body = status_and_body(await raw_request(web_gateway, "GET", target, {}))
        assert status == 400 and b"AmbiguousPath" in body, (target, status, body)


async def test_the_api_docs_metrics_and_health_keep_their_own_answers(web_gateway: str) -> None:
    async with httpx.AsyncClient(base_url=web_gateway) as client:
        r = await client.get("/api/v1/nothing-here", headers={"Accept": "text/html"})
        assert (r.status_code, r.json()["error"]) == (404, "NotFound")
        r = await client.get("/api/v1/auth/me")
        assert (r.status_code, r.json()["error"]) == (401, "Unauthorized")
        r = await client.get("/api/v1/openapi.json")
        assert r.status_code == 200 and "/api/v1/auth/login" in r.json()["paths"]
        r = await client.get("/.well-known/jwks.json")
        assert r.status_code == 200 and "keys" in r.json()
        r = await client.get("/docs")
        assert r.status_code == 200 and "swagger" in r.text.lower()
        assert "content-security-policy" not in r.headers  # the app's policy is the app's
        r = await client.get("/healthz")
        assert r.status_code in (200, 503) and "application/json" in r.headers["content-type"]
        r = await client.get("/metrics")  # outside dev mode: for operators (their token)
        assert (r.status_code, r.json()["error"]) == (401, "Unauthorized")


async def test_without_a_build_the_gateway_serves_the_api_alone(
    stack: Stack, tmp_path: Path
) -> None:
    settings = GatewaySettings(upstreams={"auth": stack.auth_url}, web_dist=tmp_path / "none")
    with serve(create_gateway(settings)) as url:
        async with httpx.AsyncClient(base_url=url) as client:
            r = await client.get("/")
            assert (r.status_code, r.json()["error"]) == (404, "NotFound")
