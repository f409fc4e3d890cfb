"""The web app's API client is generated from the gateway's merged OpenAPI document: the
committed document and ``schema.d.ts`` must be what the services say today. On failure,
regenerate: ``uv run socialseed openapi --out web/openapi.json && (cd web && npm run gen:api)``."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import httpx

from socialseed.public_openapi import document
from tests.conftest import Stack
from tests.web.conftest import WEB

REGENERATE = "uv run socialseed openapi --out web/openapi.json && (cd web && npm run gen:api)"


def committed() -> dict[str, object]:
    return dict(json.loads((WEB / "openapi.json").read_text()))


def test_the_committed_document_is_the_services_document_today() -> None:
    assert document() == committed(), f"web/openapi.json drifted; run: {REGENERATE}"


async def test_the_running_gateway_serves_the_same_document(stack: Stack) -> None:
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=30) as client:
        served = (await client.get("/api/v1/openapi.json")).json()
    assert served == committed(), f"web/openapi.json drifted; run: {REGENERATE}"


def test_the_committed_client_types_are_generated_from_it(
    node_modules: Path, tmp_path: Path
) -> None:
    out = tmp_path / "schema.d.ts"
    subprocess.run(
        [str(node_modules / ".bin" / "openapi-typescript"), "openapi.json", "-o", str(out)],
        cwd=WEB,
        check=True,
        capture_output=True,
        timeout=120,
    )
    generated = out.read_text()
    assert generated == (WEB / "src/lib/api/schema.d.ts").read_text(), (
        f"web/src/lib/api/schema.d.ts drifted; run: {REGENERATE}"
    )
