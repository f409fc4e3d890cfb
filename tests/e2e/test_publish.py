"""Publishing through the dispatcher and the workers against the sandbox: once, with the
platform's id and URL; an answer lost after the platform acted is reconciled, never re-posted;
a refused grant fails the target in words."""

from __future__ import annotations

import asyncio
import time

import httpx

from tests.conftest import Stack, User, connect_account, owner_with_workspace


async def publish_now(api: httpx.AsyncClient, user: User, ws: str, account: str, text: str) -> str:
    r = await api.post(
        "/api/v1/posts",
        json={"workspace_id": ws, "text": text, "targets": [{"account_id": account}]},
        headers=user.headers,
    )
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def settled(api: httpx.AsyncClient, user: User, post_id: str, timeout: float = 30) -> dict:
    """The post once it is no longer scheduled or publishing."""
    deadline = time.monotonic() + timeout
    while True:
        r = await api.get(f"/api/v1/posts/{post_id}", headers=user.headers)
        assert r.status_code == 200, r.text
        post = r.json()
        if post["status"] not in ("scheduled", "publishing") or time.monotonic() > deadline:
            return dict(post)
        await asyncio.sleep(0.2)


async def ledger(stack: Stack, account: str) -> list[dict]:
    async with httpx.AsyncClient(base_url=stack.sandbox_url) as sandbox:
        r = await sandbox.get("/_sandbox/ledger", params={"account": account})
        assert r.status_code == 200, r.text
        return list(r.json()["entries"])


async def fault(stack: Stack, **spec: object) -> int:
    async with httpx.AsyncClient(base_url=stack.sandbox_url) as sandbox:
        r = await sandbox.post("/_sandbox/faults", json=spec)
        assert r.status_code == 200, r.text
        return int(r.json()["id"])


async def clear_fault(stack: Stack, fault_id: int) -> None:
    async with httpx.AsyncClient(base_url=stack.sandbox_url) as sandbox:
        await sandbox.delete(f"/_sandbox/faults/{fault_id}")


async def test_a_post_is_published_once_with_its_id_and_url(
    api: httpx.AsyncClient, stack: Stack
) -> None:
    owner, ws = await owner_with_workspace(api)
    [account] = await connect_account(api, owner, ws, "x", "pub-once")
    post = await settled(api, owner, await publish_now(api, owner, ws, str(account["id"]), "hi"))
    assert post["status"] == "published", post
    [target] = post["targets"]
    assert target["status"] == "published" and target["error"] is None
    entries = await ledger(stack, str(account["platform_user_id"]))
    assert [(e["platform_post_id"], e["text"]) for e in entries] == [
        (target["platform_post_id"], "hi")
    ]
    assert target["url"] == f"https://x.com/pub-once/status/{target['platform_post_id']}"


async def test_an_answer_lost_after_the_platform_acted_is_reconciled(
    api: httpx.AsyncClient, stack: Stack
) -> None:
    owner, ws = await owner_with_workspace(api)
    [account] = await connect_account(api, owner, ws, "x", "pub-dropped")
    dropped = await fault(
        stack, platform="x", endpoint="/2/tweets", method="POST", drop_after_accept=True, count=1
    )
    try:
        post_id = await publish_now(api, owner, ws, str(account["id"]), "said once")
        post = await settled(api, owner, post_id)
    finally:
        await clear_fault(stack, dropped)
    assert post["status"] == "published", post
    [target] = post["targets"]
    assert target["attempts"] >= 2  # the dropped one, then the reconciliation
    entries = await ledger(stack, str(account["platform_user_id"]))
    assert [e["platform_post_id"] for e in entries] == [target["platform_post_id"]]


async def test_a_revoked_grant_fails_the_target_in_words(
    api: httpx.AsyncClient, stack: Stack
) -> None:
    owner, ws = await owner_with_workspace(api)
    [account] = await connect_account(api, owner, ws, "x", "pub-revoked")
    await fault(stack, platform="x", revoke_tokens=True, account=str(account["platform_user_id"]))
    post = await settled(api, owner, await publish_now(api, owner, ws, str(account["id"]), "no"))
    assert post["status"] == "failed", post
    [target] = post["targets"]
    assert "Reconnect" in target["error"]
    assert await ledger(stack, str(account["platform_user_id"])) == []
