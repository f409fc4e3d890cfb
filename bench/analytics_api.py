"""Latency of the analytics read API over a million snapshots.

Starts the local stack the way ``socialseed up`` does (as ``request_path.py`` does: its own
PostgreSQL, Kafka and services in a temp dir, on free ports), registers a user with a
workspace through the gateway, then seeds the analytics schema directly, set-wise in the
database (``INSERT ... SELECT FROM generate_series``, no round trip per row): ``--accounts``
accounts of the workspace, ``--posts`` posts each with their latest values, ``--snapshots``
post snapshots spread over the last ``HISTORY_DAYS`` (40: older than the 30 days the dashboard
reads, so that its first day is partly inside the period and read from the posts, as in a
workspace with a history), hourly account snapshots and daily rollups. Then
loads, with ``wrk`` at ``--connections`` (50), straight at the analytics service:

- the dashboard (30 days: per platform and account totals, followers, top posts, freshness);
- an account's followers by day over 30 days, and by hour over 7 days.

Each target twice: the same request repeated (after the first, answered from the service's
answer cache: the request path, the access check and the data-version read) and each request
new (the period's start moved back a second each time: every answer computed). wrk sends
no ``If-None-Match``. Before the loads, each read's queries are timed alone, in this process.
Prints req/s, p50 and p99, the goals (p99 <= 100 ms repeated, <= 250 ms computed), each
load's CPU per answer (the service's processes, PostgreSQL's, wrk's) against the two cores'
limit, the PostgreSQL sessions each load opened, and the load average before and after. The
analytics service runs ``--workers`` processes (default ``auto``: one per core, as it would be
deployed on this machine; ``ANALYTICS_WORKERS`` wins when set). ``--profile`` samples the
service with py-spy.

    uv run python bench/analytics_api.py [--snapshots 1000000] [--duration 10] [--workers auto]
        [--profile]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlencode

import httpx
from profiling import (
    CpuMeter,
    Profiler,
    process_groups,
    reaped_children_seconds,
    summarize_profile,
)
from request_path import (
    Load,
    Target,
    bench_environment,
    load_average,
    parse_wrk,
    running_stack,
    wrk,
)
from request_path import (
    profile as profile_targets,
)
from sqlalchemy import CursorResult, text

from analytics.queries import service
from analytics.queries.periods import Interval, resolve
from analytics.queries.repository import QueryRepository, retention_cutoff
from analytics.retention.repository import SNAPSHOT_TABLES, PartitionRepository
from socialseed.db import Database
from socialseed.security import Principal
from socialseed.stack import SERVICES

GOAL_P99_MS = 100.0  # a repeated answer
GOAL_FRESH_P99_MS = 250.0  # each answer computed
PLATFORMS = ("x", "instagram", "facebook", "youtube", "tiktok", "linkedin")
HISTORY_DAYS = 40


# Each request a distinct period (its start moved back a second more each time, the two
# threads 100,000 s apart, all inside the history; the last
# ``from`` given wins): every answer computed. A parameter the route ignores would not do: the
# ETag is made of the parsed parameters only, so it would be served from the answer cache.
UNCACHED_LUA = """
local n = 0
setup = function(thread) thread:set("id", n); n = n + 1 end
init = function() counter = 0 end
request = function()
  counter = counter + 1
  local start = os.date("!%Y-%m-%dT%H:%M:%SZ", FROM_EPOCH - id * 100000 - counter)
  return wrk.format(nil, wrk.path .. "&from=" .. start)
end
"""


def wrk_uncached(
    target: Target, *, duration: float, connections: int, script: Path, start: datetime
) -> Load:
    """``start``: the period's start the target asks (or defaults to)."""
    script.write_text(UNCACHED_LUA.replace("FROM_EPOCH", str(int(start.timestamp()))))
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{duration:g}s", "--timeout", "10s", "--latency"]
    for header in target.headers:
        cmd += ["-H", header]
    proc = subprocess.run(
        [*cmd, "-s", str(script), target.url],
        capture_output=True,
        text=True,
        check=True,
        timeout=duration + 60,
    )
    return parse_wrk(proc.stdout)


CPU_GROUPS = ("analytics", "postgres")


