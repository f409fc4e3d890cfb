"""What the publishing benches share: the whole stack as processes, sandbox accounts connected
through the real OAuth flow, and reading the outcome back from the publisher's database and the
sandbox's ledger.

Used by ``publish_lateness.py`` (how late) and ``publish_chaos.py`` (exactly once under
faults); not a bench of its own.
"""

from __future__ import annotations

import asyncio
import collections
import os
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
from request_path import LIFTED_LIMITS

from socialseed.cli import Running, Supervisor
from socialseed.stack import DATABASE, SERVICES

PLATFORMS = {"x": 1, "facebook": 2, "linkedin": 1}  # accounts one consent grants
# Target statuses still in the dispatcher's hands.
UNFINISHED = ("scheduled", "publishing", "waiting", "in_doubt")

Key = tuple[str, str, str]  # platform, the platform's account id, text


@dataclass(frozen=True)
class Account:
    id: str
    platform: str
    platform_user_id: str


@dataclass(frozen=True)
class Planned:
    """One target: where it goes, what it says, when it is due (Unix seconds)."""

    platform: str
    platform_user_id: str
    text: str
    due: float

    @property
    def key(self) -> Key:
        return (self.platform, self.platform_user_id, self.text)


# The stack ---------------------------------------------------------------------------------


def bench_environment(supervisor: Supervisor) -> None:
    """What the children inherit: the gateway's limits lifted (this client is one IP and one
    user), the sandbox's app-wide X cap and Facebook's per-minute page cap lifted (they would
    measure the platforms' quotas, not the publisher), and the gateway as the registered
    OAuth callback host."""
    gateway = f"http://127.0.0.1:{supervisor.ports['gateway']}"
    os.environ |= LIFTED_LIMITS | {
        "SANDBOX_REDIRECT_HOSTS": f'["{gateway}"]',
        "SANDBOX_X_TWEETS_PER_DAY_APP": "100000000",
        "SANDBOX_FACEBOOK_POSTS_PER_MINUTE": "100000000",
    }


def service_dsn(supervisor: Supervisor, name: str) -> str:
    """A service's own database role, as asyncpg takes it."""
    spec = next(s for s in SERVICES if s.name == name)
    url = spec.database_url("127.0.0.1", supervisor.pg.port, DATABASE)
    return url.replace("postgresql+asyncpg", "postgresql")


async def wait_analytics_settled(supervisor: Supervisor, until: float) -> dict[str, int]:
    """Until analytics has listed the history of every account it tracks and fetched every
    post found there (or the deadline): what connecting accounts sets off, so that a
    scenario measures publishing, not the connect's aftermath. What was still due."""
    db = await asyncpg.connect(service_dsn(supervisor, "analytics"))
    try:
        while True:
            row = await db.fetchrow(
                "SELECT (SELECT count(*) FROM analytics.accounts WHERE tracking"
                "  AND backfill_requested_at IS NOT NULL"
                "  AND (backfilled_at IS NULL OR backfilled_at < backfill_requested_at))"
                "  AS histories,"
                " (SELECT count(*) FROM analytics.tracked_posts WHERE next_fetch_at <= now())"
                "  AS posts"
            )
            assert row is not None
            left = {"histories": int(row["histories"]), "posts": int(row["posts"])}
            if not any(left.values()) or time.time() > until:
                return left
            await asyncio.sleep(1.0)
    finally:
        await db.close()


def publisher_dsn(supervisor: Supervisor) -> str:
    """The publisher's own database role, as asyncpg takes it."""
    return service_dsn(supervisor, "publisher")


class PatientSupervisor(Supervisor):
    """Several publisher workers joining seven consumer groups each start slowly on a shared
    2-core machine: more than the minute ``socialseed up`` allows."""

    def wait_healthy(self, running: Running, timeout: float = 300.0) -> None:
        super().wait_healthy(running, timeout)


# Accounts ----------------------------------------------------------------------------------


async def signed_in(api: httpx.AsyncClient) -> tuple[dict[str, str], str]:
    """A fresh user, their workspace, and a token that carries the owner role."""
    user = {"email": "bench@example.com", "password": "a long bench passphrase", "name": "Bench"}
    (await api.post("/api/v1/auth/register", json=user)).raise_for_status()
    login = (await api.post("/api/v1/auth/login", json=user)).raise_for_status().json()
    headers = {"Authorization": f"Bearer {login['access_token']}"}
    ws = await api.post("/api/v1/workspaces", json={"name": "Bench"}, headers=headers)
    ws.raise_for_status()
    fresh = await api.post("/api/v1/auth/refresh", json={"refresh_token": login["refresh_token"]})
    fresh.raise_for_status()
    return {"Authorization": f"Bearer {fresh.json()['access_token']}"}, str(ws.json()["id"])


