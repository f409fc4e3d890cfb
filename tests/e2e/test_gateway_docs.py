"""The API docs render from the gateway's own assets, and document the gateway's errors."""

from __future__ import annotations

import asyncio
import shutil

import httpx

from gateway.openapi import MergedOpenAPI
from gateway.settings import GatewaySettings
from tests.conftest import Stack

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


async def rendered_dom(url: str) -> str:
    assert CHROMIUM is not None, "no chromium: `make test` (bootstrap-browser) installs it"
    process = await asyncio.create_subprocess_exec(
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--virtual-time-budget=15000",
        "--dump-dom",
        url,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    out, _ = await asyncio.wait_for(process.communicate(), timeout=90)
    return out.decode()


async def test_gateway_docs_render_in_a_browser(stack: Stack) -> None:
    dom = await rendered_dom(f"{stack.gateway_url}/docs")
    assert "/api/v1/auth/login" in dom
    assert "/api/v1/workspaces" in dom


async def test_docs_assets_are_served_locally(stack: Stack, api: httpx.AsyncClient) -> None:
    for base in (stack.gateway_url, stack.auth_url, stack.accounts_url):
        async with httpx.AsyncClient(base_url=base, timeout=20) as client:
            page = await client.get("/docs")
            assert page.status_code == 200
            assert "cdn.jsdelivr" not in page.text
            assert "/static/swagger-ui/swagger-ui-bundle.js" in page.text
            script = await client.get("/static/swagger-ui/swagger-ui-bundle.js")
            assert script.status_code == 200
            assert "javascript" in script.headers["content-type"]
    # Other /static paths are the gateway's own business, never forwarded.
    r = await api.get("/static/anything")
    assert r.status_code == 404
    assert r.json()["error"] == "NotFound"


async def test_merged_document_names_the_gateways_errors(api: httpx.AsyncClient) -> None:
    document = (await api.get("/api/v1/openapi.json")).json()
    assert "ErrorBody" in document["components"]["schemas"]
    operations = [
        operation
        for item in document["paths"].values()
        for method, operation in item.items()
        if method in {"get", "post", "put", "patch", "delete"}
    ]
    assert operations
    ref = {"$ref": "#/components/schemas/ErrorBody"}
    for operation in operations:
        responses = operation["responses"]
        for status, names in [
            ("400", {"AmbiguousPath"}),
            ("413", {"PayloadTooLarge"}),
            ("429", {"RateLimited", "TooManyConcurrentRequests"}),
            ("503", {"ServiceUnavailable"}),
        ]:
            entry = responses[status]
            assert names <= set(entry["description"].split(", ")), (operation, status)
            assert entry["content"]["application/json"]["schema"] == ref


async def test_no_two_services_name_different_schemas_alike(stack: Stack) -> None:
    """Components are merged by name: a clash would make one service's operations describe
    the other's bodies (auth's and analytics' refresh bodies once did)."""
    upstreams = {
        "auth": stack.auth_url,
        "accounts": stack.accounts_url,
        "publisher": stack.publisher_url,
        "analytics": stack.analytics_url,
    }
    async with httpx.AsyncClient(timeout=30) as client:
        merged = MergedOpenAPI(GatewaySettings(upstreams=upstreams), client)
        document = await merged.document()
    assert len(document["paths"]) > 30  # every service answered
    assert merged.collisions == set()