async def backends_started(url: str) -> int:
    """PostgreSQL sessions started since the statistics were reset (a pool that opens
    connections under load shows here: each is a process forked, its caches cold)."""
    db = Database(url, pool_size=1)
    try:
        async with db.engine.connect() as conn:
            sql = "SELECT sum(sessions) FROM pg_stat_database"
            return int((await conn.execute(text(sql))).scalar_one())
    finally:
        await db.dispose()


def cpu_line(spent: dict[str, float], load: Load, duration: float, opened: int) -> str:
    """Each process group's CPU per answer, and the share of the machine's cores used: the
    physical limit (2 cores x the load's duration) against what the answers took."""
    answers = max(load.rps * duration, 1)
    cores = os.cpu_count() or 1
    per = ", ".join(f"{name} {1000 * s / answers:.2f}" for name, s in spent.items())
    busy = sum(spent.values()) / (cores * duration)
    return (
        f"    CPU ms per answer: {per}; {busy:.0%} of {cores} cores; "
        f"{opened} PostgreSQL sessions opened"
    )


def drain(target: Target) -> None:
    """Wait out what a previous load left queued in the service (clients gone, work not)."""
    header = dict([target.headers[0].split(": ", 1)])
    with httpx.Client(timeout=60) as client:
        for _ in range(60):
            began = time.perf_counter()
            client.get(target.url + "&drain=" + str(time.time()), headers=header)
            if time.perf_counter() - began < 0.5:
                return


def sign_up(gateway: str) -> tuple[str, str]:
    """A user and their workspace; the bearer header carries the owner role."""
    user = {"email": "bench@example.com", "password": "a long bench passphrase", "name": "Bench"}
    with httpx.Client(base_url=gateway, timeout=30) as client:
        client.post("/api/v1/auth/register", json=user).raise_for_status()
        tokens = client.post("/api/v1/auth/login", json=user).json()
        bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
        ws = client.post("/api/v1/workspaces", json={"name": "Bench"}, headers=bearer)
        ws.raise_for_status()
        tokens = client.post(
            "/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
        ).json()
        return str(ws.json()["id"]), f"Authorization: Bearer {tokens['access_token']}"


