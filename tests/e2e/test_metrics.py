"""The metrics that matter, read from each service's ``/metrics`` over real HTTP: every
service's exposition passes ``promtool check metrics``; a published post counts an attempt
and observes its lateness; the targets-by-state gauge says what the database says; an outbox
backlog shows; a 429 from the platform counts; a token refresh counts."""

from __future__ import annotations

import asyncio
import subprocess
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import pytest
from prometheus_client.core import Metric
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from publisher.app import create_app as create_publisher
from socialseed.db import Database
from socialseed.devstack.prometheus import ensure_prometheus
from socialseed.metrics import Facts, gauge
from socialseed.testing import Infra, asgi_client
from tests.conftest import (
    GATEWAY_METRICS_TOKEN,
    Stack,
    connect_account,
    own_publisher_database,
    owner_with_workspace,
    publisher_settings,
)
from tests.e2e.test_publish import clear_fault, fault, publish_now, settled

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape(url: str, token: str | None = None) -> str:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        r = await client.get("/metrics", headers=headers)
    assert r.status_code == 200, r.text
    return r.text


def samples(text: str) -> Samples:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(text: str, name: str, **labels: str) -> float:
    """The sample ``name`` with exactly ``labels`` (0 when absent)."""
    return samples(text).get((name, frozenset(labels.items())), 0.0)


def present(text: str, name: str) -> bool:
    return any(key[0] == name for key in samples(text))


async def eventually(probe: Callable[[], Awaitable[bool]], what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not await probe():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.3)


def services(stack: Stack) -> dict[str, tuple[str, str | None]]:
    return {
        "auth": (stack.auth_url, None),
        "accounts": (stack.accounts_url, None),
        "publisher": (stack.publisher_url, None),
        "analytics": (stack.analytics_url, None),
        "gateway": (stack.gateway_url, GATEWAY_METRICS_TOKEN),
    }


async def test_every_service_metrics_pass_promtool(api: httpx.AsyncClient, stack: Stack) -> None:
    owner, ws = await owner_with_workspace(api)
    await connect_account(api, owner, ws, "x", "metrics-lint")
    _, promtool = ensure_prometheus()
    for service, (url, token) in services(stack).items():
        text = await scrape(url, token)
        checked = subprocess.run(
            [str(promtool), "check", "metrics"], input=text, capture_output=True, text=True
        )
        assert checked.returncode == 0, f"{service}: {checked.stdout}{checked.stderr}"
        build = [
            dict(labels)
            for name, labels in samples(text)
            if name == "socialseed_build_info" and dict(labels)["service"] == service
        ]
        assert build and all(b["version"] and b["commit"] for b in build), (service, build)
    # Facts of each database beside the process's counters.
    assert present(await scrape(stack.publisher_url), "socialseed_publish_targets")
    assert present(await scrape(stack.accounts_url), "socialseed_accounts")
    assert present(await scrape(stack.analytics_url), "socialseed_sync_lag_seconds")
    for url in (stack.auth_url, stack.accounts_url, stack.publisher_url, stack.analytics_url):
        assert present(await scrape(url), "socialseed_outbox_backlog"), url


async def test_a_published_post_counts_an_attempt_and_its_lateness(
    api: httpx.AsyncClient, stack: Stack
) -> None:
    owner, ws = await owner_with_workspace(api)
    [account] = await connect_account(api, owner, ws, "x", "metrics-published")
    attempts = ("socialseed_publish_attempts_total", {"platform": "x", "outcome": "published"})
    lateness = ("socialseed_publish_lateness_seconds_count", {"platform": "x"})
    before = await scrape(stack.publisher_url)
    post = await settled(api, owner, await publish_now(api, owner, ws, str(account["id"]), "m"))
    assert post["status"] == "published", post
    after = await scrape(stack.publisher_url)
    name, labels = attempts
    assert value(after, name, **labels, error_class="none") > value(
        before, name, **labels, error_class="none"
    )
    assert value(after, lateness[0], **lateness[1]) > value(before, lateness[0], **lateness[1])


async def test_targets_by_state_say_what_the_database_says(
    api: httpx.AsyncClient, stack: Stack, infra: Infra
) -> None:
    owner, ws = await owner_with_workspace(api)
    [account] = await connect_account(api, owner, ws, "x", "metrics-states")
    later = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    r = await api.post(
        "/api/v1/posts",
        json={
            "workspace_id": ws,
            "text": "later",
            "scheduled_at": later,
            "targets": [{"account_id": str(account["id"])}],
        },
        headers=owner.headers,
    )
    assert r.status_code == 201, r.text
    db = await asyncpg.connect(infra.service_url("publisher").replace("+asyncpg", ""))
    try:

        async def agrees() -> bool:
            scheduled = await db.fetchval(
                "SELECT count(*) FROM publisher.targets "
                "WHERE status = 'scheduled' AND due_at IS NOT NULL"
            )
            text = await scrape(stack.publisher_url)
            shown = value(text, "socialseed_publish_targets", state="scheduled")
            return scheduled > 0 and shown == scheduled

        await eventually(agrees, "the scheduled targets' gauge to match the database")
    finally:
        await db.close()


