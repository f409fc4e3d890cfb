"""Analytics' fetch planning over one simulated day: platform calls per post fetched, 429s
caused, wall time.

Starts its own PostgreSQL and a sandbox whose accounts come with ``--posts`` posts in all
(its ``history_posts`` setting, spread over ``--accounts`` accounts per platform), connects
them through each platform's OAuth, tracks every sandbox post directly in the database (due
now, as after a backfill), then runs the fetch workers (``--concurrency`` loops) for 24
simulated hours, ``--step-minutes`` (15) at a time, advancing the sandbox's clock and the
service's together. The workers' tokens come from the sandbox's own consent, handed out as
accounts' vault would (there is no accounts service in the bench). No Kafka: the
``metrics.fetched`` events stay in the outbox, where the bench counts the posts they carry.
The sandbox enforces its default (the platforms' real) rate limits. Figures, then the
targets they are held to.

    uv run python bench/sync_efficiency.py [--posts 100000] [--accounts 2] [--concurrency 8]
        [--step-minutes 15]

Calls counted are every call of the platform (consents, token refreshes, listings and account
counters included), so small runs read above the batch sizes' ratio; the calls of each
endpoint are printed after the table. The sandbox runs in a process of its own, as
``socialseed up`` runs it (in a thread of this process it shared the interpreter lock with the
workers, and 100,000 posts took well over ten minutes); 100,000 posts take about two minutes.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import asyncpg
import httpx
from pydantic import SecretStr

from analytics.app import create_app
from analytics.context import AnalyticsContext
from analytics.fetching.fetcher import FetchWorkers
from analytics.settings import AnalyticsSettings
from socialseed.devstack.postgres import LocalPostgres
from socialseed.platforms import Platform, TokenSet
from socialseed.platforms.base import PlatformsConfig
from socialseed.stack import SERVICES, migrate
from socialseed.testing import free_port
from socialseed.vault import TokenVault, VaultToken

#: Platform calls per post fetched, at most (the batch sizes' promise).
TARGETS = {
    "x": 1 / 100,
    "youtube": 1 / 50,
    "tiktok": 1 / 20,
    "facebook": 1 / 50,
    "instagram": 1 / 50,
}
CALLBACK = "http://127.0.0.1:8000/api/v1/oauth/{platform}/callback"


class SandboxVault(TokenVault):
    """The tokens each account's consent gave, refreshed at the platform when they expire (or
    the platform refused them), as accounts' vault does."""

    def __init__(
        self,
        ctx: AnalyticsContext,
        tokens: dict[uuid.UUID, tuple[Platform, VaultToken]],
    ) -> None:
        http = ctx.runtime.http_clients[0]
        super().__init__(http, "http://unused", SecretStr("unused"), clock=ctx.clock)
        self.ctx = ctx
        self.tokens = tokens

    async def token(self, account_id: uuid.UUID, *, force: bool = False) -> VaultToken:
        platform, token = self.tokens[account_id]
        expires = token.tokens.expires_at
        if force or (expires is not None and expires - self.lead <= self.ctx.clock()):
            fresh = await self.ctx.providers[platform].refresh(token.tokens)
            fresh = dataclasses.replace(fresh, platform_user_id=token.platform_user_id)
            token = VaultToken(fresh, token.platform_user_id)
            self.tokens[account_id] = (platform, token)
        return token


async def connect(
    ctx: AnalyticsContext, http: httpx.AsyncClient, platform: Platform, username: str
) -> list[tuple[str, TokenSet]]:
    provider = ctx.providers[platform]
    callback = CALLBACK.format(platform=platform.value)
    authorization = provider.authorize(state="s", redirect_uri=callback)
    consent = await http.get(authorization.url + f"&sandbox_approve={username}")
    code = parse_qs(urlsplit(consent.headers["location"]).query)["code"][0]
    tokens = await provider.exchange_code(
        code=code, redirect_uri=callback, code_verifier=authorization.code_verifier
    )
    return [(c.profile.platform_user_id, c.tokens) for c in await provider.connections(tokens)]


async def track(
    conn: asyncpg.Connection, sandbox: httpx.AsyncClient, platform: str, user: str, now: datetime
) -> tuple[uuid.UUID, int]:
    """The account and every sandbox post of its, tracked and due now."""
    account_id, workspace_id = uuid.uuid4(), uuid.uuid4()
    await conn.execute(
        "INSERT INTO analytics.accounts (id, workspace_id, platform, platform_user_id, username,"
        " status, tracking, connected_at, backfill_requested_at, backfilled_at, next_sync_at,"
        " updated_at) VALUES ($1, $2, $3, $4, $4, 'active', true, $5, $5, $5, $5, $5)",
        account_id, workspace_id, platform, user, now,
    )  # fmt: skip
    ledger = await sandbox.get(
        "/_sandbox/ledger", params={"platform": platform, "account": user, "include_seeded": "true"}
    )
    entries = [e for e in ledger.json()["entries"] if not e["deleted"]]
    await conn.copy_records_to_table(
        "tracked_posts",
        schema_name="analytics",
        columns=["id", "account_id", "workspace_id", "platform", "platform_post_id",
                 "published_at", "source", "status", "next_fetch_at"],
        records=[
            (uuid.uuid4(), account_id, workspace_id, platform, e["platform_post_id"],
             datetime.fromtimestamp(e["created_ts"], UTC), "backfill", "active", now)
            for e in entries
        ],
    )  # fmt: skip
    return account_id, len(entries)


