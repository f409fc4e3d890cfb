"""The web app's budgets, measured: JavaScript per route, first load, a full calendar.

1. JavaScript per route <= 200 KB gzip. From the Vite build's manifest
   (``web/dist/.vite/manifest.json``): the entry and every chunk it imports statically (what
   every route loads), plus, per route (each chunk the entry imports dynamically: the router's
   ``lazy`` pages), that chunk and everything it imports statically, and any chunk it imports
   dynamically in turn (an upper bound); each file gzipped at level 9, summed once.
2. First load of the signed-in home page <= 1 s: headless Chromium (Debian's), a fresh profile
   each time (a cold cache), signed in by the refresh cookie alone; the navigation's
   ``loadEventEnd`` and the moment the page's main heading ("Accounts", where home leads) is in
   the DOM and its frame starts. Median of ``--runs`` loads after one warm-up of the servers.
3. The calendar's month with 2,000 posts in view renders in <= 500 ms: a workspace with a
   sandbox X account and ``--posts`` posts scheduled in the current month (created through
   ``POST /api/v1/posts``, concurrently), then from navigation to the month grid's last chip in
   the DOM and its frame started. Median of ``--runs``.

The stack starts as ``socialseed up`` does (its own PostgreSQL, Kafka and services in a temp
dir, on free ports; the gateway's rate limits lifted, as ``request_path.py`` does, so the
seeding is not throttled). The browser is driven by ``web/e2e/budgets.mjs`` (playwright-core).
Prints figures, PASS or MISS per budget and the load average; it never fails on a miss.

    uv run python bench/web_budgets.py [--runs 3] [--posts 2000] [--skip-build]
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote
from zoneinfo import ZoneInfo

import httpx
from request_path import LIFTED_LIMITS, running_stack

from socialseed.cli import Supervisor

ROOT = Path(__file__).resolve().parent.parent
WEB = ROOT / "web"
DIST = WEB / "dist"
JS_BUDGET_KB = 200.0
LOAD_BUDGET_MS = 1000.0
CALENDAR_BUDGET_MS = 500.0
ZONE = "Europe/Berlin"
PASSWORD = "a long bench passphrase"

MANIFEST = DIST / ".vite" / "manifest.json"


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def gz_kb(path: Path) -> float:
    return len(gzip.compress(path.read_bytes(), compresslevel=9)) / 1000


def javascript_per_route() -> None:
    manifest: dict[str, dict] = json.loads(MANIFEST.read_text())

    def closure(keys: list[str], *, dynamic: bool, known: frozenset[str] = frozenset()) -> set[str]:
        """The chunks ``keys`` import statically (and dynamically too when ``dynamic``), not
        going through those ``known`` (loaded already)."""
        seen: set[str] = set()
        todo = list(keys)
        while todo:
            key = todo.pop()
            if key in seen or key in known:
                continue
            seen.add(key)
            todo += manifest[key].get("imports", [])
            if dynamic:
                todo += manifest[key].get("dynamicImports", [])
        return seen

    def kb(keys: set[str]) -> float:
        return sum(gz_kb(DIST / manifest[k]["file"]) for k in keys)

    [entry] = [k for k, chunk in manifest.items() if chunk.get("isEntry")]
    every = closure([entry], dynamic=False)
    routes = {
        Path(page).stem: closure([page], dynamic=True, known=frozenset(every))
        for chunk in every
        for page in manifest[chunk].get("dynamicImports", [])
    }
    print("1. JavaScript per route (gzip -9, KB = 1000 bytes)")
    print(f"   every route: {kb(every):,.1f} KB ({len(every)} chunks)")
    worst = 0.0
    for name, own in sorted(routes.items(), key=lambda kv: -kb(kv[1])):
        total = kb(every) + kb(own)
        worst = max(worst, total)
        print(f"   {name}: {total:,.1f} KB ({kb(own):,.1f} KB its own)")
    print(
        f"   the heaviest route loads {worst:,.1f} KB (budget {JS_BUDGET_KB:.0f} KB): "
        f"{verdict(worst <= JS_BUDGET_KB)}"
    )


async def seed(gateway: str, posts: int) -> tuple[str, str]:
    """A user, a workspace in ZONE with a sandbox X account, and ``posts`` posts scheduled in
    the rest of the current month (in the workspace's zone). Returns (email, workspace id)."""
    email = f"bench-{int(time.time())}@example.com"
    async with httpx.AsyncClient(base_url=gateway, timeout=60) as api:
        user = {"email": email, "password": PASSWORD, "name": "Bench"}
        (await api.post("/api/v1/auth/register", json=user)).raise_for_status()
        tokens = (await api.post("/api/v1/auth/login", json=user)).raise_for_status().json()
        bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
        ws = await api.post(
            "/api/v1/workspaces", json={"name": "Bench", "timezone": ZONE}, headers=bearer
        )
        workspace = str(ws.raise_for_status().json()["id"])
        # roles ride in the access token: a new one carries the owner role
        r = await api.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
        bearer = {"Authorization": f"Bearer {r.raise_for_status().json()['access_token']}"}
        r = await api.post(
            "/api/v1/accounts/connect",
            json={"workspace_id": workspace, "platform": "x"},
            headers=bearer,
        )
        consent = await api.get(
            f"{r.raise_for_status().json()['authorize_url']}&sandbox_approve={quote('bench')}"
        )
        callback = (await api.get(consent.headers["location"])).raise_for_status()
        done = await api.post(
            "/api/v1/accounts/oauth/complete", json=callback.json(), headers=bearer
        )
        account = str(done.raise_for_status().json()["accounts"][0]["id"])

        now = datetime.now(ZoneInfo(ZONE))
        start = now + timedelta(hours=2)
        month_end = (now.replace(day=28) + timedelta(days=4)).replace(
            day=1, hour=0, minute=0, second=0, microsecond=0
        )
        if month_end - start < timedelta(days=1):
            sys.exit("less than a day of this month is left: run it tomorrow")
        step = (month_end - timedelta(minutes=1) - start) / posts
        times = [(start + step * i).astimezone(UTC).isoformat() for i in range(posts)]

        async def create(i: int, at: str) -> None:
            body = {
                "workspace_id": workspace,
                "text": f"Bench post {i}",
                "targets": [{"account_id": account}],
                "scheduled_at": at,
            }
            # the publisher learns of the account by event: retry until it has
            for _ in range(60):
                r = await api.post("/api/v1/posts", json=body, headers=bearer)
                if r.status_code == 201:
                    return
                if r.status_code >= 500 or "Account" not in r.text:
                    r.raise_for_status()
                    sys.exit(f"creating post {i}: {r.status_code} {r.text}")
                await asyncio.sleep(0.5)
            sys.exit(f"creating post {i}: {r.status_code} {r.text}")

        began = time.perf_counter()
        await create(0, times[0])
        gate = asyncio.Semaphore(16)

        async def bounded(i: int, at: str) -> None:
            async with gate:
                await create(i, at)

        await asyncio.gather(*(bounded(i, at) for i, at in enumerate(times) if i))
        print(f"   seeded {posts:,} posts in {time.perf_counter() - began:.1f} s")
    return email, workspace


def browser_times(gateway: str, email: str, workspace: str, posts: int, runs: int) -> dict:
    cfg = {
        "gateway": gateway,
        "email": email,
        "password": PASSWORD,
        "workspace": workspace,
        "chips": posts,
        "runs": runs,
    }
    proc = subprocess.run(
        ["node", "e2e/budgets.mjs", json.dumps(cfg)],
        cwd=WEB,
        capture_output=True,
        text=True,
        timeout=900,
    )
    if proc.returncode != 0:
        sys.exit(f"the browser script failed:\n{proc.stderr}")
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def report_loads(
    name: str, loads: list[dict], budget: float, key: str, extra: tuple[str, ...] = ()
) -> None:
    for field in ("load_ms", *extra, key):
        values = [load[field] for load in loads]
        median = statistics.median(values)
        runs = ", ".join(f"{v:.0f}" for v in values)
        judged = f" (budget {budget:.0f} ms): {verdict(median <= budget)}" if field == key else ""
        print(f"   {name} {field}: median {median:.0f} ms of [{runs}]{judged}")


async def month_reads(gateway: str, email: str, workspace: str, runs: int) -> dict[str, list]:
    """The month read the two ways, alternately, in the same run: every page of ``GET
    /posts`` (200 a page, one after the other: what the calendar did before) and ``GET
    /posts/calendar`` (its chips, one request). Wall time (ms) and bytes of each."""
    async with httpx.AsyncClient(base_url=gateway, timeout=120) as api:
        user = {"email": email, "password": PASSWORD}
        tokens = (await api.post("/api/v1/auth/login", json=user)).raise_for_status().json()
        bearer = {"Authorization": f"Bearer {tokens['access_token']}"}

        async def read(path: str, limit: int) -> tuple[float, int]:
            started, size, cursor = time.perf_counter(), 0, None
            while True:
                query: dict[str, str | int] = {"workspace_id": workspace, "limit": limit}
                r = await api.get(
                    path, params=query | ({"cursor": cursor} if cursor else {}), headers=bearer
                )
                size += len(r.raise_for_status().content)
                cursor = r.json()["next_cursor"]
                if cursor is None:
                    return (time.perf_counter() - started) * 1000, size

        out: dict[str, list] = {"posts": [], "calendar": []}
        for _ in range(runs):
            out["posts"].append(await read("/api/v1/posts", 200))
            out["calendar"].append(await read("/api/v1/posts/calendar", 5000))
        return out


def report_reads(reads: dict[str, list]) -> None:
    ms = {k: statistics.median(t for t, _ in v) for k, v in reads.items()}
    size = {k: v[0][1] for k, v in reads.items()}
    print("   the month's posts read from the API alone (same run, alternately, median):")
    print(f"   GET /api/v1/posts, 200 a page: {ms['posts']:,.0f} ms, {size['posts'] / 1e6:.2f} MB")
    print(
        f"   GET /api/v1/posts/calendar, one page: {ms['calendar']:,.0f} ms, "
        f"{size['calendar'] / 1e6:.2f} MB ({ms['posts'] / ms['calendar']:.1f}x faster)"
    )


def environment(supervisor: Supervisor) -> None:
    """The gateway's limits lifted, the built app served, the gateway the OAuth callback host."""
    gateway = f"http://127.0.0.1:{supervisor.ports['gateway']}"
    os.environ |= LIFTED_LIMITS | {
        "GATEWAY_WEB_DIST": str(DIST),
        "SANDBOX_REDIRECT_HOSTS": json.dumps([gateway]),
    }


def main(runs: int, posts: int, skip_build: bool) -> None:
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} ({os.cpu_count()} cores)")
    if not skip_build:
        subprocess.run(["npm", "run", "build"], cwd=WEB, check=True, capture_output=True)
    javascript_per_route()
    with running_stack(environment) as (supervisor, _):
        gateway = f"http://127.0.0.1:{supervisor.ports['gateway']}"
        print("3. (seeding the calendar)")
        email, workspace = asyncio.run(seed(gateway, posts))
        times = browser_times(gateway, email, workspace, posts, runs)
        reads = asyncio.run(month_reads(gateway, email, workspace, runs))
    print(f"2. First load of the signed-in home page, {runs} cold loads")
    report_loads("home", times["home"], LOAD_BUDGET_MS, "seen_ms")
    print(f"3. The calendar's month with {posts:,} posts, {runs} cold loads")
    report_loads(
        "calendar",
        times["calendar"],
        CALENDAR_BUDGET_MS,
        "seen_ms",
        ("refresh_in_ms", "workspaces_in_ms", "posts_asked_ms", "posts_fetched_ms"),
    )
    pages = times["calendar"][0]["posts_pages"]
    print(f"   (posts_fetched_ms: the last of the {pages} pages of GET /api/v1/posts/calendar in)")
    report_reads(reads)
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} ({os.cpu_count()} cores)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--posts", type=int, default=2000)
    parser.add_argument("--skip-build", action="store_true", help="measure web/dist as it is")
    args = parser.parse_args()
    main(args.runs, args.posts, args.skip_build)
