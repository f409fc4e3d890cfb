"""Retry: a post's failed targets go back to the dispatcher now (``POST /posts/{id}/retry``),
as a reschedule does (``post.scheduled`` for them); nothing failed is a named 409; only an
editor of the workspace (an editor: their own posts) may retry."""

from __future__ import annotations

import json

import asyncpg
import httpx

from socialseed.testing import Infra
from tests.conftest import (
    Stack,
    User,
    add_member,
    connect_account,
    make_user,
    owner_with_workspace,
)
from tests.e2e.test_publish import clear_fault, fault, ledger, publish_now, settled


async def scheduled_events(infra: Infra, post_id: str) -> list[dict]:
    conn = await asyncpg.connect(infra.service_url("publisher").replace("+asyncpg", ""))
    try:
        rows = await conn.fetch(
            "SELECT payload::text FROM publisher.outbox WHERE topic = 'post.scheduled'"
            " AND key = $1 ORDER BY id",
            post_id,
        )
    finally:
        await conn.close()
    return [json.loads(r[0]) for r in rows]


async def failed_post(api: httpx.AsyncClient, stack: Stack, name: str) -> tuple[User, str, dict]:
    """A post whose only target failed: the account's grant was revoked at the platform."""
    owner, ws = await owner_with_workspace(api)
    [account] = await connect_account(api, owner, ws, "x", name)
    revoked = await fault(
        stack, platform="x", revoke_tokens=True, account=str(account["platform_user_id"])
    )
    await clear_fault(stack, revoked)  # the revocation stays; only the fault entry goes
    post = await settled(api, owner, await publish_now(api, owner, ws, str(account["id"]), "again"))
    assert post["status"] == "failed", post
    return owner, ws, {**post, "account": account}


async def test_a_failed_target_is_retried_and_published_once(
    api: httpx.AsyncClient, stack: Stack, infra: Infra
) -> None:
    owner, ws, post = await failed_post(api, stack, "retry-ok")
    account = post["account"]
    [target] = post["targets"]
    assert "Reconnect" in target["error"]
    events_before = await scheduled_events(infra, post["id"])
    # The author reconnects the account, as the failure's words say, then retries.
    await connect_account(api, owner, ws, "x", "retry-ok")
    r = await api.post(f"/api/v1/posts/{post['id']}/retry", headers=owner.headers)
    assert r.status_code == 200, r.text
    retried = r.json()
    assert retried["status"] == "scheduled"
    [again] = retried["targets"]
    assert (again["id"], again["status"], again["error"]) == (target["id"], "scheduled", None)
    # What a reschedule emits: post.scheduled for the target, due now.
    events = await scheduled_events(infra, post["id"])
    assert len(events) == len(events_before) + 1
    assert [t["target_id"] for t in events[-1]["targets"]] == [target["id"]]
    assert events[-1]["scheduled_at"] > events_before[-1]["scheduled_at"]

    done = await settled(api, owner, post["id"])
    assert done["status"] == "published", done
    [published] = done["targets"]
    entries = await ledger(stack, str(account["platform_user_id"]))
    assert [e["platform_post_id"] for e in entries] == [published["platform_post_id"]]
    assert published["url"].endswith(published["platform_post_id"])


async def test_nothing_to_retry_is_a_named_conflict(
    api: httpx.AsyncClient, stack: Stack, infra: Infra
) -> None:
    owner, ws = await owner_with_workspace(api)
    [account] = await connect_account(api, owner, ws, "x", "retry-none")
    post = await settled(api, owner, await publish_now(api, owner, ws, str(account["id"]), "ok"))
    assert post["status"] == "published", post
    before = await scheduled_events(infra, post["id"])
    r = await api.post(f"/api/v1/posts/{post['id']}/retry", headers=owner.headers)
    assert (r.status_code, r.json()["error"]) == (409, "NothingToRetry"), r.text
    assert await scheduled_events(infra, post["id"]) == before
    after = (await api.get(f"/api/v1/posts/{post['id']}", headers=owner.headers)).json()
    assert after["targets"][0]["status"] == "published"


async def test_only_editors_retry_and_editors_only_their_own(
    api: httpx.AsyncClient, stack: Stack
) -> None:
    owner, ws, post = await failed_post(api, stack, "retry-who")
    viewer = await add_member(api, owner, ws, await make_user(api, name="Vic"), "viewer")
    editor = await add_member(api, owner, ws, await make_user(api, name="Eddie"), "editor")
    stranger = await make_user(api, name="Stan")
    url = f"/api/v1/posts/{post['id']}/retry"
    r = await api.post(url, headers=viewer.headers)
    assert (r.status_code, r.json()["error"]) == (403, "InsufficientRole"), r.text
    r = await api.post(url, headers=editor.headers)
    assert (r.status_code, r.json()["error"]) == (403, "InsufficientRole"), r.text
    assert "own" in r.json()["detail"]
    r = await api.post(url, headers=stranger.headers)
    assert (r.status_code, r.json()["error"]) == (404, "PostNotFound"), r.text
    after = (await api.get(f"/api/v1/posts/{post['id']}", headers=owner.headers)).json()
    assert after["status"] == "failed" and after["targets"][0]["status"] == "failed"
