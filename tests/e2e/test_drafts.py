"""Drafts through the gateway: saved without a valid schedule, never dispatched and announced
to no one (no ``post.scheduled``), listed, edited, deleted, then scheduled or submitted for
approval under the workspace's rules; every illegal transition named."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg
import httpx

from socialseed.testing import Infra
from tests.conftest import (
    Stack,
    User,
    add_member,
    connect_account,
    make_user,
    make_workspace,
    owner_with_workspace,
    refresh,
)
from tests.e2e.test_posts import calendar, create, later, target_due_at, x_account
from tests.e2e.test_publish import ledger, publish_now, settled


async def scheduled_events(infra: Infra, post_id: str) -> int:
    """How many ``post.scheduled`` events the publisher's outbox holds for the post."""
    conn = await asyncpg.connect(infra.service_url("publisher").replace("+asyncpg", ""))
    try:
        n = await conn.fetchval(
            "SELECT count(*) FROM publisher.outbox WHERE topic = 'post.scheduled' AND key = $1",
            post_id,
        )
    finally:
        await conn.close()
    return int(n)


async def x_account_and_user(
    api: httpx.AsyncClient, user: User, ws: str, name: str
) -> tuple[str, str]:
    """An X account's id and its sandbox user (whose ledger says what was posted)."""
    [account] = await connect_account(api, user, ws, "x", name)
    return str(account["id"]), str(account["platform_user_id"])


async def test_a_draft_is_never_dispatched_nor_announced(
    api: httpx.AsyncClient, stack: Stack, infra: Infra
) -> None:
    owner, ws = await owner_with_workspace(api)
    account, sandbox_user = await x_account_and_user(api, owner, ws, "drafty")
    an_hour_ago = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    r = await create(
        api,
        owner,
        workspace_id=ws,
        text="an idea from an hour ago",
        targets=[{"account_id": account}],
        scheduled_at=an_hour_ago,
        draft=True,
    )
    assert r.status_code == 201, r.text
    timed = r.json()
    assert timed["status"] == "draft" and timed["approval"] == "not_required"
    assert [t["status"] for t in timed["targets"]] == ["draft"]
    assert datetime.fromisoformat(timed["scheduled_at"]) == datetime.fromisoformat(an_hour_ago)
    r = await create(
        api,
        owner,
        workspace_id=ws,
        text="no time yet",
        targets=[{"account_id": account}],
        draft=True,
    )
    assert r.status_code == 201, r.text
    untimed = r.json()
    assert untimed["status"] == "draft" and untimed["scheduled_at"] is None
    # A post published now on the same account: once it is published, the dispatcher has run
    # after both drafts were stored (and long after the first one's time).
    fence = await settled(api, owner, await publish_now(api, owner, ws, account, "the fence"))
    assert fence["status"] == "published", fence
    entries = await ledger(stack, sandbox_user)
    assert [e["text"] for e in entries] == ["the fence"]
    for draft in (timed, untimed):
        r = await api.get(f"/api/v1/posts/{draft['id']}", headers=owner.headers)
        assert r.json()["status"] == "draft" and r.json()["targets"][0]["attempts"] == 0
        assert await target_due_at(infra, draft["id"]) == [None]
        assert await scheduled_events(infra, draft["id"]) == 0
    # listed: by status (both), in a time range only the one with a time
    drafts = await calendar(api, owner, ws, status="draft")
    assert {p["id"] for p in drafts} == {timed["id"], untimed["id"]}
    start = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    in_range = await calendar(api, owner, ws, **{"from": start, "to": later(1)})
    assert {p["id"] for p in in_range} == {timed["id"], fence["id"]}


async def test_a_draft_is_edited_then_published(
    api: httpx.AsyncClient, stack: Stack, infra: Infra
) -> None:
    owner, ws = await owner_with_workspace(api)
    account, sandbox_user = await x_account_and_user(api, owner, ws, "drafter")
    r = await create(
        api, owner, workspace_id=ws, text="first go", targets=[{"account_id": account}], draft=True
    )
    draft = r.json()
    r = await api.patch(
        f"/api/v1/posts/{draft['id']}",
        json={"text": "second go", "scheduled_at": later(3)},
        headers=owner.headers,
    )
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["text"]) == ("draft", "second go")
    assert r.json()["scheduled_at"] is not None
    # null clears a draft's time (it stays a draft)
    r = await api.patch(
        f"/api/v1/posts/{draft['id']}", json={"scheduled_at": None}, headers=owner.headers
    )
    assert (r.json()["status"], r.json()["scheduled_at"]) == ("draft", None)
    assert await scheduled_events(infra, draft["id"]) == 0
    # scheduled without a time: published now, once
    r = await api.patch(
        f"/api/v1/posts/{draft['id']}", json={"draft": False}, headers=owner.headers
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] in ("scheduled", "publishing", "published")
    assert await scheduled_events(infra, draft["id"]) == 1
    post = await settled(api, owner, draft["id"])
    assert post["status"] == "published", post
    entries = await ledger(stack, sandbox_user)
    assert [e["text"] for e in entries] == ["second go"]


