"""Retries follow the error class, and limits hold before any platform call: a rate-limited
account waits (and every later target of it too) while other platforms publish on time; a
failing platform opens its circuit breaker, then a probe closes it; an account at its cap waits
without a call; an account that needs reconnecting fails at once, with ``post.failed``."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from publisher.models import Post, Target, outbox
from socialseed.testing import Infra
from tests.conftest import (
    BREAKER_THRESHOLD,
    Stack,
    User,
    add_member,
    connect_account,
    make_user,
    make_workspace,
    owner_with_workspace,
    refresh,
)
from tests.e2e.test_publish import clear_fault, fault, publish_now

TWEETS = "POST /2/tweets"
FINAL = ("published", "failed", "cancelled")


async def create_post(
    api: httpx.AsyncClient, user: User, ws: str, accounts: list[dict], text: str
) -> str:
    r = await api.post(
        "/api/v1/posts",
        json={
            "workspace_id": ws,
            "text": text,
            "targets": [{"account_id": str(a["id"])} for a in accounts],
        },
        headers=user.headers,
    )
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def until(
    api: httpx.AsyncClient,
    user: User,
    post_id: str,
    done: Callable[[list[dict]], bool],
    timeout: float = 40,
) -> dict[str, dict]:
    """The post's targets by platform once ``done(targets)`` holds."""
    deadline = time.monotonic() + timeout
    while True:
        r = await api.get(f"/api/v1/posts/{post_id}", headers=user.headers)
        assert r.status_code == 200, r.text
        targets = list(r.json()["targets"])
        if done(targets):
            return {t["platform"]: t for t in targets}
        assert not all(t["status"] in FINAL for t in targets), targets  # will never be done
        assert time.monotonic() < deadline, targets
        await asyncio.sleep(0.2)


def all_in(*statuses: str) -> Callable[[list[dict]], bool]:
    return lambda targets: all(t["status"] in statuses for t in targets)


async def calls(stack: Stack, account: dict, endpoint: str = TWEETS) -> int:
    """The account's calls to the endpoint, as the sandbox counted them."""
    return await _calls(stack, str(account["platform"]), endpoint, str(account["platform_user_id"]))


async def all_calls(stack: Stack, platform: str, endpoint: str = TWEETS) -> int:
    """Every account's calls, and those answered before any token was read (a 429 burst)."""
    return await _calls(stack, platform, endpoint, None)


async def _calls(stack: Stack, platform: str, endpoint: str, account: str | None) -> int:
    async with httpx.AsyncClient(base_url=stack.sandbox_url) as sandbox:
        r = await sandbox.get("/_sandbox/stats", params={"account": account} if account else {})
        assert r.status_code == 200, r.text
    endpoints = r.json()["platforms"].get(platform, {}).get("endpoints", {})
    return int(endpoints.get(endpoint, {}).get("calls", 0))


