"""What the metrics tests of every platform share: the sandbox's truth and its per-account
call counts, and a sandbox whose accounts come with a long history of posts."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from sandbox.settings import SandboxSettings
from sandbox.testing import running_sandbox
from shared.tests.platforms.conftest import _sandbox
from shared.tests.platforms.helpers import Sandbox
from socialseed.platforms import Platform

#: Enough seeded posts per account for a full batch of 50 (and more than a page of a list).
HISTORY = SandboxSettings(history_posts=60)


@pytest.fixture(scope="module")
def history_url() -> Iterator[str]:
    with running_sandbox(HISTORY) as url:
        yield url


@pytest.fixture
async def history(history_url: str) -> AsyncIterator[Sandbox]:
    async for value in _sandbox(history_url):
        yield value


async def freeze(sandbox: Sandbox) -> None:
    """Stop the sandbox's real time, so what a provider read equals the truth read after."""
    response = await sandbox.control.post("/_sandbox/clock/freeze", json={"frozen": True})
    response.raise_for_status()


async def truth(sandbox: Sandbox, platform: Platform, post_id: str) -> dict[str, Any]:
    """The numbers the sandbox's platform holds for a post right now."""
    response = await sandbox.control.get(f"/_sandbox/truth/{platform}/{post_id}")
    response.raise_for_status()
    metrics: dict[str, Any] = response.json()["metrics"]
    return metrics


async def account_calls(sandbox: Sandbox, platform: Platform, account: str) -> dict[str, int]:
    """Calls per endpoint (``"<METHOD> <template>"``) made with that account's tokens."""
    response = await sandbox.control.get("/_sandbox/stats", params={"account": account})
    endpoints = response.json()["platforms"].get(platform, {}).get("endpoints", {})
    return {name: entry["calls"] for name, entry in endpoints.items()}


async def seeded(sandbox: Sandbox, platform: Platform, account: str) -> list[dict[str, Any]]:
    """The account's posts as the sandbox's ledger has them (seeded history included),
    newest first."""
    response = await sandbox.control.get(
        "/_sandbox/ledger",
        params={"platform": platform, "account": account, "include_seeded": "true"},
    )
    entries: list[dict[str, Any]] = response.json()["entries"]
    return sorted(entries, key=lambda e: e["created_ts"], reverse=True)
