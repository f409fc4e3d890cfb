"""The first comment on a published post, through the whole stack against the sandbox: posted
exactly once; a comment whose answer was lost after the platform acted, or whose worker died
between the platform's answer and the record, is found on the platform, never posted twice;
a comment the platform refuses fails in words while the post stays published."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from socialseed.testing import Infra
from tests.conftest import Stack, User, connect_account, owner_with_workspace
from tests.e2e.test_publish import clear_fault, fault, settled

FINAL = ("posted", "failed")


async def post_with_comment(
    api: httpx.AsyncClient,
    user: User,
    ws: str,
    account: dict[str, Any],
    text: str,
    comment: str,
    **extra: object,
) -> str:
    platform = str(account["platform"])
    r = await api.post(
        "/api/v1/posts",
        json={
            "workspace_id": ws,
            "text": text,
            "targets": [
                {
                    "account_id": str(account["id"]),
                    "options": {"platform": platform, "first_comment": comment},
                }
            ],
            **extra,
        },
        headers=user.headers,
    )
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def commented(
    api: httpx.AsyncClient, user: User, post_id: str, timeout: float = 60
) -> dict[str, Any]:
    """The post's one target once its first comment is posted or failed."""
    deadline = time.monotonic() + timeout
    while True:
        r = await api.get(f"/api/v1/posts/{post_id}", headers=user.headers)
        assert r.status_code == 200, r.text
        [target] = r.json()["targets"]
        if target["comment_status"] in FINAL or time.monotonic() > deadline:
            return dict(target)
        await asyncio.sleep(0.2)


async def comments(stack: Stack, platform: str, post: str) -> list[dict[str, Any]]:
    async with httpx.AsyncClient(base_url=stack.sandbox_url) as sandbox:
        r = await sandbox.get("/_sandbox/comments", params={"platform": platform, "post": post})
        assert r.status_code == 200, r.text
        return list(r.json()["entries"])


async def publisher_db(infra: Infra) -> asyncpg.Connection:
    return await asyncpg.connect(infra.service_url("publisher").replace("+asyncpg", ""))


@pytest.mark.parametrize("platform", ["facebook", "linkedin"])
async def test_a_published_post_gets_exactly_one_first_comment(
    api: httpx.AsyncClient, stack: Stack, platform: str
) -> None:
    owner, ws = await owner_with_workspace(api)
    account = (await connect_account(api, owner, ws, platform, f"fc-once-{platform}"))[0]
    post_id = await post_with_comment(api, owner, ws, account, "Our new menu", "Details: link")
    target = await commented(api, owner, post_id)
    assert target["status"] == "published", target
    assert target["comment_status"] == "posted" and target["comment_error"] is None, target
    [comment] = await comments(stack, platform, target["platform_post_id"])
    assert comment["text"] == "Details: link"
    expected = comment["comment_id"]
    if platform == "linkedin":  # the comment's URN (its x-restli-id)
        expected = f"urn:li:comment:({target['platform_post_id']},{expected})"
    assert target["comment_id"] == expected
    options = target["options"]
    assert options == {**options, "platform": platform, "first_comment": "Details: link"}


async def test_a_comment_whose_answer_was_lost_is_found_not_posted_again(
    api: httpx.AsyncClient, stack: Stack
) -> None:
    owner, ws = await owner_with_workspace(api)
    account = (await connect_account(api, owner, ws, "facebook", "fc-dropped"))[0]
    dropped = await fault(
        stack,
        platform="facebook",
        endpoint="*/comments",
        method="POST",
        drop_after_accept=True,
        count=1,
    )
    try:
        post_id = await post_with_comment(api, owner, ws, account, "Dropped", "Said once")
        target = await commented(api, owner, post_id)
        async with httpx.AsyncClient(base_url=stack.sandbox_url) as sandbox:
            applied = [
                f["applied"]
                for f in (await sandbox.get("/_sandbox/faults")).json()["faults"]
                if f["id"] == dropped
            ]
    finally:
        await clear_fault(stack, dropped)
    assert applied == [1]  # the comment's answer was dropped once
    assert target["comment_status"] == "posted", target
    [comment] = await comments(stack, "facebook", target["platform_post_id"])
    assert comment["text"] == "Said once" and comment["comment_id"] == target["comment_id"]
    assert "Said once" not in (target["comment_error"] or "")