async def seed(url: str, workspace_id: str, accounts: int, posts: int, snapshots: int) -> str:
    """Returns one account's id. Snapshots are spread evenly over the posts and
    ``HISTORY_DAYS``."""
    db = Database(url, pool_size=1)
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    start = now - timedelta(days=HISTORY_DAYS)
    # a few more than asked: the newest posts have had fewer hours to be fetched in
    per_post = snapshots // (accounts * posts) + 3
    params = {
        "ws": workspace_id,
        "accounts": accounts,
        "posts": posts,
        "per_post": per_post,
        "start": start,
        "now": now,
        "platforms": list(PLATFORMS),
        "history": timedelta(days=HISTORY_DAYS),
        "days": HISTORY_DAYS,
    }
    statements = [
        # the workspace's projection (its time zone) may not have arrived yet
        """INSERT INTO analytics.workspaces (id, timezone, updated_at)
           VALUES (CAST(:ws AS uuid), 'Europe/Berlin', now()) ON CONFLICT (id) DO NOTHING""",
        """INSERT INTO analytics.accounts (id, workspace_id, platform, platform_user_id,
               username, status, tracking, connected_at, last_synced_at, updated_at)
           SELECT md5('a' || a)::uuid, CAST(:ws AS uuid),
                  (CAST(:platforms AS text[]))[1 + a % 6], 'u' || a, 'bench' || a, 'active',
                  true, CAST(:start AS timestamptz), CAST(:now AS timestamptz), now()
           FROM generate_series(1, :accounts) a""",
        """INSERT INTO analytics.tracked_posts (id, account_id, workspace_id, platform,
               platform_post_id, published_at, source, status)
           SELECT md5('p' || a || '-' || p)::uuid, md5('a' || a)::uuid, CAST(:ws AS uuid),
                  (CAST(:platforms AS text[]))[1 + a % 6], 'p' || p,
                  CAST(:start AS timestamptz) + (p * CAST(:history AS interval)) / :posts,
                  'backfill', 'active'
           FROM generate_series(1, :accounts) a, generate_series(1, :posts) p""",
        """INSERT INTO analytics.post_snapshots (tracked_post_id, fetched_at, account_id, views,
               impressions, reach, likes, comments, shares, saves, raw)
           SELECT t.id, t.published_at + s * interval '1 hour', t.account_id, 100 * s,
                  120 * s, NULL, 7 * s, s, s / 2, NULL, '{}'::jsonb
           FROM analytics.tracked_posts t, generate_series(1, :per_post) s
           WHERE t.workspace_id = CAST(:ws AS uuid)
             AND t.published_at + s * interval '1 hour' < CAST(:now AS timestamptz)""",
        """INSERT INTO analytics.post_latest (tracked_post_id, account_id, workspace_id,
               fetched_at, views, impressions, likes, comments, shares)
           SELECT DISTINCT ON (s.tracked_post_id) s.tracked_post_id, s.account_id,
                  CAST(:ws AS uuid), s.fetched_at, s.views, s.impressions, s.likes,
                  s.comments, s.shares
           FROM analytics.post_snapshots s
           ORDER BY s.tracked_post_id, s.fetched_at DESC""",
        # what the ingester keeps beside the latest values: the posts' totals per account and
        # UTC day of publication (the dashboard reads them for whole days)
        """INSERT INTO analytics.post_totals_daily (workspace_id, day, account_id,
               posts_published, views, impressions, likes, comments, shares)
           SELECT t.workspace_id, (t.published_at AT TIME ZONE 'UTC')::date, t.account_id,
                  count(*), sum(l.views), sum(l.impressions), sum(l.likes), sum(l.comments),
                  sum(l.shares)
           FROM analytics.tracked_posts t
           LEFT JOIN analytics.post_latest l ON l.tracked_post_id = t.id
           WHERE t.workspace_id = CAST(:ws AS uuid)
           GROUP BY 1, 2, 3""",
        """UPDATE analytics.post_totals_daily d
           SET best_engagements = b.engagements, best_post_id = b.id
           FROM (SELECT DISTINCT ON (t.account_id, (t.published_at AT TIME ZONE 'UTC')::date)
                        t.account_id, (t.published_at AT TIME ZONE 'UTC')::date AS day, t.id,
                        l.likes + l.comments + l.shares AS engagements
                 FROM analytics.tracked_posts t
                 JOIN analytics.post_latest l ON l.tracked_post_id = t.id
                 WHERE t.workspace_id = CAST(:ws AS uuid)
                 ORDER BY 1, 2, 4 DESC, t.id DESC) b
           WHERE d.workspace_id = CAST(:ws AS uuid) AND d.account_id = b.account_id
             AND d.day = b.day""",
        """INSERT INTO analytics.account_snapshots (account_id, fetched_at, followers, raw)
           SELECT md5('a' || a)::uuid, CAST(:start AS timestamptz) + h * interval '1 hour',
                  1000 + a * 10 + h, '{}'
           FROM generate_series(1, :accounts) a, generate_series(0, 24 * :days - 1) h""",
        """INSERT INTO analytics.account_daily (account_id, day, workspace_id, fetched_at,
               followers)
           SELECT DISTINCT ON (account_id, (fetched_at AT TIME ZONE 'UTC')::date) account_id,
                  (fetched_at AT TIME ZONE 'UTC')::date, CAST(:ws AS uuid), fetched_at,
                  followers
           FROM analytics.account_snapshots
           ORDER BY account_id, (fetched_at AT TIME ZONE 'UTC')::date, fetched_at DESC""",
        """INSERT INTO analytics.account_latest (account_id, workspace_id, fetched_at,
               followers)
           SELECT DISTINCT ON (account_id) account_id, CAST(:ws AS uuid), fetched_at, followers
           FROM analytics.account_snapshots ORDER BY account_id, fetched_at DESC""",
    ]
    try:
        async with db.transaction() as session:
            repo = PartitionRepository(session)
            for day in range(HISTORY_DAYS + 2):
                for table in SNAPSHOT_TABLES:
                    await repo.create(table, (start + timedelta(days=day)).date())
        for sql in statements:
            began = time.perf_counter()
            async with db.transaction() as session:
                result = cast(CursorResult[Any], await session.execute(text(sql), params))
            print(f"  {result.rowcount:>9,} rows  {time.perf_counter() - began:6.1f} s  "
                  f"{' '.join(sql.split()[:3])} {sql.split()[2]}")  # fmt: skip
        async with db.engine.connect() as conn:
            await conn.execute(text("COMMIT"))
            # Vacuumed as autovacuum leaves a table in service: its visibility map set, no
            # autovacuum of the million new rows running beside the loads (its CPU would
            # count as the answers').
            await conn.execute(text("VACUUM (ANALYZE)"))
            account = (await conn.execute(text("SELECT md5('a1')::uuid"))).scalar_one()
            count = (
                await conn.execute(text("SELECT count(*) FROM analytics.post_snapshots"))
            ).scalar_one()
        print(f"  post snapshots: {count:,}")
        return str(account)
    finally:
        await db.dispose()


