"""Membership changes reach accounts: a removed member's still-valid access token stops working
there once auth's ``workspace.member_changed`` event is recorded, while a fresh token carries
fresh roles."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
from sqlalchemy import select

from accounts.models import member_changes
from socialseed.contracts import WorkspaceMemberChanged
from socialseed.db import Database
from socialseed.membership import narrow_roles, record_member_change
from socialseed.testing import Infra
from tests.conftest import Stack, User, add_member, make_user, owner_with_workspace, refresh


async def remove_member(
    api: httpx.AsyncClient, owner: User, workspace_id: str, member: User
) -> None:
    r = await api.delete(
        f"/api/v1/workspaces/{workspace_id}/members/{member.id}", headers=owner.headers
    )
    assert r.status_code == 204, r.text


async def change_role(
    api: httpx.AsyncClient, owner: User, workspace_id: str, member: User, role: str
) -> None:
    r = await api.patch(
        f"/api/v1/workspaces/{workspace_id}/members/{member.id}",
        json={"role": role},
        headers=owner.headers,
    )
    assert r.status_code == 200, r.text


async def wait_recorded(
    infra: Infra,
    workspace_id: str,
    user: User,
    role: str | None,
    *,
    deadline: float = 30.0,
    service: str = "accounts",
) -> None:
    """Poll ``service``'s database until it has recorded ``user``'s role in the workspace as
    ``role`` (None: removed)."""
    conn = await asyncpg.connect(infra.service_url(service).replace("+asyncpg", ""))
    try:
        end = time.monotonic() + deadline
        while True:
            row = await conn.fetchrow(
                f"SELECT role FROM {service}.member_changes "
                "WHERE workspace_id = $1 AND user_id = $2",
                uuid.UUID(workspace_id),
                uuid.UUID(user.id),
            )
            if row is not None and row["role"] == role:
                return
            assert time.monotonic() < end, f"{service} never recorded role {role!r}: {row}"
            await asyncio.sleep(0.1)
    finally:
        await conn.close()


async def list_accounts(api: httpx.AsyncClient, user: User, workspace_id: str) -> int:
    r = await api.get(
        "/api/v1/accounts", params={"workspace_id": workspace_id}, headers=user.headers
    )
    assert r.status_code in (200, 403, 404), r.text
    return r.status_code


async def start_connect(api: httpx.AsyncClient, user: User, workspace_id: str) -> int:
    """Starting an OAuth connect needs the editor role."""
    r = await api.post(
        "/api/v1/accounts/connect",
        json={"workspace_id": workspace_id, "platform": "x"},
        headers=user.headers,
    )
    assert r.status_code in (201, 403, 404), r.text
    return r.status_code


async def test_removed_member_loses_accounts_access_before_the_token_expires(
    stack: Stack, infra: Infra, api: httpx.AsyncClient
) -> None:
    owner, ws = await owner_with_workspace(api)
    editor = await make_user(api, name="Eddie")
    await add_member(api, owner, ws, editor, "editor")
    await refresh(api, editor)
    assert await list_accounts(api, editor, ws) == 200
    old_token = editor.access

    await remove_member(api, owner, ws, editor)
    await wait_recorded(infra, ws, editor, None)

    assert await list_accounts(api, editor, ws) == 404  # the old token, still unexpired
    assert editor.access == old_token
    await refresh(api, editor)
    assert await list_accounts(api, editor, ws) == 404  # a fresh token has no such workspace
    assert await list_accounts(api, owner, ws) == 200  # others are untouched


async def test_removed_member_loses_analytics_reads_before_the_token_expires(
    stack: Stack, infra: Infra, api: httpx.AsyncClient
) -> None:
    """Analytics' read routes check membership on their shared read connection
    (``ReadPrincipal``): the same narrowing as every other route."""
    owner, ws = await owner_with_workspace(api)
    viewer = await make_user(api, name="Vera")
    await add_member(api, owner, ws, viewer, "viewer")
    await refresh(api, viewer)

    async def dashboard(user: User) -> int:
        r = await api.get(
            "/api/v1/analytics/dashboard", params={"workspace_id": ws}, headers=user.headers
        )
        assert r.status_code in (200, 404), r.text
        return r.status_code

    assert await dashboard(viewer) == 200
    await remove_member(api, owner, ws, viewer)
    await wait_recorded(infra, ws, viewer, None, service="analytics")
    # The old token, still unexpired: refused once the change's NOTIFY reaches analytics'
    # in-memory copy of the member's changes (milliseconds; polled within a bound).
    end = time.monotonic() + 2.0
    while await dashboard(viewer) != 404:
        assert time.monotonic() < end, "the removed member still reads"
        await asyncio.sleep(0.01)
    assert await dashboard(owner) == 200


async def test_demoted_member_keeps_only_the_lower_role_and_a_re_added_member_works(
    stack: Stack, infra: Infra, api: httpx.AsyncClient
) -> None:
    owner, ws = await owner_with_workspace(api)
    editor = await make_user(api, name="Dora")
    await add_member(api, owner, ws, editor, "editor")
    await refresh(api, editor)
    assert await start_connect(api, editor, ws) == 201

    await change_role(api, owner, ws, editor, "viewer")
    await wait_recorded(infra, ws, editor, "viewer")
    assert await start_connect(api, editor, ws) == 403  # old token: demoted to viewer
    assert await list_accounts(api, editor, ws) == 200  # ... who may still look

    await remove_member(api, owner, ws, editor)
    await wait_recorded(infra, ws, editor, None)
    assert await list_accounts(api, editor, ws) == 404

    await add_member(api, owner, ws, editor, "editor")
    await wait_recorded(infra, ws, editor, "editor")
    await refresh(api, editor)  # possibly within the same second as the re-add
    assert await start_connect(api, editor, ws) == 201
    assert await list_accounts(api, editor, ws) == 200


async def test_a_late_older_change_never_overwrites_a_newer_one(infra: Infra) -> None:
    db = Database(infra.service_url("accounts"), pool_size=2)
    ws, user, by = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    now = datetime.now(UTC)

    def change(kind: str, role: str | None, at: datetime) -> WorkspaceMemberChanged:
        return WorkspaceMemberChanged(
            workspace_id=ws, user_id=user, change=kind, role=role, changed_by=by, changed_at=at
        )

    try:
        async with db.transaction() as session:
            await record_member_change(session, member_changes, change("removed", None, now))
        async with db.transaction() as session:  # the earlier "added", delivered late
            await record_member_change(
                session, member_changes, change("added", "admin", now - timedelta(seconds=5))
            )
        async with db.transaction() as session:
            row = (
                await session.execute(
                    select(member_changes.c.role, member_changes.c.changed_at).where(
                        member_changes.c.workspace_id == ws
                    )
                )
            ).one()
    finally:
        await db.dispose()
    assert (row.role, row.changed_at) == (None, now)


def test_narrowing_only_lowers_or_drops_roles() -> None:
    a, b, c, d = (uuid.uuid4() for _ in range(4))
    roles = {a: "admin", b: "viewer", c: "editor"}
    narrowed = narrow_roles(roles, {a: "viewer", b: "owner", c: None, d: "owner"})
    assert narrowed == {a: "viewer", b: "viewer"}
