"""Publishing under chaos: 2,000 scheduled posts, each published exactly once while the publisher's
workers are SIGKILLed, Kafka and PostgreSQL restart, and platform answers get lost.

Starts the local stack as ``socialseed up`` does (``stackbench``: every service its own
process, on free ports in a temp dir), the publisher with two worker processes behind its
uvicorn supervisor (which starts a new one when one dies, as a process supervisor would).
Connects ``--accounts`` sandbox accounts (X, Facebook pages, LinkedIn; 300) through the real
OAuth flow and composes 2,000 text posts through the API, one target each, falling due evenly
over ``--spread`` seconds (120). During the run:

- every ``--kill-every`` seconds (5) one publisher worker is SIGKILLed (the one alive longest,
  and only while both have finished starting, so one always serves: on a loaded machine a
  replacement takes longer than 5 s to start, and the kills are that much further apart), from
  the first due time until every target is terminal;
- Kafka is restarted once (stop, start on the same data dir and port) a third into the spread,
  PostgreSQL once two thirds into it;
- 5 % of the publish calls (``POST /2/tweets``, ``*/feed``, ``/rest/posts``) are handled by the
  sandbox and then their connection dropped before the answer (``drop_after_accept`` with
  ``share: 0.05``): the in-doubt publish that the worker must reconcile, never repeat.

It then waits (``--timeout`` seconds after the last due time, 900) until every target is
``published`` or ``failed`` and prints: targets by final status, the failure reasons, the
attempts by outcome, duplicates (the sandbox ledger holding the same account and text twice),
losses (a target ``published`` but not in the ledger), the targets still unfinished when the
wait ended (late, not lost), targets ``failed``
although the platform has the post, the time to drain, and the kills and restarts performed.
Figures, not assertions: the machine is shared and noisy.

    uv run python bench/publish_chaos.py [--posts 2000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import functools
import os
import signal
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import psutil
from request_path import running_stack
from stackbench import (
    UNFINISHED,
    Account,
    PatientSupervisor,
    Planned,
    bench_environment,
    bounded,
    connect_accounts,
    duplicates,
    ledger,
    publisher_dsn,
    signed_in,
)

from socialseed.cli import Running, Supervisor

# The text-only publish call of each platform.
PUBLISH_CALLS = {"x": "/2/tweets", "facebook": "*/feed", "linkedin": "/rest/posts"}

TARGETS = """
SELECT t.id, t.post_id, t.status, t.error, t.error_class, t.attempts
FROM publisher.targets t WHERE t.post_id = ANY($1)
"""
ATTEMPTS = """
SELECT coalesce(a.outcome, '(never ended)') AS outcome, count(*) AS n
FROM publisher.attempts a JOIN publisher.targets t ON t.id = a.target_id
WHERE t.post_id = ANY($1) GROUP BY 1 ORDER BY 2 DESC
"""


@dataclass
class Chaos:
    """What was done to the stack, and when (seconds from the first due time)."""

    supervisor: Supervisor
    t0: float
    kills: list[tuple[float, int]] = field(default_factory=list)
    restarts: list[tuple[float, str, float]] = field(default_factory=list)  # at, what, seconds
    deaths: list[str] = field(default_factory=list)

    @property
    def publisher(self) -> Running:
        return next(r for r in self.supervisor.running if r.spec.name == "publisher")

    def ready_workers(self) -> list[psutil.Process]:
        """The publisher's worker processes that finished starting (uvicorn spawns them and
        each logs its startup with its pid; its resource tracker is not one)."""
        log = self.publisher.log.read_text(errors="replace")
        try:
            children = psutil.Process(self.publisher.proc.pid).children()
            workers = [c for c in children if "spawn_main" in " ".join(c.cmdline())]
        except psutil.Error:
            return []
        return [w for w in workers if f"[{w.pid}] uvicorn.error [-]: Application startup" in log]

    async def kill_workers(self, every: float, done: asyncio.Event) -> None:
        while not done.is_set():
            await asyncio.sleep(every)
            workers = self.ready_workers()
            if len(workers) < 2:
                continue  # the last one killed is still being replaced: one must survive
            victim = min(workers, key=lambda p: p.create_time())
            try:
                victim.send_signal(signal.SIGKILL)
            except psutil.NoSuchProcess:
                continue
            self.kills.append((time.time() - self.t0, victim.pid))

    async def restart(self, at: float, what: str) -> None:
        await asyncio.sleep(max(0.0, at - time.time()))
        server = self.supervisor.kafka if what == "kafka" else self.supervisor.pg
        began = time.time()
        print(f"  {began - self.t0:6.1f}s restarting {what} ...", flush=True)
        await asyncio.to_thread(server.stop)
        await asyncio.to_thread(server.start)
        self.restarts.append((began - self.t0, what, time.time() - began))
        print(f"  {time.time() - self.t0:6.1f}s {what} back", flush=True)

    def dead_services(self) -> list[str]:
        """Services whose process exited (for good: nothing restarts them)."""
        return [r.spec.name for r in self.supervisor.running if r.proc.poll() is not None]


async def create_posts(
    api: httpx.AsyncClient,
    headers: dict[str, str],
    ws: str,
    accounts: list[Account],
    dues: list[float],
    tag: str,
) -> dict[str, Planned]:
    """One post per due time, one target each, round the accounts; 32 composed at a time."""

    async def one(i: int) -> tuple[str, Planned]:
        account = accounts[i % len(accounts)]
        text = f"chaos bench {tag} post {i}"
        body = {
            "workspace_id": ws,
            "text": text,
            "targets": [{"account_id": account.id}],
            "scheduled_at": datetime.fromtimestamp(dues[i], UTC).isoformat(),
        }
        r = await api.post("/api/v1/posts", json=body, headers=headers)
        assert r.status_code == 201, r.text
        return str(r.json()["id"]), Planned(
            account.platform, account.platform_user_id, text, dues[i]
        )

    return dict(await bounded([functools.partial(one, i) for i in range(len(dues))], 32))


async def fetch(dsn: str, query: str, *args: Any) -> list[asyncpg.Record] | None:
    """One query on a fresh connection (the database may be restarting: ``None``)."""
    try:
        conn = await asyncpg.connect(dsn, timeout=5)
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return None
    try:
        return list(await conn.fetch(query, *args))
    except (OSError, asyncpg.PostgresError):
        return None
    finally:
        await conn.close()


async def wait_terminal(dsn: str, post_ids: list[uuid.UUID], chaos: Chaos, until: float) -> float:
    """Until every target is published or failed, the deadline, or the publisher is gone for
    good. Returns when the last became terminal (Unix seconds; the deadline if not all did)."""
    last_print = 0.0
    while time.time() < until:
        rows = await fetch(dsn, TARGETS, post_ids)
        if rows is not None:
            counts = collections.Counter(r["status"] for r in rows)
            if not any(counts[s] for s in UNFINISHED):
                return time.time()
            if time.time() - last_print > 15:
                last_print = time.time()
                print(f"  {time.time() - chaos.t0:6.1f}s {dict(counts)}", flush=True)
        if dead := chaos.dead_services():
            chaos.deaths = dead
            print(f"  services exited for good: {dead}; giving up the wait", flush=True)
            break
        await asyncio.sleep(1.0)
    return time.time()


async def drive(supervisor: Supervisor, args: argparse.Namespace) -> None:
    gateway = f"http://127.0.0.1:{supervisor.ports['gateway']}"
    sandbox_url = f"http://127.0.0.1:{supervisor.ports['sandbox']}"
    limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
    dsn = publisher_dsn(supervisor)
    async with (
        httpx.AsyncClient(base_url=gateway, timeout=60, limits=limits) as api,
        httpx.AsyncClient(base_url=sandbox_url, timeout=60) as sandbox,
    ):
        headers, ws = await signed_in(api)
        began = time.monotonic()
        accounts = await connect_accounts(api, headers, ws, args.accounts)
        print(f"connected {len(accounts)} accounts in {time.monotonic() - began:.1f}s", flush=True)
        for platform, endpoint in PUBLISH_CALLS.items():
            fault = {
                "platform": platform,
                "endpoint": endpoint,
                "method": "POST",
                "drop_after_accept": True,
                "share": args.drop_share,
            }
            (await sandbox.post("/_sandbox/faults", json=fault)).raise_for_status()
        tag = uuid.uuid4().hex[:8]
        t0 = time.time() + args.lead
        dues = [t0 + i * args.spread / args.posts for i in range(args.posts)]
        began = time.monotonic()
        planned = await create_posts(api, headers, ws, accounts, dues, tag)
        print(f"composed {len(planned)} posts in {time.monotonic() - began:.1f}s", flush=True)
        if time.time() > t0:
            print("  warning: composing ran past the first due time")
        await asyncio.sleep(max(0.0, t0 - time.time()))

        chaos = Chaos(supervisor, t0)
        done = asyncio.Event()
        jobs = [
            asyncio.create_task(chaos.kill_workers(args.kill_every, done)),
            asyncio.create_task(chaos.restart(t0 + args.spread / 3, "kafka")),
            asyncio.create_task(chaos.restart(t0 + 2 * args.spread / 3, "postgres")),
        ]
        post_ids = [uuid.UUID(p) for p in planned]
        drained = await wait_terminal(dsn, post_ids, chaos, max(dues) + args.timeout)
        done.set()
        for job in jobs[1:]:  # a restart not yet done still happens: the stack must be whole
            await job
        jobs[0].cancel()
        await asyncio.sleep(2.0)  # a late duplicate would land now
        await report(dsn, sandbox, tag, planned, chaos, dues, drained)


async def report(
    dsn: str,
    sandbox: httpx.AsyncClient,
    tag: str,
    planned: dict[str, Planned],
    chaos: Chaos,
    dues: list[float],
    drained: float,
) -> None:
    post_ids = [uuid.UUID(p) for p in planned]
    rows = await fetch(dsn, TARGETS, post_ids) or []
    attempts = await fetch(dsn, ATTEMPTS, post_ids) or []
    created = await ledger(sandbox, tag)
    by_status = collections.Counter(r["status"] for r in rows)
    reasons = collections.Counter(
        f"{r['error_class']}: {r['error']}" for r in rows if r["status"] == "failed"
    )
    on_platform = {str(r["post_id"]): planned[str(r["post_id"])].key in created for r in rows}
    published_missing = [
        r for r in rows if r["status"] == "published" and not on_platform[str(r["post_id"])]
    ]
    never_terminal = [r for r in rows if r["status"] in UNFINISHED]
    failed_but_there = [
        r for r in rows if r["status"] == "failed" and on_platform[str(r["post_id"])]
    ]
    dup = duplicates(planned.values(), created)

    print(f"\n{len(rows)} targets (of {len(planned)} planned):")
    print("  by final status: " + ", ".join(f"{s} {n}" for s, n in by_status.most_common()))
    for reason, n in reasons.most_common():
        print(f"  failed ({n}): {reason}")
    print("  attempts: " + ", ".join(f"{r['outcome']} {r['n']}" for r in attempts))
    print(f"duplicates on the platforms: {dup}")
    # Still open when the wait ended is late, not lost (unless not even on the platform
    # once it does finish): counted apart.
    print(f"losses: {len(published_missing)} (published but not on the platform)")
    print(
        f"unfinished when the wait ended: {len(never_terminal)} "
        f"({sum(1 for r in never_terminal if on_platform[str(r['post_id'])])} of them already "
        "on the platform)"
    )
    print(f"failed although the platform has the post: {len(failed_but_there)}")
    for r in (*published_missing, *never_terminal, *failed_but_there)[:20]:
        print(f"  target {r['id']}: {r['status']}, {r['attempts']} attempts, {r['error']}")
    print(
        f"time to drain: {drained - dues[0]:.1f}s from the first due time "
        f"({drained - dues[-1]:.1f}s after the last)"
    )
    print(f"kills performed: {len(chaos.kills)} publisher workers (SIGKILL)")
    for at, what, took in chaos.restarts:
        print(f"restart performed: {what} at {at:.1f}s, down and back in {took:.1f}s")
    if chaos.deaths:
        print(f"services that exited for good: {chaos.deaths}")


def main(args: argparse.Namespace) -> None:
    os.environ["PUBLISHER_WORKERS"] = "2"
    stack = running_stack(bench_environment, supervisor=PatientSupervisor, keep=args.keep)
    with stack as (supervisor, _):
        asyncio.run(drive(supervisor, args))


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--posts", type=int, default=2000)
    parser.add_argument("--accounts", type=int, default=300)
    parser.add_argument("--spread", type=float, default=120.0, help="seconds the due times span")
    parser.add_argument("--kill-every", type=float, default=5.0)
    parser.add_argument("--drop-share", type=float, default=0.05)
    parser.add_argument(
        "--lead", type=float, default=180.0, help="seconds from composing to the first due time"
    )
    parser.add_argument(
        "--timeout", type=float, default=900.0, help="seconds after the last due time to give up"
    )
    parser.add_argument("--keep", type=Path, help="copy the logs here")
    main(parser.parse_args())