async def test_a_worker_that_died_after_the_platform_acted_leaves_one_comment(
    api: httpx.AsyncClient, stack: Stack, infra: Infra
) -> None:
    """The state a worker killed between the platform's answer and its record leaves: the
    comment is on the platform, the target still ``posting`` (its claim), no id recorded.
    Once the claim's lease is over, the next claim looks on the platform and finds it."""
    owner, ws = await owner_with_workspace(api)
    account = (await connect_account(api, owner, ws, "linkedin", "fc-killed"))[0]
    post_id = await post_with_comment(api, owner, ws, account, "Killed", "Only one of me")
    target = await commented(api, owner, post_id)
    assert target["comment_status"] == "posted", target
    conn = await publisher_db(infra)
    try:
        await conn.execute(
            "UPDATE publisher.targets SET comment_status = 'posting', comment_id = NULL, "
            "comment_due_at = $2 WHERE id = $1",
            uuid.UUID(target["id"]),
            datetime.now(UTC) - timedelta(seconds=1),
        )
    finally:
        await conn.close()
    again = await commented(api, owner, post_id)
    assert again["comment_status"] == "posted", again
    [comment] = await comments(stack, "linkedin", target["platform_post_id"])
    assert comment["text"] == "Only one of me"
    assert again["comment_id"] == target["comment_id"]


async def test_a_comment_the_platform_refuses_fails_in_words_and_the_post_stays_published(
    api: httpx.AsyncClient, stack: Stack, infra: Infra
) -> None:
    """A comment stored under an older, looser rule (here written to the row directly) that
    the platform refuses as too long."""
    owner, ws = await owner_with_workspace(api)
    account = (await connect_account(api, owner, ws, "facebook", "fc-refused"))[0]
    at = (datetime.now(UTC) + timedelta(seconds=4)).isoformat()
    post_id = await post_with_comment(
        api, owner, ws, account, "Refused comment", "short", scheduled_at=at
    )
    conn = await publisher_db(infra)
    try:
        changed = await conn.execute(
            "UPDATE publisher.targets SET options = jsonb_set(options, '{first_comment}', "
            "to_jsonb(repeat('a', 8001))) WHERE post_id = $1 AND status = 'scheduled'",
            uuid.UUID(post_id),
        )
    finally:
        await conn.close()
    assert changed == "UPDATE 1"
    post = await settled(api, owner, post_id)
    assert post["status"] == "published", post
    target = await commented(api, owner, post_id)
    assert target["status"] == "published"
    assert target["comment_status"] == "failed", target
    assert "8000 characters" in target["comment_error"], target
    assert await comments(stack, "facebook", target["platform_post_id"]) == []


async def test_first_comment_is_checked_against_each_platforms_limit(
    api: httpx.AsyncClient, stack: Stack
) -> None:
    owner, ws = await owner_with_workspace(api)
    account = (await connect_account(api, owner, ws, "linkedin", "fc-limit"))[0]
    r = await api.post(
        "/api/v1/posts/validate",
        json={
            "workspace_id": ws,
            "text": "limits",
            "targets": [
                {
                    "account_id": str(account["id"]),
                    "options": {"platform": "linkedin", "first_comment": "a" * 1251},
                }
            ],
        },
        headers=owner.headers,
    )
    assert r.status_code == 200, r.text
    verdict = r.json()
    assert verdict["valid"] is False
    [refused] = verdict["targets"]
    assert "first_comment" in refused["detail"], refused
