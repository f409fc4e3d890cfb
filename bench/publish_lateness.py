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
        [--targets 10000] [--accounts 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import os
import statistics
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx
import psutil
from profiling import CpuMeter, Profiler, process_groups, summarize_profile
from pydantic import SecretStr
from request_path import running_stack
from stackbench import (
    UNFINISHED,
    Account,
    Key,
    PatientSupervisor,
    Planned,
    bench_environment,
    bounded,
    connect_accounts,
    duplicates,
    ledger,
    publisher_dsn,
    signed_in,
    wait_analytics_settled,
    wait_settled,
)

from socialseed.cli import Supervisor
from socialseed.clients import http_client
from socialseed.platforms import Platform, build_providers
from socialseed.platforms.base import PlatformError, PlatformPost, PlatformsConfig
from socialseed.platforms.parsing import utcnow
from socialseed.stack import SERVICES
from socialseed.vault import TokenVault

# 334 X + 334 Facebook pages (two per consent) + 333 LinkedIn members, trimmed to 1,000.
ACCOUNTS = 1_000
OURS = ("publisher/", "socialseed/")  # our code, in the profiles
POSTS, TARGETS_PER_POST = 200, 50
SPREAD_SECONDS = 60.0
LATENCY_MS = 50
CEILING_CONCURRENCY = 128


@dataclass
class Result:
    scenario: str
    targets: int
    lateness: list[float]
    published_per_s: float
    duplicates: int
    lost: int
    unfinished: int  # still the dispatcher's (publishing, waiting, ...) when the wait ended
    statuses: dict[str, int]
    cpu: dict[str, float]
    wall: float
    create_s: float
    load: tuple[float, float, float]
    ceiling: Ceiling | None = None


@dataclass
class Ceiling:
    """The sandbox's own rate for the same calls, made straight from this process."""

    calls: int
    per_s: float
    sandbox_cpu: float
    failed: int


async def latency_fault(sandbox: httpx.AsyncClient) -> None:
    r = await sandbox.post("/_sandbox/faults", json={"platform": "*", "latency_ms": LATENCY_MS})
    r.raise_for_status()


# The posts ---------------------------------------------------------------------------------


def schedule(scenario: str, start: float, posts: int = POSTS) -> list[float]:
    """Each post's due time: evenly across the minute, or all at once."""
    if scenario == "burst":
        return [start] * posts
    return [start + i * SPREAD_SECONDS / posts for i in range(posts)]


async def create_posts(
    api: httpx.AsyncClient,
    headers: dict[str, str],
    ws: str,
    accounts: list[Account],
    dues: list[float],
    tag: str,
) -> tuple[list[str], list[Planned]]:
    """A post per due time through the API, 32 at a time; post ``i`` targets the
    ``i % (accounts / 50)``-th 50 accounts."""
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

    post_ids = await bounded([functools.partial(one, i) for i in range(len(dues))], 32)
    return post_ids, planned


# Watching the run --------------------------------------------------------------------------


def measure(
    planned: list[Planned], created: dict[Key, list[float]], open_keys: set[Key]
) -> tuple[list[float], int, int, int]:
    """Lateness of each published target (its first copy), duplicates, losses (not on the
    platform and out of the dispatcher's hands) and unfinished targets (not on the platform,
    still ``publishing``, ``waiting``, ... when the wait ended: late, not lost)."""
    lateness, lost, unfinished = [], 0, 0
    for t in planned:
        copies = created.get(t.key)
        if copies:
            lateness.append(min(copies) - t.due)
        elif t.key in open_keys:
            unfinished += 1
        else:
            lost += 1
    return lateness, duplicates(planned, created), lost, unfinished


def print_lateness_by(
    planned: list[Planned], created: dict[Key, list[float]], first: float
) -> None:
    """Where the tail is: lateness p50/p99 per 10 s of due time, and per platform."""
    windows: dict[int, list[float]] = {}
    platforms: dict[str, list[float]] = {}
    for t in planned:
        copies = created.get(t.key)
        if copies:
            late = min(copies) - t.due
            windows.setdefault(int((t.due - first) // 10), []).append(late)
            platforms.setdefault(t.platform, []).append(late)

    def cell(values: list[float]) -> str:
        q = statistics.quantiles(values, n=100) if len(values) > 1 else values * 99
        return f"{q[49]:.2f}/{q[98]:.2f} s ({len(values)})"

    print("  lateness p50/p99 by due time: " + ", ".join(
        f"{10 * w}-{10 * w + 10} s {cell(v)}" for w, v in sorted(windows.items())
    ))  # fmt: skip
    print("  by platform: " + ", ".join(f"{p} {cell(v)}" for p, v in sorted(platforms.items())))


async def open_targets(bench: Bench, post_ids: list[str]) -> set[Key]:
    """The (platform, account, text) of these posts' targets still in the dispatcher's hands."""
    rows = await bench.db.fetch(
        "SELECT t.account_id, p.text FROM publisher.targets t"
        " JOIN publisher.posts p ON p.id = t.post_id"
        " WHERE t.post_id = ANY($1) AND t.status = ANY($2)",
        [uuid.UUID(p) for p in post_ids],
        list(UNFINISHED),
    )
    by_id = {a.id: a for a in bench.accounts}
    return {
        (by_id[str(r["account_id"])].platform, by_id[str(r["account_id"])].platform_user_id,
         r["text"])
        for r in rows
    }  # fmt: skip


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
    posts: int
    ceiling: bool
    sandbox_pid: int
    accounts_url: str
    sandbox_url: str


async def scenario(bench: Bench, name: str, run: int) -> Result:
    tag = f"{name}-{run}-{uuid.uuid4().hex[:6]}"
    # A scenario starts on a drained publisher: what an earlier one left is not counted here.
    leftover = await wait_settled(bench.db, None, time.time() + bench.timeout)
    if any(leftover.get(s) for s in UNFINISHED):
        print(f"  warning: earlier targets still open: {leftover}")
    start = time.time() + bench.lead
    dues = schedule(name, start, bench.posts)
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
    created = await ledger(bench.sandbox, tag)
    lateness, duplicated, lost, still_open = measure(
        planned, created, await open_targets(bench, post_ids)
    )
    last = max((ts for copies in created.values() for ts in copies), default=start)
    result = Result(
        scenario=name,
        targets=len(planned),
        lateness=lateness,
        published_per_s=len(lateness) / max(last - min(dues), 1e-9),
        duplicates=duplicated,
        lost=lost,
        unfinished=still_open,
        statuses={s: n for s, n in unfinished.items() if s != "published"},
        cpu=cpu,
        wall=wall,
        create_s=create_s,
        load=os.getloadavg(),
    )
    print_result(result)
    print_lateness_by(planned, created, min(dues))
    if bench.ceiling:
        result.ceiling = await sandbox_ceiling(bench, len(planned))
        print_ceiling(result)
    if profile is not None:
        print(f"  publisher profile ({profile}):")
        summarize_profile(profile, ours=OURS)
    return result


async def sandbox_ceiling(bench: Bench, calls: int) -> Ceiling:
    """The same publish calls as the scenario's (the same providers, accounts and latency
    fault), made straight to the sandbox from this process, 128 at a time: how fast the
    sandbox alone takes them, and its CPU per call. At most 2,000 calls (a few per account,
    well inside each platform's per-account caps)."""
    calls = min(calls, 2000)
    run = uuid.uuid4().hex[:8]  # not the scenario's tag: its ledger must not count these
    config = PlatformsConfig(sandbox_url=bench.sandbox_url)
    # The services' own client (socialseed.clients), so the ceiling is the sandbox's.
    async with http_client(60, connections=CEILING_CONCURRENCY) as http:
        providers = build_providers(config, http)
        vault = TokenVault(http, bench.accounts_url, SecretStr("dev-only-publisher"), clock=utcnow)
        accounts = bench.accounts
        tokens = {a.id: (await vault.token(uuid.UUID(a.id))).tokens for a in accounts}
        sandbox = psutil.Process(bench.sandbox_pid)

        failed = 0

        async def one(i: int) -> None:
            nonlocal failed
            a = accounts[i % len(accounts)]
            post = PlatformPost(text=f"ceiling {run} {i}", marker=uuid.uuid4().hex, media=())
            try:
                await providers[Platform(a.platform)].publish(tokens[a.id], post, {})
            except PlatformError:
                failed += 1

        times = sandbox.cpu_times()
        before = times.user + times.system
        t0 = time.monotonic()
        await bounded([functools.partial(one, i) for i in range(calls)], CEILING_CONCURRENCY)
        wall = time.monotonic() - t0
        times = sandbox.cpu_times()
        return Ceiling(calls, calls / wall, times.user + times.system - before, failed)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")  # nothing published
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


# What the publishing goals count: the publisher, and the whole stack it takes to publish.
STACK = ("publisher", "analytics", "postgres", "kafka")


def cpu_ms_per_target(r: Result) -> dict[str, float]:
    published = max(len(r.lateness), 1)
    per = {name: 1000 * s / published for name, s in r.cpu.items()}
    per["stack (publisher+analytics+postgres+kafka)"] = sum(per.get(n, 0.0) for n in STACK)
    return per


def print_result(r: Result) -> None:
    late = r.lateness
    print(
        f"{r.scenario}: {r.targets} targets composed in {r.create_s:.1f}s; published "
        f"{len(late)}; lateness p50 {percentile(late, 0.5):.3f} s, p99 "
        f"{percentile(late, 0.99):.3f} s, max {max(late, default=float('nan')):.3f} s; "
        f"{r.published_per_s:.0f} posts/s; duplicates {r.duplicates}; lost {r.lost}; "
        f"unfinished {r.unfinished}"
        + (f" (still open when the wait ended: {r.statuses})" if r.statuses else "")
    )
    cores = os.cpu_count() or 1
    cpu = ", ".join(f"{name} {s:.1f}s" for name, s in sorted(r.cpu.items(), key=lambda kv: -kv[1]))
    print(
        f"  CPU over {r.wall:.1f}s ({cores} cores = {cores * r.wall:.0f} core-s; load average "
        f"{r.load[0]:.2f} {r.load[1]:.2f} {r.load[2]:.2f}): {cpu}"
    )
    per = cpu_ms_per_target(r)
    print(
        "  CPU ms per published target: "
        + ", ".join(f"{n} {ms:.2f}" for n, ms in sorted(per.items(), key=lambda kv: -kv[1]))
        + " (goals: publisher <= 3, stack <= 10)"
    )


#: The share of the machine's core-seconds above which the cores themselves are the bound.
SATURATED = 0.85


def bound_of(r: Result) -> str:
    """What holds the rate: the cores when the processes measured used nearly all of them
    (then the biggest user is named), else the sandbox when the publisher reached the rate the
    sandbox gave a client of its own (a lower bound of the sandbox's ceiling: one client),
    else the publisher."""
    cores = os.cpu_count() or 1
    used = sum(r.cpu.values())
    if used >= SATURATED * cores * r.wall:
        top, top_s = max(r.cpu.items(), key=lambda kv: kv[1])
        return (
            f"the machine's {cores} cores ({used:.0f} of {cores * r.wall:.0f} core-s used; "
            f"the most by {top}, {top_s:.0f} s)"
        )
    if r.ceiling is not None and r.published_per_s >= 0.8 * r.ceiling.per_s:
        return "the sandbox"
    return "the publisher"


def print_ceiling(r: Result) -> None:
    if r.ceiling is not None:
        c = r.ceiling
        bound = bound_of(r)
        print(
            f"  sandbox ceiling for the same calls (straight from this process, same latency): "
            f"{c.per_s:.0f} posts/s over {c.calls} calls, sandbox CPU "
            f"{1000 * c.sandbox_cpu / max(c.calls, 1):.2f} ms/call, {c.failed} failed; "
            f"the bound on {r.published_per_s:.0f} posts/s: {bound}"
        )


def report(results: list[Result]) -> None:
    print(f"\nmedians over {len(results) // len({r.scenario for r in results})} run(s):")
    print(
        f"{'scenario':<8} {'p50 s':>7} {'p99 s':>7} {'max s':>7} {'posts/s':>8} dup lost unfin"
        f" {'pub ms':>6} {'stack ms':>8} {'ceiling/s':>9}  goal"
    )
    for name in dict.fromkeys(r.scenario for r in results):
        runs = [r for r in results if r.scenario == name]
        p50 = statistics.median(percentile(r.lateness, 0.5) for r in runs)
        p99 = statistics.median(percentile(r.lateness, 0.99) for r in runs)
        top = statistics.median(max(r.lateness, default=float("nan")) for r in runs)
        rate = statistics.median(r.published_per_s for r in runs)
        dup, lost = sum(r.duplicates for r in runs), sum(r.lost for r in runs)
        unfinished = sum(r.unfinished for r in runs)
        pub = statistics.median(cpu_ms_per_target(r)["publisher"] for r in runs)
        stack = statistics.median(
            cpu_ms_per_target(r)["stack (publisher+analytics+postgres+kafka)"] for r in runs
        )
        ceilings = [r.ceiling.per_s for r in runs if r.ceiling is not None]
        ceiling = statistics.median(ceilings) if ceilings else float("nan")
        goal = (
            f"p99 <= 1 s: {'ok' if p99 <= 1 else 'MISSED'}"
            if name == "spread"
            else f">= 500 posts/s: {'ok' if rate >= 500 else 'MISSED'}"
        )
        clean = "ok" if dup == 0 and lost == 0 and unfinished == 0 else "MISSED"
        print(
            f"{name:<8} {p50:>7.3f} {p99:>7.3f} {top:>7.3f} {rate:>8.0f} {dup:>3} {lost:>4}"
            f" {unfinished:>5} {pub:>6.2f} {stack:>8.2f} {ceiling:>9.0f}"
            f"  {goal}; 0 dup/0 lost/0 unfinished: {clean}"
        )
    load = os.getloadavg()
    print(f"load average at the end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


async def drive(
    supervisor: Supervisor, data: Path, args: argparse.Namespace, run: int
) -> list[Result]:
    gateway = f"http://127.0.0.1:{supervisor.ports['gateway']}"
    sandbox_url = f"http://127.0.0.1:{supervisor.ports['sandbox']}"
    publisher = next(s for s in SERVICES if s.name == "publisher")
    # Idle connections dropped before the servers drop them (uvicorn: after 5 s, httpx's own
    # default): a request sent on a connection the server is closing fails with a ReadError.
    limits = httpx.Limits(max_connections=100, max_keepalive_connections=100, keepalive_expiry=2)
    async with (
        httpx.AsyncClient(base_url=gateway, timeout=60, limits=limits) as api,
        httpx.AsyncClient(base_url=sandbox_url, timeout=60) as sandbox,
    ):
        headers, ws = await signed_in(api)
        began = time.monotonic()
        accounts = await connect_accounts(api, headers, ws, args.accounts)
        print(f"connected {len(accounts)} accounts in {time.monotonic() - began:.1f}s", flush=True)
        began = time.monotonic()
        left = await wait_analytics_settled(supervisor, time.time() + 600)
        print(
            f"analytics listed their histories and fetched what it found in "
            f"{time.monotonic() - began:.1f}s (still due: {left})",
            flush=True,
        )
        await latency_fault(sandbox)
        db = await asyncpg.connect(publisher_dsn(supervisor))
        bench = Bench(
            api=api,
            sandbox=sandbox,
            db=db,
            headers=headers,
            ws=ws,
            accounts=accounts,
            cpu=CpuMeter(process_groups(supervisor)),
            publisher_pid=next(r.proc.pid for r in supervisor.running if r.spec is publisher),
            data=data,
            profile=args.profile,
            lead=args.lead,
            timeout=args.timeout,
            posts=max(1, args.targets // TARGETS_PER_POST),
            ceiling=args.ceiling,
            sandbox_pid=next(r.proc.pid for r in supervisor.running if r.spec.name == "sandbox"),
            accounts_url=f"http://127.0.0.1:{supervisor.ports['accounts']}",
            sandbox_url=sandbox_url,
        )
        results = []
        try:
            for name in args.scenarios.split(","):
                print(f"\nrun {run + 1}, {name}:", flush=True)
                results.append(await scenario(bench, name, run))
        finally:
            await db.close()
        return results


def main(args: argparse.Namespace) -> None:
    # Several publisher processes, one per core, unless told otherwise.
    os.environ.setdefault("PUBLISHER_WORKERS", "auto")
    results: list[Result] = []
    # Each run on a stack of its own: a run publishes 20 times from each account, and X's
    # app-wide cap (10,000 publishes a day, kept by the publisher's limits as X keeps it)
    # would hold the next run's X targets back ("waiting") on a stack that remembers it.
    for run in range(args.runs):
        keep = args.keep / f"run-{run + 1}" if args.keep else None
        stack = running_stack(bench_environment, supervisor=PatientSupervisor, keep=keep)
        with stack as (supervisor, tmp):
            results += asyncio.run(drive(supervisor, tmp, args, run))
    report(results)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--scenarios", default="spread,burst")
    parser.add_argument(
        "--targets", type=int, default=POSTS * TARGETS_PER_POST, help="targets per scenario"
    )
    parser.add_argument(
        "--accounts", type=int, default=ACCOUNTS, help="accounts connected (at least 50)"
    )
    parser.add_argument(
        "--no-ceiling",
        dest="ceiling",
        action="store_false",
        help="skip measuring the sandbox's own rate for the same calls",
    )
    parser.add_argument("--no-profile", dest="profile", action="store_false")
    parser.add_argument("--keep", type=Path, help="copy the logs and raw profiles here")
    parser.add_argument(
        "--lead", type=float, default=45.0, help="seconds from composing to the first due time"
    )
    parser.add_argument(
        "--timeout", type=float, default=180.0, help="seconds after the last due time to give up"
    )
    main(parser.parse_args())
