"""The web app in a real browser (Debian's Chromium, driven by playwright-core from Node.js)
against the real stack: the first-visit journey of ``web/e2e/newcomer.mjs``. Screenshots go to
``web/test-results/screenshots`` (ignored by git)."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from pathlib import Path

import pytest

from tests.conftest import Stack
from tests.web.conftest import WEB

SCREENSHOTS = WEB / "test-results" / "screenshots"


@pytest.mark.timeout(300)
async def test_a_newcomer_signs_up_creates_a_workspace_and_connects_x(
    stack: Stack, web_build: Path
) -> None:
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.fail("Debian's chromium is needed: make bootstrap-browser")
    proc = await asyncio.create_subprocess_exec(
        "node", "e2e/newcomer.mjs", stack.gateway_url, str(SCREENSHOTS),
        cwd=WEB,
        env={**os.environ, "CHROMIUM": chromium},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), timeout=280)
    lines = out.decode().strip().splitlines()
    report = json.loads(lines[-1]) if lines else {"ok": False, "error": "no report"}
    assert proc.returncode == 0 and report["ok"], (
        f"{report.get('error')}\nsteps: {report.get('steps')}\nproblems: "
        f"{report.get('problems')}\nstderr:\n{err.decode()[-3000:]}"
    )
    assert report["headers"]["nosniff"] == "nosniff"
    assert "frame-ancestors 'none'" in report["headers"]["csp"]
    for name in ("accounts-desktop.png", "accounts-375.png", "accounts-desktop-dark.png"):
        assert (SCREENSHOTS / name).stat().st_size > 0
