"""Providers against the real sandbox over HTTP: one server per session (plus one with tight
limits), reset before every test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from sandbox.settings import SandboxSettings
from sandbox.testing import running_sandbox
from shared.tests.platforms.helpers import MediaServer, Sandbox, media_server

# Limits low enough to hit in a couple of calls, and LinkedIn as an approved partner.
TIGHT = SandboxSettings(
    x_me_limit_15min=2,
    meta_page_calls_per_hour=2,
    meta_instagram_calls_per_hour=2,
    youtube_daily_quota=2,
    linkedin_refresh_tokens=True,
)

# Publishing caps of one post, to reach them with a second.
CAPPED = SandboxSettings(
    instagram_publish_cap=1, tiktok_daily_post_cap=1, youtube_uploads_per_day=1
)


# Seeded history of 175 posts per account (ages cycling through 1, 3, 8, 20, 45, 120 and 400
# days): 100 of them under 30 days old, enough for full metrics batches and several list pages.
HISTORY = SandboxSettings(history_posts=175)


@pytest.fixture(scope="session")
def sandbox_url() -> Iterator[str]:
    with running_sandbox() as url:
        yield url


@pytest.fixture(scope="session")
def tight_sandbox_url() -> Iterator[str]:
    with running_sandbox(TIGHT) as url:
        yield url


@pytest.fixture(scope="session")
def capped_sandbox_url() -> Iterator[str]:
    with running_sandbox(CAPPED) as url:
        yield url


@pytest.fixture(scope="session")
def history_sandbox_url() -> Iterator[str]:
    with running_sandbox(HISTORY) as url:
        yield url


@pytest.fixture(scope="session")
def media_files() -> Iterator[MediaServer]:
    """Media served over HTTP for the platforms that download it (Instagram, Facebook)."""
    with media_server() as server:
        yield server


async def _sandbox(url: str) -> AsyncIterator[Sandbox]:
    async with (
        httpx.AsyncClient(base_url=url, timeout=10) as control,
        httpx.AsyncClient() as http,
    ):
        (await control.post("/_sandbox/reset")).raise_for_status()
        yield Sandbox(url, control, http)


@pytest.fixture
async def sandbox(sandbox_url: str) -> AsyncIterator[Sandbox]:
    async for value in _sandbox(sandbox_url):
        yield value


@pytest.fixture
async def tight(tight_sandbox_url: str) -> AsyncIterator[Sandbox]:
    async for value in _sandbox(tight_sandbox_url):
        yield value


@pytest.fixture
async def capped(capped_sandbox_url: str) -> AsyncIterator[Sandbox]:
    async for value in _sandbox(capped_sandbox_url):
        yield value


@pytest.fixture
async def history(history_sandbox_url: str) -> AsyncIterator[Sandbox]:
    async for value in _sandbox(history_sandbox_url):
        yield value