def at(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


async def test_a_rate_limited_account_waits_while_other_platforms_publish(
    api: httpx.AsyncClient, stack: Stack
) -> None:
    owner, ws = await owner_with_workspace(api)
    [x] = await connect_account(api, owner, ws, "x", "limits-x")
    [facebook, *_] = await connect_account(api, owner, ws, "facebook", "limits-fb")
    [linkedin] = await connect_account(api, owner, ws, "linkedin", "limits-li")
    storm = await fault(
        stack,
        platform="x",
        endpoint="/2/tweets",
        method="POST",
        burst_429=1,
        rate_limit_headers=True,
    )
    try:
        post_id = await create_post(api, owner, ws, [x, facebook, linkedin], "storm")
        first = await until(
            api,
            owner,
            post_id,
            lambda ts: all(t["status"] in ("published", "waiting") for t in ts),
        )
    finally:
        await clear_fault(stack, storm)
    # Facebook and LinkedIn published on time while X waits for its window.
    assert first["facebook"]["status"] == first["linkedin"]["status"] == "published", first
    assert first["x"]["status"] == "waiting" and first["x"]["retry_at"] is not None
    assert at(first["x"]["retry_at"]) > datetime.now(UTC) + timedelta(minutes=1)
    # The platform's answer blocks the account for every worker: a later post of it waits
    # for the same time without a call, though the platform would now take it.
    before = await all_calls(stack, "x")
    later_id = await publish_now(api, owner, ws, str(x["id"]), "later")
    later = await until(api, owner, later_id, all_in("waiting"))
    assert later["x"]["retry_at"] == first["x"]["retry_at"]
    assert "rate-limited" in later["x"]["error"]
    assert await all_calls(stack, "x") == before


async def test_a_failing_platform_opens_its_breaker_then_a_probe_closes_it(
    api: httpx.AsyncClient, stack: Stack
) -> None:
    owner, ws = await owner_with_workspace(api)
    [x] = await connect_account(api, owner, ws, "x", "breaker-x")
    # The sandbox answers a fault before it reads the token: count every account's calls.
    before = await all_calls(stack, "x")
    storm = await fault(stack, platform="x", endpoint="/2/tweets", method="POST", error_rate=1.0)
    posts: list[str] = []
    try:
        # One post after another, until the breaker holds one instead of calling X.
        while True:
            posts.append(await publish_now(api, owner, ws, str(x["id"]), f"storm {len(posts)}"))
            [target] = (await until(api, owner, posts[-1], all_in("in_doubt", "waiting"))).values()
            if target["status"] == "waiting":
                break
            assert len(posts) <= BREAKER_THRESHOLD, target
        assert "keeps failing" in target["error"] and target["retry_at"] is not None
        assert await all_calls(stack, "x") - before == BREAKER_THRESHOLD
        # Open: another post is held too, and X is not called.
        posts.append(await publish_now(api, owner, ws, str(x["id"]), "held"))
        await until(api, owner, posts[-1], all_in("waiting"))
        assert await all_calls(stack, "x") - before == BREAKER_THRESHOLD
    finally:
        await clear_fault(stack, storm)
    # After the cool-down a probe finds X well again: everything is published, once each.
    for post_id in posts:
        await until(api, owner, post_id, all_in("published"))
    assert await calls(stack, x) == len(posts)  # the successful calls, which carried its token


async def seed_published(infra: Infra, account: dict, ws: str, count: int, at: datetime) -> None:
    """``count`` targets of the account published at ``at`` (as if published earlier)."""
    engine = create_async_engine(infra.service_url("publisher"))
    try:
        async with async_sessionmaker(engine)() as session, session.begin():
            post = Post(
                id=uuid.uuid4(),
                workspace_id=uuid.UUID(ws),
                author_id=uuid.uuid4(),
                text="earlier",
                media_ids=[],
                scheduled_at=at,
                timezone="UTC",
                status="published",
                approval="not_required",
            )
            session.add(post)
            session.add_all(
                Target(
                    post_id=post.id,
                    position=i,
                    workspace_id=post.workspace_id,
                    account_id=uuid.UUID(str(account["id"])),
                    platform=account["platform"],
                    options={},
                    status="published",
                    progress={},
                    published_at=at,
                )
                for i in range(count)
            )
    finally:
        await engine.dispose()


async def test_an_account_at_its_cap_waits_without_a_call(
    api: httpx.AsyncClient, stack: Stack, infra: Infra
) -> None:
    owner = await make_user(api)
    ws = str((await make_workspace(api, owner, require_approval=True))["id"])
    owner = await refresh(api, owner)
    editor = await add_member(api, owner, ws, await make_user(api, name="Ed"), "editor")
    [x] = await connect_account(api, owner, ws, "x", "capped-x")
    post_id = await create_post(api, editor, ws, [x], "one too many")
    # Meanwhile the account reached X's cap (100 posts per 15 minutes).
    earlier = datetime.now(UTC) - timedelta(minutes=1)
    await seed_published(infra, x, ws, 100, earlier)
    r = await api.post(f"/api/v1/posts/{post_id}/approve", headers=owner.headers)
    assert r.status_code == 200, r.text
    target = (await until(api, owner, post_id, all_in("waiting")))["x"]
    assert at(target["retry_at"]) == earlier + timedelta(minutes=15)
    assert "cap of 100 posts" in target["error"]
    assert await calls(stack, x) == 0


async def test_an_account_to_reconnect_fails_once_with_post_failed(
    api: httpx.AsyncClient, stack: Stack, infra: Infra
) -> None:
    owner, ws = await owner_with_workspace(api)
    [x] = await connect_account(api, owner, ws, "x", "limits-revoked")
    await fault(stack, platform="x", revoke_tokens=True, account=str(x["platform_user_id"]))
    post_id = await publish_now(api, owner, ws, str(x["id"]), "never")
    target = (await until(api, owner, post_id, all_in("failed")))["x"]
    assert "Reconnect" in target["error"] and target["attempts"] == 1
    engine = create_async_engine(infra.service_url("publisher"))
    try:
        async with engine.connect() as conn:
            events = (
                await conn.execute(
                    select(outbox.c.topic, outbox.c.payload).where(
                        outbox.c.payload["target_id"].astext == target["id"]
                    )
                )
            ).all()
    finally:
        await engine.dispose()
    failed = [payload for topic, payload in events if topic == "post.failed"]
    assert [f["reason_class"] for f in failed] == ["reauth_required"]
    # One call, refused (401), and no retry: the token was refreshed once, which failed.
    assert await calls(stack, x) == 1