async def connect(
    api: httpx.AsyncClient, headers: dict[str, str], ws: str, platform: str, username: str
) -> list[Account]:
    """The whole OAuth dance, as a user's browser and the composer make it."""
    r = await api.post(
        "/api/v1/accounts/connect",
        json={"workspace_id": ws, "platform": platform},
        headers=headers,
    )
    r.raise_for_status()
    consent = await get_once_more(api, f"{r.json()['authorize_url']}&sandbox_approve={username}")
    assert consent.status_code in (302, 303), consent.text
    callback = (await get_once_more(api, consent.headers["location"])).raise_for_status()
    done = await api.post("/api/v1/accounts/oauth/complete", json=callback.json(), headers=headers)
    done.raise_for_status()
    return [Account(a["id"], a["platform"], a["platform_user_id"]) for a in done.json()["accounts"]]


async def get_once_more(client: httpx.AsyncClient, url: str) -> httpx.Response:
    """A GET again when a pooled connection was closed under it (the server's idle timeout)."""
    try:
        return await client.get(url)
    except httpx.RemoteProtocolError:
        return await client.get(url)


async def bounded(jobs: Iterable[Callable[[], Awaitable[Any]]], concurrency: int) -> list[Any]:
    slots = asyncio.Semaphore(concurrency)

    async def run(job: Callable[[], Awaitable[Any]]) -> Any:
        async with slots:
            return await job()

    return list(await asyncio.gather(*(run(job) for job in jobs)))


async def connect_accounts(
    api: httpx.AsyncClient, headers: dict[str, str], ws: str, count: int
) -> list[Account]:
    """``count`` accounts, a third per platform (X, Facebook pages, LinkedIn members), 50
    consents at a time, interleaved so that consecutive accounts mix platforms."""
    share = -(-count // len(PLATFORMS))
    jobs = [
        lambda p=platform, n=n: connect(api, headers, ws, p, f"b{p[0]}{n:04d}")
        for platform, per_consent in PLATFORMS.items()
        for n in range(-(-share // per_consent))
    ]
    granted = [a for batch in await bounded(jobs, 50) for a in batch]
    by_platform = [[a for a in granted if a.platform == p][:share] for p in PLATFORMS]
    interleaved = [a for row in zip(*by_platform, strict=False) for a in row]
    return interleaved[:count]


# The outcome -------------------------------------------------------------------------------


async def wait_settled(
    db: asyncpg.Connection, post_ids: list[str] | None, until: float
) -> dict[str, int]:
    """Every target of these posts (all posts: ``None``) out of the dispatcher's hands, or the
    deadline."""
    ids = None if post_ids is None else [uuid.UUID(p) for p in post_ids]
    while True:
        rows = await db.fetch(
            "SELECT status, count(*) AS n FROM publisher.targets"
            " WHERE $1::uuid[] IS NULL OR post_id = ANY($1) GROUP BY status",
            ids,
        )
        counts = {r["status"]: r["n"] for r in rows}
        if not any(counts.get(s) for s in UNFINISHED) or time.time() > until:
            return counts
        await asyncio.sleep(0.5)


async def ledger(sandbox: httpx.AsyncClient, tag: str) -> dict[Key, list[float]]:
    """What the platforms hold of this run (texts carrying ``tag``): each (platform, account,
    text) with the creation time of every copy."""
    r = await sandbox.get("/_sandbox/ledger", params={"include_seeded": "false"}, timeout=120)
    created: dict[Key, list[float]] = collections.defaultdict(list)
    for e in r.raise_for_status().json()["entries"]:
        if tag in (e["text"] or ""):
            created[(e["platform"], e["account_id"], e["text"])].append(float(e["created_ts"]))
    return created


def duplicates(planned: Iterable[Planned], created: dict[Key, list[float]]) -> int:
    """Copies beyond the first of each planned target (the same account and text twice)."""
    wanted = {t.key for t in planned}
    return sum(len(v) - 1 for k, v in created.items() if k in wanted)