async def test_an_outbox_backlog_shows(infra: Infra, stack: Stack) -> None:
    """A publisher whose relay is off (Kafka disabled) on a database of its own: an event
    written to its outbox waits there, and /metrics says so."""
    url = await own_publisher_database(infra, f"metrics_outbox_{uuid.uuid4().hex[:8]}")
    settings = publisher_settings(
        infra,
        sandbox_url=stack.sandbox_url,
        auth_url=stack.auth_url,
        accounts_url=stack.accounts_url,
        database_url=url,
        kafka_enabled=False,
    )
    async with asgi_client(create_publisher(settings, dispatch=False)) as client:
        empty = (await client.get("/metrics")).text
        assert value(empty, "socialseed_outbox_backlog", service="publisher") == 0
        db = await asyncpg.connect(url.replace("+asyncpg", ""))
        try:
            await db.execute(
                "INSERT INTO publisher.outbox (event_id, topic, key, headers, payload, created_at)"
                " VALUES ($1, 'post.events', 'k', '{}', '{}', now() - interval '90 seconds')",
                uuid.uuid4(),
            )
        finally:
            await db.close()

        async def shows() -> bool:
            text = (await client.get("/metrics")).text
            return value(text, "socialseed_outbox_backlog", service="publisher") == 1

        await eventually(shows, "the outbox backlog to show")
        text = (await client.get("/metrics")).text
        assert value(text, "socialseed_outbox_oldest_age_seconds", service="publisher") >= 90


async def test_a_429_from_the_platform_counts(api: httpx.AsyncClient, stack: Stack) -> None:
    owner, ws = await owner_with_workspace(api)
    [account] = await connect_account(api, owner, ws, "x", "metrics-429")
    limited = ("socialseed_platform_rate_limited_total", {"service": "publisher", "platform": "x"})
    waits = ("socialseed_publish_rate_limit_waits_total", {"platform": "x"})
    before = await scrape(stack.publisher_url)
    burst = await fault(stack, platform="x", endpoint="/2/tweets", method="POST", burst_429=1)
    try:
        await publish_now(api, owner, ws, str(account["id"]), "limited")

        async def counted() -> bool:
            text = await scrape(stack.publisher_url)
            return value(text, limited[0], **limited[1]) > value(before, limited[0], **limited[1])

        await eventually(counted, "the platform's 429 to be counted")
    finally:
        await clear_fault(stack, burst)
    after = await scrape(stack.publisher_url)
    assert value(after, waits[0], **waits[1]) > value(before, waits[0], **waits[1])
    calls = [
        dict(labels)
        for (name, labels), _ in samples(after).items()
        if name == "socialseed_platform_calls_total" and dict(labels)["status"] == "429"
    ]
    assert {"service": "publisher", "platform": "x", "endpoint": "/2/tweets", "status": "429"} in (
        calls
    )


@pytest.mark.parametrize("platform", ["x"])
async def test_a_token_refresh_counts(api: httpx.AsyncClient, stack: Stack, platform: str) -> None:
    owner, ws = await owner_with_workspace(api)
    [account] = await connect_account(api, owner, ws, platform, "metrics-refresh")
    name, labels = "socialseed_token_refreshes_total", {"platform": platform}
    before = await scrape(stack.accounts_url)
    secret = stack.accounts.internal_tokens["publisher"].get_secret_value()
    async with httpx.AsyncClient(base_url=stack.accounts_url, timeout=30) as internal:
        r = await internal.post(
            f"/internal/accounts/{account['id']}/access-token",
            params={"force": "true"},
            headers={"Authorization": f"Bearer {secret}"},
        )
    assert r.status_code == 200, r.text
    after = await scrape(stack.accounts_url)
    assert value(after, name, **labels, outcome="refreshed") == (
        value(before, name, **labels, outcome="refreshed") + 1
    )


async def test_a_slow_database_does_not_hang_metrics(infra: Infra) -> None:
    """A fact whose query outlasts the scrape's patience is left out of that answer, which
    still comes in time."""
    db = Database(infra.service_url("publisher"), pool_size=2)
    facts = Facts(db, timeout=0.5)

    async def slow(conn: AsyncConnection, now: datetime) -> list[Metric]:
        await conn.execute(text("SELECT pg_sleep(5)"))
        late = gauge("socialseed_test_late", "never in time")
        late.add_metric([], 1)
        return [late]

    facts.add(slow)
    try:
        started = time.monotonic()
        body = await facts.exposition()
        assert time.monotonic() - started < 3
        assert b"socialseed_test_late" not in body
    finally:
        await db.dispose()