async def time_queries(url: str, workspace_id: str, account_id: str, rounds: int = 5) -> None:
    """Each read's time alone, in this process (no HTTP, no concurrency): where a slow route's
    time goes, query by query."""
    db = Database(url, pool_size=1)
    now = datetime.now(UTC)
    period = resolve(None, None, now=now, default=timedelta(days=30))
    timings: dict[str, list[float]] = {}
    principal = Principal(user_id=uuid.uuid4(), roles={uuid.UUID(workspace_id): "owner"})
    original = QueryRepository._rows

    async def timed(self: QueryRepository, sql: str, params: dict[str, Any]) -> Any:
        began = time.perf_counter()
        try:
            return await original(self, sql, params)
        finally:
            key = " ".join(sql.split()[:8])[:70]
            timings.setdefault(key, []).append((time.perf_counter() - began) * 1000)

    QueryRepository._rows = timed  # type: ignore[method-assign]
    try:
        for _ in range(rounds):
            async with db.transaction() as session:
                repo = QueryRepository(session, cutoff=retention_cutoff(now, 90))
                began = time.perf_counter()
                await service.dashboard(repo, principal, uuid.UUID(workspace_id), period, top=5)
                timings.setdefault("= dashboard", []).append((time.perf_counter() - began) * 1000)
                account = await repo.get(principal, uuid.UUID(account_id))
                began = time.perf_counter()
                await service.timeseries(
                    repo, account, "followers", Interval.DAY, period, max_buckets=5000
                )
                timings.setdefault("= timeseries day", []).append(
                    (time.perf_counter() - began) * 1000
                )
    finally:
        QueryRepository._rows = original  # type: ignore[method-assign]
        await db.dispose()
    print("\nalone, median of 5 (ms):")
    for key, values in timings.items():
        print(f"  {statistics.median(values):7.1f}  {key}")


def what_the_goal_needs(load: Load, goal_ms: float, connections: int) -> str:
    """A missed p99 in rates: at the load's own spread (p99 over p50), the p50 the goal needs,
    and by Little's law (p50 about connections over rate, the loop being closed) the rate and
    the CPU per answer on this machine's cores that give it."""
    spread = load.p99_ms / load.p50_ms
    rate = connections / (goal_ms / spread) * 1000
    cores = os.cpu_count() or 1
    return (
        f"    at its p99/p50 of {spread:.1f}x, p99 <= {goal_ms:.0f} ms needs p50 <= "
        f"{goal_ms / spread:.0f} ms: about {rate:,.0f} answers/s at {connections} connections, "
        f"{cores * 1000 / rate:.1f} ms of the {cores} cores per answer"
    )