async def test_a_scheduled_draft_follows_the_workspace_approval_rule(
    api: httpx.AsyncClient, stack: Stack
) -> None:
    owner = await make_user(api)
    ws = str((await make_workspace(api, owner, require_approval=True))["id"])
    owner = await refresh(api, owner)
    editor = await add_member(api, owner, ws, await make_user(api, name="Ed"), "editor")
    admin = await add_member(api, owner, ws, await make_user(api, name="Al"), "admin")
    account = await x_account(api, owner, ws, "approved-drafts")
    r = await create(
        api,
        editor,
        workspace_id=ws,
        text="for review",
        targets=[{"account_id": account}],
        draft=True,
    )
    assert r.status_code == 201, r.text
    draft = r.json()
    assert draft["status"] == "draft"
    # an admin cannot approve what was not submitted
    r = await api.post(f"/api/v1/posts/{draft['id']}/approve", headers=admin.headers)
    assert (r.status_code, r.json()["error"]) == (409, "NotPendingApproval")
    # submitted: waits for approval, then an admin approves it
    r = await api.patch(
        f"/api/v1/posts/{draft['id']}",
        json={"draft": False, "scheduled_at": later()},
        headers=editor.headers,
    )
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["approval"]) == ("pending_approval", "pending")
    r = await api.post(f"/api/v1/posts/{draft['id']}/approve", headers=admin.headers)
    assert r.status_code == 200 and r.json()["status"] == "scheduled", r.text


async def test_illegal_transitions_and_bad_drafts_are_named(
    api: httpx.AsyncClient, stack: Stack
) -> None:
    owner, ws = await owner_with_workspace(api)
    account = await x_account(api, owner, ws, "transitions")
    r = await create(
        api,
        owner,
        workspace_id=ws,
        text="sched",
        targets=[{"account_id": account}],
        scheduled_at=later(),
    )
    post = r.json()
    r = await api.patch(f"/api/v1/posts/{post['id']}", json={"draft": True}, headers=owner.headers)
    assert (r.status_code, r.json()["error"]) == (409, "AlreadySubmitted")
    r = await create(
        api, owner, workspace_id=ws, text="idea", targets=[{"account_id": account}], draft=True
    )
    draft = r.json()
    r = await api.post(f"/api/v1/posts/{draft['id']}/retry", headers=owner.headers)
    assert (r.status_code, r.json()["error"]) == (409, "NothingToRetry")
    # the schedule is checked when it is scheduled
    past = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    r = await api.patch(
        f"/api/v1/posts/{draft['id']}",
        json={"draft": False, "scheduled_at": past},
        headers=owner.headers,
    )
    assert (r.status_code, r.json()["error"]) == (400, "ScheduledInPast")
    r = await api.get(f"/api/v1/posts/{draft['id']}", headers=owner.headers)
    assert r.json()["status"] == "draft"  # nothing half-changed
    # a draft is still checked for what it is (zone, accounts, platform rules)
    r = await create(
        api,
        owner,
        workspace_id=ws,
        text="x",
        targets=[{"account_id": account}],
        timezone="Mars/Olympus",
        draft=True,
    )
    assert (r.status_code, r.json()["error"]) == (400, "InvalidTimezone")
    r = await create(
        api, owner, workspace_id=ws, text="x" * 281, targets=[{"account_id": account}], draft=True
    )
    assert (r.status_code, r.json()["error"]) == (400, "InvalidTargets")
    # another workspace's draft is not found
    stranger, _ = await owner_with_workspace(api, "Stranger")
    r = await api.get(f"/api/v1/posts/{draft['id']}", headers=stranger.headers)
    assert r.status_code == 404
    r = await api.delete(f"/api/v1/posts/{draft['id']}", headers=stranger.headers)
    assert r.status_code == 404
    # deleted: gone, not kept as cancelled
    r = await api.delete(f"/api/v1/posts/{draft['id']}", headers=owner.headers)
    assert r.status_code == 204, r.text
    r = await api.get(f"/api/v1/posts/{draft['id']}", headers=owner.headers)
    assert (r.status_code, r.json()["error"]) == (404, "PostNotFound")
