"""Schemathesis over the gateway's merged OpenAPI with every check: no 5xx, every status
documented, responses match their schemas, schema-valid requests accepted (see
schemathesis.toml for the business-rule 400s) and invalid ones refused. Runs the schemathesis
CLI against the test stack over real HTTP."""

from __future__ import annotations

import asyncio
import shutil
import sys
from pathlib import Path

import httpx
import pytest

from tests.conftest import Stack, owner_with_workspace

CONFIG = Path(__file__).with_name("schemathesis.toml")


@pytest.mark.timeout(600)  # every check over ~25 operations: minutes on a loaded 2-core box
async def test_schemathesis_finds_no_server_errors(api: httpx.AsyncClient, stack: Stack) -> None:
    user, _ = await owner_with_workspace(api)
    st = shutil.which("st") or str(Path(sys.executable).with_name("st"))
    proc = await asyncio.create_subprocess_exec(
        st, "--config-file", str(CONFIG), "run", f"{stack.gateway_url}/api/v1/openapi.json",
        "--checks", "all",
        "--header", f"Authorization: Bearer {user.access}",
        "--max-examples", "25",
        "--seed", "20261121",
        "--phases", "examples,coverage,fuzzing",
        "--no-color",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    out, _ = await proc.communicate()
    report = out.decode(errors="replace")
    # the failures first (a generated body can run to megabytes), then the summary
    failures = report[report.find("FAILURES") :]
    assert proc.returncode == 0, failures[:4000] + "\n...\n" + report[-2500:]
