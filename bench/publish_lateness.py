"""Publishing lateness: how late the publisher publishes when 10,000 targets fall due in a minute.

Starts the local stack the way ``socialseed up`` does (as ``bench/request_path.py`` does:
PostgreSQL, Kafka, the sandbox, auth, accounts, the publisher and the gateway as their own
processes, in a temp dir on free ports, rate limits out of the way), connects 1,000 accounts
(X, Facebook pages, LinkedIn) through the real OAuth flow at the gateway (start, consent at the
sandbox, callback, complete; 50 at a time), makes the sandbox answer every platform call 50 ms
late (a ``latency_ms`` fault on ``*``), and composes 200 posts of 50 targets each through the
API (10,000 targets, each account in 10 of them; a post takes at most 50 accounts). Two
scenarios, each with its own posts:

- ``spread``: the 200 posts fall due evenly across one minute (167 targets/s). The lateness
  target: p99 <= 1 s.
- ``burst``: all 200 fall due at the same instant: how fast 10,000 due targets drain. The
  throughput target: >= 500 posts/s.

Lateness is the sandbox ledger's ``created_ts`` minus the target's due time. A duplicate is the
same account and text in the ledger twice; a loss is a target never in the ledger. CPU is each
process's user + system time over the scenario (psutil; a service with its worker processes,
PostgreSQL with its backends, Kafka, and this client). py-spy samples the publisher during each
scenario; the functions holding most samples are printed (``--no-profile`` to measure without
the sampler). Figures, not assertions: the machine is shared and noisy.

    uv run python bench/publish_lateness.py [--runs 1] [--scenarios spread,burst] [--no-profile]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import shutil
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import psutil
from profiling import Profiler, summarize_profile
from request_path import UNLIMITED, free_ports_for_the_stack

from socialseed.cli import Supervisor
from socialseed.stack import DATABASE, SERVICES

# 334 X + 334 Facebook pages (two per consent) + 333 LinkedIn members, trimmed to 1,000.
ACCOUNTS = 1_000
OURS = ("publisher/", "socialseed/")  # our code, in the profiles
PLATFORMS = {"x": 1, "facebook": 2, "linkedin": 1}  # accounts one consent grants
POSTS, TARGETS_PER_POST = 200, 50
SPREAD_SECONDS = 60.0
LATENCY_MS = 50
UNFINISHED = ("scheduled", "publishing", "waiting", "in_doubt")


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


@dataclass
class Result:
    scenario: str
    targets: int
    lateness: list[float]
    published_per_s: float
    duplicates: int
    lost: int
    unfinished: dict[str, int]
    cpu: dict[str, float]
    wall: float
    create_s: float


# The stack ---------------------------------------------------------------------------------


def bench_environment(supervisor: Supervisor) -> None:
    """What the children inherit: the gateway's limits lifted (this client is one IP and one
    user), the sandbox's app-wide X cap and Facebook's per-minute page cap lifted (they would
    measure the platforms' quotas, not the publisher), and the gateway as the registered
    OAuth callback host."""
    gateway = f"http://127.0.0.1:{supervisor.ports['gateway']}"
    os.environ |= {
        "GATEWAY_LIMIT_PER_IP": UNLIMITED,
        "GATEWAY_LIMIT_PER_USER": UNLIMITED,
        "GATEWAY_LIMIT_LOGIN_PER_IP": UNLIMITED,
        "GATEWAY_MAX_IN_FLIGHT_PER_CLIENT": "100000",
        "SANDBOX_REDIRECT_HOSTS": f'["{gateway}"]',
        "SANDBOX_X_TWEETS_PER_DAY_APP": "100000000",
        "SANDBOX_FACEBOOK_POSTS_PER_MINUTE": "100000000",
    }


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
    callback = (await api.get(consent.headers["location"])).raise_for_status()
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
    api: httpx.AsyncClient, headers: dict[str, str], ws: str
) -> list[Account]:
    """1,000 accounts, a third per platform, interleaved so every post mixes platforms."""
    share = -(-ACCOUNTS // len(PLATFORMS))
    jobs = [
        lambda p=platform, n=n: connect(api, headers, ws, p, f"b{p[0]}{n:04d}")
        for platform, per_consent in PLATFORMS.items()
        for n in range(-(-share // per_consent))
    ]
    granted = [a for batch in await bounded(jobs, 50) for a in batch]
    by_platform = [[a for a in granted if a.platform == p][:share] for p in PLATFORMS]
    interleaved = [a for row in zip(*by_platform, strict=False) for a in row]
    return interleaved[:ACCOUNTS]


async def latency_fault(sandbox: httpx.AsyncClient) -> None:
    r = await sandbox.post("/_sandbox/faults", json={"platform": "*", "latency_ms": LATENCY_MS})
    r.raise_for_status()


# The posts ---------------------------------------------------------------------------------


def schedule(scenario: str, start: float) -> list[float]:
    """Each post's due time: evenly across the minute, or all at once."""
    if scenario == "burst":
        return [start] * POSTS
    return [start + i * SPREAD_SECONDS / POSTS for i in range(POSTS)]


async def create_posts(
    api: httpx.AsyncClient,
    headers: dict[str, str],
    ws: str,
    accounts: list[Account],
    dues: list[float],
    tag: str,
) -> tuple[list[str], list[Planned]]:
    """200 posts through the API, 32 at a time; post ``i`` targets the ``i % 20``-th 50."""
    chunks = len(accounts) // TARGETS_PER_POST
    planned: list[Planned] = []

    async def one(i: int) -> str:
        chunk = accounts[(i % chunks) * TARGETS_PER_POST :][:TARGETS_PER_POST]
        text = f"lateness bench {tag} post {i}"
        body = {
            "workspace_id": ws,
            "text": text,
            "targets": [{"account_id": a.id} for a in chunk],
            "scheduled_at": datetime.fromtimestamp(dues[i], UTC).isoformat(),
        }
        r = await api.post("/api/v1/posts", json=body, headers=headers)
        assert r.status_code == 201, r.text
        planned.extend(Planned(a.platform, a.platform_user_id, text, dues[i]) for a in chunk)
        return str(r.json()["id"])

    post_ids = await bounded([lambda i=i: one(i) for i in range(POSTS)], 32)
    return post_ids, planned


# Watching the run --------------------------------------------------------------------------


class CpuMeter:
    """User + system seconds of each process group, from one mark to the next."""

    def __init__(self, groups: dict[str, list[int]]) -> None:
        self.groups = groups
        self.start: dict[str, float] = {}

    def _seconds(self, roots: list[int]) -> float:
        total = 0.0
        for pid in roots:
            try:
                root = psutil.Process(pid)
                # This client started the services: its children are theirs, not its own.
                family = root.children(recursive=True) if pid != os.getpid() else []
                for proc in (root, *family):
                    times = proc.cpu_times()
                    total += times.user + times.system
            except psutil.NoSuchProcess:
                continue
        return total

    def mark(self) -> None:
        self.start = {name: self._seconds(pids) for name, pids in self.groups.items()}

    def since_mark(self) -> dict[str, float]:
        return {n: self._seconds(p) - self.start[n] for n, p in self.groups.items()}


def process_groups(supervisor: Supervisor, data: Path) -> dict[str, list[int]]:
    groups = {r.spec.name: [r.proc.pid] for r in supervisor.running}
    groups |= {"postgres": [], "kafka": []}
    for proc in psutil.process_iter(["pid", "cmdline"]):
        cmdline = " ".join(proc.info["cmdline"] or [])
        if str(data) not in cmdline:
            continue
        if "postgres" in cmdline and "-D" in cmdline:
            groups["postgres"].append(proc.info["pid"])
        elif "java" in cmdline and "kafka" in cmdline:
            groups["kafka"].append(proc.info["pid"])
    groups["bench client"] = [os.getpid()]
    return groups


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


def measure(planned: list[Planned], entries: list[dict[str, Any]]) -> tuple[list[float], int, int]:
    """Lateness of each published target (its first copy), duplicates, losses."""
    created: dict[tuple[str, str, str], list[float]] = collections.defaultdict(list)
    for e in entries:
        created[(e["platform"], e["account_id"], e["text"])].append(float(e["created_ts"]))
    lateness, lost = [], 0
    for t in planned:
        copies = created.get((t.platform, t.platform_user_id, t.text))
        if copies:
            lateness.append(min(copies) - t.due)
        else:
            lost += 1
    wanted = {(t.platform, t.platform_user_id, t.text) for t in planned}
    duplicates = sum(len(v) - 1 for k, v in created.items() if k in wanted)
    return lateness, duplicates, lost


# One scenario ------------------------------------------------------------------------------


@dataclass
class Bench:
    api: httpx.AsyncClient
    sandbox: httpx.AsyncClient
    db: asyncpg.Connection
    headers: dict[str, str]
    ws: str
    accounts: list[Account]
    cpu: CpuMeter
    publisher_pid: int
    data: Path
    profile: bool
    lead: float
    timeout: float


async def scenario(bench: Bench, name: str, run: int) -> Result:
    tag = f"{name}-{run}-{uuid.uuid4().hex[:6]}"
    # A scenario starts on a drained publisher: what an earlier one left is not counted here.
    leftover = await wait_settled(bench.db, None, time.time() + bench.timeout)
    if any(leftover.get(s) for s in UNFINISHED):
        print(f"  warning: earlier targets still open: {leftover}")
    start = time.time() + bench.lead
    dues = schedule(name, start)
    began = time.monotonic()
    composing = (
        Profiler(bench.publisher_pid, bench.data / f"{tag}-compose.raw") if bench.profile else None
    )
    try:
        post_ids, planned = await create_posts(
            bench.api, bench.headers, bench.ws, bench.accounts, dues, tag
        )
    finally:
        compose_profile = composing.stop() if composing else None
    create_s = time.monotonic() - began
    if compose_profile is not None:
        print(f"  publisher profile while composing ({compose_profile}):")
        summarize_profile(compose_profile, ours=OURS)
    if time.time() > start:
        print(f"  warning: composing took {create_s:.0f}s, past the first due time")
    await asyncio.sleep(max(0.0, start - time.time() - 2))
    profiler = Profiler(bench.publisher_pid, bench.data / f"{tag}.raw") if bench.profile else None
    bench.cpu.mark()
    t0 = time.monotonic()
    unfinished = await wait_settled(bench.db, post_ids, max(dues) + bench.timeout)
    wall = time.monotonic() - t0
    cpu = bench.cpu.since_mark()
    profile = profiler.stop() if profiler else None
    await asyncio.sleep(1.0)  # a late duplicate would land now
    r = await bench.sandbox.get("/_sandbox/ledger", params={"include_seeded": "false"}, timeout=120)
    entries = [e for e in r.raise_for_status().json()["entries"] if tag in (e["text"] or "")]
    lateness, duplicates, lost = measure(planned, entries)
    last = max((float(e["created_ts"]) for e in entries), default=start)
    result = Result(
        scenario=name,
        targets=len(planned),
        lateness=lateness,
        published_per_s=len(lateness) / max(last - min(dues), 1e-9),
        duplicates=duplicates,
        lost=lost,
        unfinished={s: n for s, n in unfinished.items() if s != "published"},
        cpu=cpu,
        wall=wall,
        create_s=create_s,
    )
    print_result(result)
    if profile is not None:
        print(f"  publisher profile ({profile}):")
        summarize_profile(profile, ours=OURS)
    return result


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")  # nothing published
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def print_result(r: Result) -> None:
    late = r.lateness
    print(
        f"{r.scenario}: {r.targets} targets composed in {r.create_s:.1f}s; published "
        f"{len(late)}; lateness p50 {percentile(late, 0.5):.3f} s, p99 "
        f"{percentile(late, 0.99):.3f} s, max {max(late, default=float('nan')):.3f} s; "
        f"{r.published_per_s:.0f} posts/s; duplicates {r.duplicates}; lost {r.lost}"
        + (f"; not published: {r.unfinished}" if r.unfinished else "")
    )
    cpu = ", ".join(f"{name} {s:.1f}s" for name, s in sorted(r.cpu.items(), key=lambda kv: -kv[1]))
    print(f"  CPU over {r.wall:.1f}s (2 cores = {2 * r.wall:.0f} core-s): {cpu}")


def report(results: list[Result]) -> None:
    print(f"\nmedians over {len(results) // len({r.scenario for r in results})} run(s):")
    print(f"{'scenario':<8} {'p50 s':>7} {'p99 s':>7} {'max s':>7} {'posts/s':>8} dup lost  goal")
    for name in dict.fromkeys(r.scenario for r in results):
        runs = [r for r in results if r.scenario == name]
        p50 = statistics.median(percentile(r.lateness, 0.5) for r in runs)
        p99 = statistics.median(percentile(r.lateness, 0.99) for r in runs)
        top = statistics.median(max(r.lateness, default=float("nan")) for r in runs)
        rate = statistics.median(r.published_per_s for r in runs)
        dup, lost = sum(r.duplicates for r in runs), sum(r.lost for r in runs)
        goal = (
            f"p99 <= 1 s: {'ok' if p99 <= 1 else 'MISSED'}"
            if name == "spread"
            else f">= 500 posts/s: {'ok' if rate >= 500 else 'MISSED'}"
        )
        clean = "ok" if dup == 0 and lost == 0 else "MISSED"
        print(
            f"{name:<8} {p50:>7.3f} {p99:>7.3f} {top:>7.3f} {rate:>8.0f} {dup:>3} {lost:>4}"
            f"  {goal}; 0 dup/0 lost: {clean}"
        )


async def drive(supervisor: Supervisor, data: Path, args: argparse.Namespace) -> None:
    gateway = f"http://127.0.0.1:{supervisor.ports['gateway']}"
    sandbox_url = f"http://127.0.0.1:{supervisor.ports['sandbox']}"
    publisher = next(s for s in SERVICES if s.name == "publisher")
    db_url = publisher.database_url("127.0.0.1", supervisor.pg.port, DATABASE)
    limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
    async with (
        httpx.AsyncClient(base_url=gateway, timeout=60, limits=limits) as api,
        httpx.AsyncClient(base_url=sandbox_url, timeout=60) as sandbox,
    ):
        headers, ws = await signed_in(api)
        began = time.monotonic()
        accounts = await connect_accounts(api, headers, ws)
        print(f"connected {len(accounts)} accounts in {time.monotonic() - began:.1f}s", flush=True)
        await latency_fault(sandbox)
        db = await asyncpg.connect(db_url.replace("postgresql+asyncpg", "postgresql"))
        bench = Bench(
            api=api,
            sandbox=sandbox,
            db=db,
            headers=headers,
            ws=ws,
            accounts=accounts,
            cpu=CpuMeter(process_groups(supervisor, data)),
            publisher_pid=next(r.proc.pid for r in supervisor.running if r.spec is publisher),
            data=data,
            profile=args.profile,
            lead=args.lead,
            timeout=args.timeout,
        )
        results = []
        try:
            for run in range(args.runs):
                for name in args.scenarios.split(","):
                    print(f"\nrun {run + 1}, {name}:", flush=True)
                    results.append(await scenario(bench, name, run))
        finally:
            await db.close()
        report(results)


def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        free_ports_for_the_stack()
        supervisor = Supervisor(Path(tmp))
        bench_environment(supervisor)
        try:
            supervisor.up()
            asyncio.run(drive(supervisor, Path(tmp), args))
        finally:
            supervisor.down()
            if args.keep:
                shutil.copytree(tmp, args.keep, dirs_exist_ok=True, ignore=_bulky)
                print(f"logs and profiles kept in {args.keep}")


def _bulky(directory: str, names: list[str]) -> list[str]:
    return [n for n in names if n in ("pg", "kafka", "auth")]


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--scenarios", default="spread,burst")
    parser.add_argument("--no-profile", dest="profile", action="store_false")
    parser.add_argument("--keep", type=Path, help="copy the logs and raw profiles here")
    parser.add_argument(
        "--lead", type=float, default=45.0, help="seconds from composing to the first due time"
    )
    parser.add_argument(
        "--timeout", type=float, default=180.0, help="seconds after the last due time to give up"
    )
    main(parser.parse_args())
