"""Schemathesis over the gateway's merged OpenAPI with every check: no 5xx, every status
documented, responses match their schemas, schema-valid requests accepted (see
schemathesis.toml for the business-rule 400s) and invalid ones refused. Runs the schemathesis
CLI against the test stack over real HTTP. The coverage phase draws numbers at and past the
bounds the document states (``minimum``/``maximum``); date-times, which JSON Schema cannot
bound, come from schemathesis_hooks.py, edges of the accepted range included."""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
from pathlib import Path

import httpx
import pytest

from tests.conftest import Stack, owner_with_workspace

CONFIG = Path(__file__).with_name("schemathesis.toml")
# Date-times at the edges of what datetime and the services take (JSON Schema cannot bound them).
HOOKS = Path(__file__).with_name("schemathesis_hooks.py")


@pytest.mark.timeout(600)  # every check over ~25 operations: minutes on a loaded 2-core box
async def test_schemathesis_finds_no_server_errors(api: httpx.AsyncClient, stack: Stack) -> None:
    user, workspace = await owner_with_workspace(api)
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
        env={**os.environ, "SCHEMATHESIS_HOOKS": str(HOOKS), "FUZZ_WORKSPACE_ID": workspace},
    )  # fmt: skip
    out, _ = await proc.communicate()
    report = out.decode(errors="replace")
    # the failures first (a generated body can run to megabytes), then the summary
    failures = report[report.find("FAILURES") :]
    assert proc.returncode == 0, failures[:4000] + "\n...\n" + report[-2500:]