@contextmanager
def sandbox_process(history_posts: int, log: Path) -> Iterator[str]:
    """The sandbox in a process of its own (as ``socialseed up`` runs it): in a thread of
    this one it would share the interpreter lock with the fetch workers it answers."""
    port = free_port()
    env = os.environ | {
        "SANDBOX_PORT": str(port),
        "SANDBOX_HISTORY_POSTS": str(history_posts),
        "SANDBOX_REDIRECT_HOSTS": '["http://127.0.0.1:8000"]',
    }
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "sandbox"], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(url + "/_sandbox/stats", timeout=1).raise_for_status()
                break
            except httpx.HTTPError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the sandbox did not start (see {log})") from None
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


async def main(posts: int, accounts: int, concurrency: int, step_minutes: int) -> None:
    per_account = max(1, posts // (len(Platform) * accounts + accounts))  # Facebook: 2 pages
    offset = [0.0]

    def clock() -> datetime:
        return datetime.now(UTC) + timedelta(seconds=offset[0])

    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        pg = LocalPostgres(Path(tmp) / "pg", port=free_port(), fast=True)
        pg.start()
        stack.callback(pg.stop)
        sandbox_url = stack.enter_context(sandbox_process(per_account, Path(tmp) / "sandbox.log"))
        host, port = "127.0.0.1", pg.port
        await asyncio.to_thread(migrate, SERVICES, admin_url=pg.admin_url, host=host, port=port)
        url = next(s for s in SERVICES if s.name == "analytics").database_url(host, port)
        settings = AnalyticsSettings(
            dev_mode=True,
            database_url=url,
            kafka_enabled=False,
            platforms=PlatformsConfig(sandbox_url=sandbox_url),
            fetch_concurrency=concurrency,
        )
        app = create_app(settings, clock=clock, background=False)
        ctx: AnalyticsContext = app.state.analytics
        async with httpx.AsyncClient(base_url=sandbox_url, timeout=120) as sandbox:
            tokens: dict[uuid.UUID, tuple[Platform, VaultToken]] = {}
            conn = await asyncpg.connect(url.replace("+asyncpg", ""))
            tracked = 0
            seeding = time.perf_counter()
            for platform in Platform:
                for n in range(accounts):
                    for user, token in await connect(ctx, sandbox, platform, f"{platform}{n}"):
                        account_id, count = await track(conn, sandbox, platform, user, clock())
                        token = dataclasses.replace(token, platform_user_id=user)
                        tokens[account_id] = (platform, VaultToken(token, user))
                        tracked += count
            print(f"tracked {tracked} posts of {len(tokens)} accounts "
                  f"in {time.perf_counter() - seeding:.1f}s")  # fmt: skip
            ctx.vault = SandboxVault(ctx, tokens)
            await ctx.runtime.database.engine.dispose()
            before = (await sandbox.get("/_sandbox/stats")).json()["platforms"]
            workers = FetchWorkers(ctx, name="bench")
            started = time.perf_counter()
            step = step_minutes * 60
            for n in range(24 * 3600 // step):
                if n:
                    await sandbox.post("/_sandbox/clock/advance", json={"seconds": step})
                    offset[0] += step
                await asyncio.gather(*(workers.drain() for _ in range(concurrency)))
            wall = time.perf_counter() - started
            after = (await sandbox.get("/_sandbox/stats")).json()["platforms"]
            fetched = await conn.fetch(
                "SELECT payload->>'platform' AS platform, sum(jsonb_array_length(payload->'posts')"
                " + jsonb_array_length(payload->'failures')) AS posts,"
                " count(*) FILTER (WHERE payload->'account' != 'null') AS accounts"
                " FROM analytics.outbox GROUP BY 1 ORDER BY 1"
            )
            behind = await conn.fetch(
                "SELECT platform, count(*) AS due FROM analytics.tracked_posts"
                " WHERE next_fetch_at <= $1 GROUP BY 1", clock()
            )  # fmt: skip
            await conn.close()
        await ctx.runtime.database.dispose()
        for client in ctx.runtime.http_clients:
            await client.aclose()
    report(before, after, fetched, behind, wall)


def report(
    before: dict[str, Any],
    after: dict[str, Any],
    fetched: list[Any],
    behind: list[Any],
    wall: float,
) -> None:
    due = {r["platform"]: r["due"] for r in behind}
    print(f"one simulated day in {wall:.1f}s wall time")
    print(f"{'platform':<10} {'posts fetched':>14} {'calls':>7} {'calls/post':>11} "
          f"{'target':>8} {'429s':>5} {'still due':>10}")  # fmt: skip
    ok = True
    for row in fetched:
        platform = row["platform"]

        def delta(key: str, p: str = platform) -> int:
            return int(after.get(p, {}).get(key, 0) - before.get(p, {}).get(key, 0))

        calls, limited = delta("calls"), delta("rate_limited")
        per_post = calls / max(1, row["posts"])
        target = TARGETS.get(platform)
        ok &= limited == 0 and (target is None or per_post <= target * 1.1)
        shown = f"{target:.4f}" if target else "-"
        print(f"{platform:<10} {row['posts']:>14} {calls:>7} {per_post:>11.4f} "
              f"{shown:>8} {limited:>5} {due.get(platform, 0):>10}")  # fmt: skip
    print("calls by endpoint (the day's, most first):")
    for row in fetched:
        platform = row["platform"]
        was = before.get(platform, {}).get("endpoints", {})
        now = after.get(platform, {}).get("endpoints", {})
        made = {e: v["calls"] - was.get(e, {}).get("calls", 0) for e, v in now.items()}
        top = sorted(((n, e) for e, n in made.items() if n), reverse=True)
        print(f"  {platform}: " + ", ".join(f"{e} {n}" for n, e in top))
    print("targets met" if ok else "TARGETS MISSED")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--accounts", type=int, default=2, help="per platform")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--step-minutes", type=int, default=15, help="simulated time per turn")
    args = parser.parse_args()
    asyncio.run(main(args.posts, args.accounts, args.concurrency, args.step_minutes))
