"""Contract tests talk to a real sandbox over HTTP (one server per session, reset per test)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from sandbox.settings import SandboxSettings
from sandbox.testing import SandboxFactory, running_sandbox, sandbox_factory


@pytest.fixture(scope="session")
def base_url() -> Iterator[str]:
    settings = SandboxSettings(tiktok_verified_domains=["media.example.com"])
    with running_sandbox(settings) as url:
        yield url


@pytest.fixture
def client(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=10) as c:
        c.post("/_sandbox/reset").raise_for_status()
        yield c


@pytest.fixture
def sandbox_with() -> Iterator[SandboxFactory]:
    """A client of a sandbox of its own, for settings the session's sandbox does not have."""
    with sandbox_factory() as start:
        yield start