def main(
    accounts: int,
    posts: int,
    snapshots: int,
    duration: float,
    connections: int,
    workers: str,
    profile: bool,
) -> None:
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (Debian: apt-get install wrk)")
    os.environ.setdefault("ANALYTICS_WORKERS", workers)
    print(f"analytics workers: {os.environ['ANALYTICS_WORKERS']}")
    with running_stack(bench_environment) as (supervisor, tmp):
        gateway = f"http://127.0.0.1:{supervisor.ports['gateway']}"
        workspace_id, bearer = sign_up(gateway)
        spec = next(s for s in SERVICES if s.name == "analytics")
        url = supervisor.service_env(spec)["ANALYTICS_DATABASE_URL"]
        print(f"seeding {accounts} accounts x {posts} posts, ~{snapshots:,} snapshots")
        account = asyncio.run(seed(url, workspace_id, accounts, posts, snapshots))
        asyncio.run(time_queries(url, workspace_id, account))
        base = f"http://127.0.0.1:{supervisor.ports['analytics']}/api/v1/analytics"
        now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)

        def series(interval: str, days: int) -> str:
            query = {
                "metric": "followers",
                "interval": interval,
                "from": (now - timedelta(days=days)).isoformat(),
                "to": now.isoformat(),
            }
            return f"{base}/accounts/{account}/timeseries?{urlencode(query)}"

        targets = [
            Target("dashboard 30 d", f"{base}/dashboard?workspace_id={workspace_id}",
                   (bearer,)),
            Target("timeseries day x 30", series("day", 30), (bearer,)),
            Target("timeseries hour x 7 d", series("hour", 7), (bearer,)),
        ]  # fmt: skip
        with httpx.Client(timeout=30) as client:
            for t in targets:
                r = client.get(t.url, headers=dict([bearer.split(": ", 1)]))
                r.raise_for_status()
                print(f"  {t.name}: {len(r.content):,} bytes")
        script = Path(tmp) / "uncached.lua"
        starts = [now - timedelta(days=30), now - timedelta(days=30), now - timedelta(days=7)]
        # Warm-up, at the loads' own concurrency: each worker's pool holds as many
        # connections as the loads need (each a PostgreSQL backend started, its caches
        # filled, each statement prepared and its plan settled), as it would after a while
        # in service; left cold, the first load pays for opening them. (Periods of their
        # own, three days earlier: none of the loads' answers is in the answer caches.)
        for t, start in zip(targets, starts, strict=True):
            early = start - timedelta(days=3)
            wrk_uncached(t, duration=5, connections=connections, script=script, start=early)
        meter = CpuMeter({k: v for k, v in process_groups(supervisor).items() if k in CPU_GROUPS})
        print(f"\nbefore the loads: {load_average()}")
        goals = f"{GOAL_P99_MS:.0f} ms repeated, {GOAL_FRESH_P99_MS:.0f} ms computed"
        print(f"\n{'target':36} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8}  p99 <= {goals}")
        for t, start in zip(targets, starts, strict=True):
            for kind in ("repeated (answer cache)", "each new (computed)"):
                drain(t)
                sessions = asyncio.run(backends_started(url))
                meter.mark()
                wrk_before = reaped_children_seconds()
                if kind.startswith("repeated"):
                    load = wrk(t, duration=duration, connections=connections)
                else:
                    load = wrk_uncached(
                        t,
                        duration=duration,
                        connections=connections,
                        script=script,
                        start=start,
                    )
                spent = meter.since_mark() | {"wrk": reaped_children_seconds() - wrk_before}
                # less the first reading's own connection (counted once it closed)
                opened = asyncio.run(backends_started(url)) - sessions - 1
                goal = GOAL_P99_MS if kind.startswith("repeated") else GOAL_FRESH_P99_MS
                ok = "ok" if load.p99_ms <= goal else "missed"
                name = f"{t.name}, {kind}"
                print(
                    f"{name:36} {load.rps:8,.0f} {load.p50_ms:8.1f} {load.p99_ms:8.1f}  {ok}"
                    + (f" ({load.failures} failed)" if load.failures else "")
                )
                print(cpu_line(spent, load, duration, opened))
                if ok == "missed":
                    print(what_the_goal_needs(load, goal, connections))
        print(f"after the loads: {load_average()}")
        if profile:
            profile_targets(
                supervisor,
                targets,
                duration=duration,
                connections=connections,
                out=Path(tmp),
                services={t.name: "analytics" for t in targets},
            )
            # and the computed answers of each target
            pid = next(r.proc.pid for r in supervisor.running if r.spec.name == "analytics")
            for t, start in zip(targets, starts, strict=True):
                profiler = Profiler(pid, tmp / f"computed-{len(t.name)}.raw")
                load = wrk_uncached(
                    t, duration=duration, connections=connections, script=script, start=start
                )
                print(f"\n{t.name}, each new (computed): {load.rps:,.0f}/s while sampled:")
                summarize_profile(profiler.stop(), ours=("analytics/", "socialseed/"))


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", type=int, default=50)
    parser.add_argument("--posts", type=int, default=400, help="per account")
    parser.add_argument("--snapshots", type=int, default=1_000_000)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--workers", default="auto", help="analytics processes: N or auto")
    parser.add_argument("--profile", action="store_true", help="py-spy the analytics service")
    args = parser.parse_args()
    main(
        args.accounts,
        args.posts,
        args.snapshots,
        args.duration,
        args.connections,
        args.workers,
        args.profile,
    )
