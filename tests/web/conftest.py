"""The web app's tests: its build, its generated API client, and a real browser against the
real stack. Node.js and npm build it (``npm ci`` when the lock changed, ``vite build`` when a
source changed); the browser is Debian's Chromium (``make bootstrap-browser``), never a
downloaded one."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import WEB_DIST

WEB = WEB_DIST.parent
SOURCES = ("src", "public", "index.html", "vite.config.ts", "package-lock.json")


def newest(paths: list[Path]) -> float:
    times = [
        f.stat().st_mtime
        for p in paths
        if p.exists()
        for f in ([p] if p.is_file() else p.rglob("*"))
        if f.is_file()
    ]
    return max(times, default=0.0)


def npm(*args: str, timeout: float = 600) -> None:
    subprocess.run(["npm", *args], cwd=WEB, check=True, timeout=timeout)


def ensure_node_modules() -> None:
    """``npm ci`` unless node_modules was installed from this very lock file."""
    stamp = WEB / "node_modules" / ".package-lock.json"
    if not stamp.exists() or stamp.stat().st_mtime < (WEB / "package-lock.json").stat().st_mtime:
        npm("ci", "--no-audit", "--no-fund")


@pytest.fixture(scope="session")
def node_modules() -> Path:
    if shutil.which("npm") is None:
        pytest.fail("Node.js and npm are needed for the web app's tests")
    ensure_node_modules()
    return WEB / "node_modules"


@pytest.fixture(scope="session")
def web_build(node_modules: Path) -> Path:
    """web/dist, rebuilt when a source is newer than it (the shared gateway serves it)."""
    index = WEB_DIST / "index.html"
    if not index.exists() or index.stat().st_mtime < newest([WEB / s for s in SOURCES]):
        npm("run", "build", timeout=300)
    return WEB_DIST
