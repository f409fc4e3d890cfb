"""Every dashboard panel's and every alert's PromQL, run by the real Prometheus against the
running test stack after real traffic: a post published, a sync, a failed sign-in and a call
the gateway refuses for its rate limit.

Prometheus (Debian's package, ``socialseed.devstack.prometheus``) runs the committed
``deploy/prometheus/prometheus.yml`` and rules, each job pointed at the stack's service, with a
1-second scrape interval. Each query must parse, each panel must return data, and every rule
must evaluate without error in Prometheus itself.

The test stack serves every service from this one process, so each service's ``/metrics``
shows the whole process's registry: here a panel filtered on ``job`` finds the other services'
series too. What it proves is that the names, labels and PromQL are right, which is what can
break; which process reports a series is the services' own tests' business.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from aiokafka import AIOKafkaProducer
from pydantic import SecretStr
from sqlalchemy import text

from analytics.app import create_app as create_analytics
from analytics.context import AnalyticsContext
from analytics.fetching.fetcher import FetchWorkers
from gateway.app import create_app as create_gateway
from gateway.settings import GatewaySettings
from socialseed.db import Database
from socialseed.devstack.prometheus import DEPLOY_DIR, LocalPrometheus, local_config
from socialseed.testing import Infra, free_port, serve
from tests.conftest import (
    GATEWAY_METRICS_TOKEN,
    RELAXED,
    Stack,
    User,
    connect_account,
    owner_with_workspace,
)
from tests.e2e.test_analytics_sync import connected, ingested
from tests.e2e.test_publish import clear_fault, fault, publish_now, settled
from tests.e2e.test_webhooks import Receiver, recorded, register, running_receiver

REPO = Path(__file__).resolve().parents[2]
DASHBOARDS = REPO / "deploy" / "grafana" / "dashboards"
# Grafana's $__rate_interval, over the whole of this test's traffic.
RATE_INTERVAL = "5m"
WAIT = 90.0  # seconds for a series to show up after the traffic that makes it


def panel_queries() -> list[tuple[str, str, str]]:
    """(dashboard, panel, expr) for every query of every committed dashboard."""
    found = []
    for path in sorted(DASHBOARDS.glob("*.json")):
        model = json.loads(path.read_text())
        for panel in model["panels"]:
            for target in panel.get("targets", []):
                expr = target["expr"].replace("$__rate_interval", RATE_INTERVAL)
                found.append((model["title"], panel["title"], expr))
    return found


def alert_queries() -> list[tuple[str, str]]:
    rules = yaml.safe_load((DEPLOY_DIR / "rules" / "alerts.yml").read_text())
    return [
        (rule["alert"], rule["expr"])
        for group in rules["groups"]
        for rule in group["rules"]
        if "alert" in rule
    ]


@pytest.fixture(scope="module")
def limited_gateway(stack: Stack) -> Iterator[str]:
    """A gateway in front of the stack that lets one sign-in a minute through per address."""
    settings = GatewaySettings(
        upstreams={
            "auth": stack.auth_url,
            "accounts": stack.accounts_url,
            "publisher": stack.publisher_url,
            "analytics": stack.analytics_url,
        },
        limit_per_ip=RELAXED,
        limit_per_user=RELAXED,
        limit_login_per_ip="1/minute",
        metrics_token=SecretStr(GATEWAY_METRICS_TOKEN),
    )
    with serve(create_gateway(settings)) as url:
        yield url


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    with running_receiver() as state:
        yield state


@pytest.fixture(scope="module")
def prometheus(
    stack: Stack, limited_gateway: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    home = tmp_path_factory.mktemp("prometheus")
    token = home / "metrics-token"
    token.write_text(GATEWAY_METRICS_TOKEN + "\n")  # the other services run in dev mode

    def address(url: str) -> str:
        return url.removeprefix("http://")

    config = local_config(
        {
            "auth": address(stack.auth_url),
            "accounts": address(stack.accounts_url),
            "publisher": address(stack.publisher_url),
            "analytics-sync": address(stack.analytics_url),
            "webhooks": address(stack.webhooks_url),
            "gateway": address(stack.gateway_url),
        },
        token_file=token,
        scrape_interval="1s",
    )
    for job in config["scrape_configs"]:
        if job["job_name"] == "gateway":
            job["static_configs"][0]["targets"].append(address(limited_gateway))
    with ExitStack() as stop:
        server = LocalPrometheus(home / "server", config, port=free_port())
        stop.callback(server.stop)
        server.start()
        yield server.url


async def query(client: httpx.AsyncClient, expr: str) -> dict[str, Any]:
    r = await client.get("/api/v1/query", params={"query": expr})
    body: dict[str, Any] = r.json()
    return body


async def poll(what: str, probe: Any, timeout: float = WAIT) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := await probe()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.5)
    return value


@pytest.fixture
async def analytics_db(infra: Infra) -> AsyncIterator[Database]:
    database = Database(infra.service_url("analytics"), pool_size=4)
    yield database
    await database.dispose()


async def drive_traffic(
    api: httpx.AsyncClient,
    stack: Stack,
    limited_gateway: str,
    infra: Infra,
    db: Database,
    receiver: Receiver,
) -> None:
    """What the issue asks for (a post published, a sync, a failed sign-in, a call refused by
    our rate limit), plus what the other panels watch: a platform's 429 to a publish and to a
    fetch, a token refresh, a record no consumer can read (dead-lettered), and the published
    post's webhooks: one delivered, one failing until its endpoint is turned off."""
    owner, ws = await owner_with_workspace(api, name="Metrics")
    # A failed sign-in.
    r = await api.post("/api/v1/auth/login", json={"email": owner.email, "password": "wrong one"})
    assert r.status_code == 401, r.text
    # A call the gateway refuses for its rate limit (one sign-in a minute from an address).
    async with httpx.AsyncClient(base_url=limited_gateway, timeout=20) as limited:
        answers = [
            (await limited.post("/api/v1/auth/login", json={"email": owner.email, "password": "x"}))
            for _ in range(2)
        ]
    assert [a.status_code for a in answers] == [401, 429], [a.text for a in answers]

    # A post published, and its webhooks: one answered, one failing every attempt.
    [account] = await connect_account(api, owner, ws, "x", "metrics-pub")
    good, bad = receiver.path(), receiver.path(500, 500, 500)
    ok = await register(api, owner, ws, receiver.url + good, ["post.published"])
    dead = await register(api, owner, ws, receiver.url + bad, ["post.published"])
    post = await settled(api, owner, await publish_now(api, owner, ws, str(account["id"]), "hi"))
    assert post["status"] == "published", post
    await receiver.wait(good, 1)
    await receiver.wait(bad, 3)  # the first attempt and one per retry delay
    [delivered] = await recorded(api, owner, ok["id"])
    [failed] = await recorded(api, owner, dead["id"])
    assert (delivered["status"], failed["status"]) == ("succeeded", "failed")
    # A publish the platform answers 429: it waits for the platform's window.
    [waiting] = await connect_account(api, owner, ws, "x", "metrics-wait")
    storm = await fault(stack, platform="x", endpoint="/2/tweets", method="POST", burst_429=1)
    try:
        post_id = await publish_now(api, owner, ws, str(waiting["id"]), "later")
        await poll(
            "the publish waiting for the platform", lambda: target_waiting(api, owner, post_id)
        )
    finally:
        await clear_fault(stack, storm)

    # A token refresh, as the vault makes one after a platform said 401.
    async with httpx.AsyncClient(base_url=stack.accounts_url, timeout=20) as accounts:
        r = await accounts.post(
            f"/internal/accounts/{account['id']}/access-token",
            params={"force": "true"},
            headers={"Authorization": "Bearer dev-only-analytics"},
        )
        assert r.status_code == 200, r.text

    # A sync: an X account's history fetched and ingested while TikTok answers a 429.
    x_ids = await connected(api, db, owner, ws, "x")
    await connected(api, db, owner, ws, "tiktok")
    storm = await fault(stack, platform="tiktok", endpoint="*video/query*", burst_429=1)
    app = create_analytics(stack.analytics.settings, background=False)
    ctx: AnalyticsContext = app.state.analytics
    try:
        # The drains fetch what every earlier test of the session left due as well.
        await ingested(db, x_ids, drain=FetchWorkers(ctx, name="metrics").drain, timeout=300)
    finally:
        await clear_fault(stack, storm)
        for client in ctx.runtime.http_clients:
            await client.aclose()
        await ctx.db.dispose()
        async with db.transaction() as session:  # as the 429 storm test leaves it
            await session.execute(
                text("UPDATE analytics.budgets SET blocked_until = NULL WHERE platform = 'tiktok'")
            )

    # A record nobody can read on a consumed topic: analytics' ingester dead-letters it.
    producer = AIOKafkaProducer(bootstrap_servers=infra.kafka_bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait("metrics.fetched", b"not an event", key=b"metrics-test")
    finally:
        await producer.stop()


async def target_waiting(api: httpx.AsyncClient, user: User, post_id: str) -> bool:
    r = await api.get(f"/api/v1/posts/{post_id}", headers=user.headers)
    assert r.status_code == 200, r.text
    [target] = r.json()["targets"]
    assert target["status"] != "published", target  # the 429 was not seen
    return bool(target["status"] == "waiting")


@pytest.mark.timeout(600)
async def test_every_panel_and_alert_query_runs_on_prometheus(
    api: httpx.AsyncClient, stack: Stack, limited_gateway: str, prometheus: str,
    infra: Infra, analytics_db: Database, receiver: Receiver,
) -> None:  # fmt: skip
    async with httpx.AsyncClient(base_url=prometheus, timeout=20) as prom:
        jobs = {"auth", "accounts", "publisher", "analytics-sync", "webhooks", "gateway"}

        async def all_up() -> bool:
            found = (await prom.get("/api/v1/targets")).json()["data"]["activeTargets"]
            return (
                {t["labels"]["job"] for t in found} == jobs
                and len(found) == 7  # the limited gateway is a second gateway target
                and all(t["health"] == "up" for t in found)
            )

        await poll("every target scraped", all_up)

        await drive_traffic(api, stack, limited_gateway, infra, analytics_db, receiver)
        done = time.time()

        async def scraped_since_traffic() -> bool:
            answer = await query(prom, "min(timestamp(up))")
            result = answer["data"]["result"]
            return bool(result) and float(result[0]["value"][1]) > done + 2

        await poll("two scrapes after the traffic", scraped_since_traffic)

        async def dead_lettered() -> bool:
            expr = (
                'socialseed_events_consumed_total{topic="metrics.fetched", outcome="dead_lettered"}'
            )
            return bool((await query(prom, expr))["data"]["result"])

        # The unreadable record went to the DLQ (and holds no partition for later tests).
        await poll("the unreadable record dead-lettered", dead_lettered)

        # Every alert's expression parses and runs; Prometheus evaluates every rule cleanly.
        for name, expr in alert_queries():
            answer = await query(prom, expr)
            assert answer["status"] == "success", f"alert {name}: {answer}"

        async def rules_evaluated() -> list[dict[str, Any]] | None:
            groups = (await prom.get("/api/v1/rules")).json()["data"]["groups"]
            rules = [rule for group in groups for rule in group["rules"]]
            return rules if all(r["health"] != "unknown" for r in rules) else None

        rules = await poll("every rule evaluated", rules_evaluated)
        assert {r["name"] for r in rules} == {name for name, _ in alert_queries()}
        assert [(r["name"], r["lastError"]) for r in rules if r["health"] != "ok"] == []

        # Every panel's query parses and returns data (series appear as the services report
        # them: poll each until it does or the time is up).
        failed: list[str] = []
        empty: list[str] = []
        deadline = time.monotonic() + WAIT
        for dashboard, panel, expr in panel_queries():
            while True:
                answer = await query(prom, expr)
                if answer["status"] != "success":
                    failed.append(f"{dashboard} / {panel}: {answer.get('error')}\n    {expr}")
                    break
                if answer["data"]["result"]:
                    break
                if time.monotonic() > deadline:
                    empty.append(f"{dashboard} / {panel}\n    {expr}")
                    break
                await asyncio.sleep(0.5)
        assert (failed, empty) == ([], []), (
            "queries Prometheus refused:\n"
            + "\n".join(failed)
            + "\npanels without data:\n"
            + "\n".join(empty)
        )
