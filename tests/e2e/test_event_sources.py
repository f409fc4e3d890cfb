"""The events integrations subscribe to that are told by the services themselves, each
followed from its source to a signed webhook a receiver this test runs gets: ``post.in_doubt``
(a publish whose answer was lost, before it is reconciled), ``sync.completed`` (a refresh's
end) and ``account.token_expiring`` (days before a grant only a person can renew runs out)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import text

from accounts.app import create_app as create_accounts
from accounts.background import warn_expiring_grants
from accounts.context import AccountsContext
from socialseed.db import Database
from socialseed.testing import Infra
from tests.conftest import Stack, connect_account, owner_with_workspace
from tests.e2e.test_analytics_sync import WorkerSets, connected, db, ingested, until, workers
from tests.e2e.test_publish import clear_fault, fault, publish_now, settled
from tests.e2e.test_webhooks import Receiver, receiver, register, verified

__all__ = ["db", "receiver", "workers"]  # fixtures used here, defined beside their own tests


async def test_an_unanswered_publish_is_told_in_doubt_then_published(
    api: httpx.AsyncClient, stack: Stack, receiver: Receiver
) -> None:
    owner, ws = await owner_with_workspace(api)
    [account] = await connect_account(api, owner, ws, "x", f"doubt{uuid.uuid4().hex[:6]}")
    path = receiver.path()
    hook = await register(api, owner, ws, receiver.url + path, ["post.in_doubt", "post.published"])
    dropped = await fault(
        stack, platform="x", endpoint="/2/tweets", method="POST", drop_after_accept=True, count=1
    )
    try:
        post_id = await publish_now(api, owner, ws, str(account["id"]), "answer lost")
        post = await settled(api, owner, post_id)
    finally:
        await clear_fault(stack, dropped)
    assert post["status"] == "published", post
    got = await receiver.wait(path, 2)
    events = {e["type"]: e["data"] for e in (verified(hook["secret"], g) for g in got)}
    assert set(events) == {"post.in_doubt", "post.published"}
    doubt = events["post.in_doubt"]
    [target] = post["targets"]
    assert doubt["post_id"] == post_id and doubt["target_id"] == target["id"]
    assert doubt["platform"] == "x" and doubt["reason"]
    assert events["post.published"]["platform_post_id"] == target["platform_post_id"]


async def test_a_refresh_that_ends_is_told_completed(
    api: httpx.AsyncClient, db: Database, workers: WorkerSets, receiver: Receiver
) -> None:
    owner, ws = await owner_with_workspace(api)
    ids = await connected(api, db, owner, ws, "x")
    fetch = workers("hooked-sync")
    await ingested(db, ids, drain=fetch.drain)
    path = receiver.path()
    hook = await register(api, owner, ws, receiver.url + path, ["sync.completed"])

    answer = await api.post(f"/api/v1/analytics/refresh/{ids[0]}", headers=owner.headers, json={})
    assert answer.status_code == 202, answer.text
    sync_id, total = answer.json()["sync_id"], answer.json()["total_posts"]
    assert total > 0

    async def told() -> list | None:
        await fetch.drain()  # as running workers would
        return receiver.got[path] or None

    [got] = await until(told, "sync.completed delivered")
    event = verified(hook["secret"], got)
    assert event["type"] == "sync.completed"
    data = event["data"]
    assert data["sync_id"] == sync_id and data["workspace_id"] == ws
    assert data["account_id"] == str(ids[0])
    assert data["status"] == "completed" and data["synced"] == data["total_posts"] == total


async def test_a_grant_only_a_person_can_renew_is_warned_of_once(
    api: httpx.AsyncClient, stack: Stack, infra: Infra, receiver: Receiver
) -> None:
    """LinkedIn gives most apps no refresh token: its 60-day access token is the grant."""
    owner, ws = await owner_with_workspace(api)
    accounts = await connect_account(api, owner, ws, "linkedin", f"li{uuid.uuid4().hex[:6]}")
    path = receiver.path()
    hook = await register(api, owner, ws, receiver.url + path, ["account.token_expiring"])
    database = Database(infra.service_url("accounts"), pool_size=2)

    async def read(sql: str) -> list[Any]:
        async with database.transaction() as session:
            ids = [str(a["id"]) for a in accounts]
            return list(await session.execute(text(sql), {"ids": ids}))

    async def warnings() -> int:
        [(count,)] = await read(
            "SELECT count(*) FROM accounts.outbox WHERE topic = 'account.token_expiring'"
            " AND key = ANY(CAST(:ids AS text[]))"
        )
        return int(count)

    async def turn(at: datetime) -> None:
        app = create_accounts(stack.accounts, background=False, clock=lambda: at)
        ctx: AccountsContext = app.state.accounts
        try:
            await warn_expiring_grants(ctx)
        finally:
            await ctx.db.dispose()

    try:
        ends = {
            str(r.id): r.token_expires_at
            for r in await read(
                "SELECT id, token_expires_at FROM accounts.accounts"
                " WHERE id = ANY(CAST(:ids AS uuid[])) AND refresh_token_enc IS NULL"
            )
        }
        assert ends and all(ends.values()) and len(ends) == len(accounts)
        # Eight days before the first end: not yet (the warning comes seven days ahead).
        await turn(min(ends.values()) - timedelta(days=8))
        assert await warnings() == 0
        # Six days before the last end: each account once, however many turns run.
        at = max(ends.values()) - timedelta(days=6)
        assert at < min(ends.values())
        await turn(at)
        await turn(at)
        assert await warnings() == len(ends)
    finally:
        await database.dispose()

    got = await receiver.wait(path, len(ends))
    told = {}
    for delivery in got:
        event = verified(hook["secret"], delivery)
        assert event["type"] == "account.token_expiring"
        told[event["data"]["account_id"]] = event["data"]
    assert set(told) == set(ends)
    for account_id, data in told.items():
        assert datetime.fromisoformat(data["expires_at"]) == ends[account_id]
        assert data["platform"] == "linkedin" and data["workspace_id"] == ws
