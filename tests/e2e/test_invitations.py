"""Workspace membership by invitation: only whoever signs in with the invited email can join,
and inviting tells nothing about whether an email is registered."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import pytest

from socialseed.testing import Infra
from tests.conftest import (
    Stack,
    add_member,
    invite,
    make_user,
    owner_with_workspace,
    refresh,
)


async def accept(
    api: httpx.AsyncClient, invitation_id: object, headers: dict[str, str]
) -> httpx.Response:
    return await api.post(f"/api/v1/invitations/{invitation_id}/accept", headers=headers)


@pytest.fixture
def later(stack: Stack) -> Iterator[list[timedelta]]:
    """Move the auth service's clock: append to the list to jump ahead; restored afterwards."""
    shift: list[timedelta] = []
    stack.auth.clock = lambda: datetime.now(UTC) + sum(shift, timedelta())
    try:
        yield shift
    finally:
        stack.auth.clock = lambda: datetime.now(UTC)


async def test_invite_see_in_me_accept_then_read_workspace(
    infra: Infra, api: httpx.AsyncClient
) -> None:
    owner, ws = await owner_with_workspace(api)
    bob = await make_user(api, name="Bob")
    assert (await api.get(f"/api/v1/workspaces/{ws}", headers=bob.headers)).status_code == 404

    # The email as typed by the inviter, normalised like registration does.
    r = await invite(api, owner, ws, f"  {bob.email.upper()} ", "editor")
    assert r.status_code == 201, r.text
    invitation = r.json()
    assert invitation["email"] == bob.email and invitation["role"] == "editor"
    listed = (await api.get(f"/api/v1/workspaces/{ws}/invitations", headers=owner.headers)).json()
    assert [i["id"] for i in listed] == [invitation["id"]]

    me = (await api.get("/api/v1/auth/me", headers=bob.headers)).json()
    assert me["invitations"] == [
        {
            "id": invitation["id"],
            "workspace": {"id": ws, "name": "Acme"},
            "role": "editor",
            "expires_at": invitation["expires_at"],
        }
    ]
    r = await accept(api, invitation["id"], bob.headers)
    assert r.status_code == 201, r.text
    assert r.json()["user_id"] == bob.id and r.json()["role"] == "editor"

    bob = await refresh(api, bob)
    got = await api.get(f"/api/v1/workspaces/{ws}", headers=bob.headers)
    assert got.status_code == 200 and got.json()["role"] == "editor"
    me = (await api.get("/api/v1/auth/me", headers=bob.headers)).json()
    assert me["invitations"] == [] and [w["id"] for w in me["workspaces"]] == [ws]
    assert (
        await api.get(f"/api/v1/workspaces/{ws}/invitations", headers=owner.headers)
    ).json() == []
    # Used: a second accept is a 404 like any other closed invitation.
    r = await accept(api, invitation["id"], bob.headers)
    assert (r.status_code, r.json()["error"]) == (404, "InvitationNotFound")

    conn = await asyncpg.connect(infra.service_url("auth").replace("+asyncpg", ""))
    try:
        rows = await conn.fetch(
            "SELECT payload::text FROM auth.outbox WHERE topic = 'workspace.member_changed'"
        )
    finally:
        await conn.close()
    # The same event add-member emitted: Bob added as editor, changed by the inviter.
    payloads = [json.loads(r[0]) for r in rows if bob.id in r[0]]
    assert len(payloads) == 1
    text = json.dumps(payloads[0])
    assert '"added"' in text and '"editor"' in text and owner.id in text


async def test_unknown_and_registered_emails_get_the_same_answer(api: httpx.AsyncClient) -> None:
    owner, ws = await owner_with_workspace(api)
    registered = await make_user(api, name="Known")
    member = await make_user(api, name="Member")
    await add_member(api, owner, ws, member, "viewer")
    answers = [
        await invite(api, owner, ws, email, "viewer")
        for email in (f"ghost-{uuid.uuid4().hex[:8]}@example.com", registered.email, member.email)
    ]
    assert [r.status_code for r in answers] == [201, 201, 201]
    assert len({tuple(sorted(r.json())) for r in answers}) == 1
    assert sorted(answers[0].json()) == ["email", "expires_at", "id", "role"]
    assert len({tuple(sorted(r.headers)) for r in answers}) == 1
    # The existing member finds out only when accepting.
    r = await accept(api, answers[2].json()["id"], member.headers)
    assert (r.status_code, r.json()["error"]) == (409, "AlreadyMember")


async def test_only_the_invitee_can_accept_or_decline(api: httpx.AsyncClient) -> None:
    owner, ws = await owner_with_workspace(api)
    bob, mallory = await make_user(api, name="Bob"), await make_user(api, name="Mallory")
    iid = (await invite(api, owner, ws, bob.email, "admin")).json()["id"]
    assert (await api.get("/api/v1/auth/me", headers=mallory.headers)).json()["invitations"] == []
    for action in ("accept", "decline"):
        r = await api.post(f"/api/v1/invitations/{iid}/{action}", headers=mallory.headers)
        assert (r.status_code, r.json()["error"]) == (404, "InvitationNotFound"), action
    r = await accept(api, uuid.uuid4(), bob.headers)
    assert (r.status_code, r.json()["error"]) == (404, "InvitationNotFound")
    mallory = await refresh(api, mallory)
    assert (await api.get(f"/api/v1/workspaces/{ws}", headers=mallory.headers)).status_code == 404
    assert (await accept(api, iid, bob.headers)).status_code == 201


async def test_expired_invitation_cannot_be_accepted(
    api: httpx.AsyncClient, stack: Stack, later: list[timedelta]
) -> None:
    owner, ws = await owner_with_workspace(api)
    bob = await make_user(api, name="Bob")
    r = await invite(api, owner, ws, bob.email, "viewer")
    expires = datetime.fromisoformat(r.json()["expires_at"])
    assert abs(expires - datetime.now(UTC) - timedelta(days=7)) < timedelta(minutes=1)
    later.append(timedelta(seconds=stack.settings.invitation_ttl + 1))
    r2 = await accept(api, r.json()["id"], bob.headers)
    assert (r2.status_code, r2.json()["error"]) == (404, "InvitationNotFound")
    assert (await api.get("/api/v1/auth/me", headers=bob.headers)).json()["invitations"] == []
    assert (
        await api.get(f"/api/v1/workspaces/{ws}/invitations", headers=owner.headers)
    ).json() == []


async def test_revoked_invitation_cannot_be_accepted(api: httpx.AsyncClient) -> None:
    owner, ws = await owner_with_workspace(api)
    bob = await make_user(api, name="Bob")
    iid = (await invite(api, owner, ws, bob.email, "viewer")).json()["id"]
    r = await api.delete(f"/api/v1/workspaces/{ws}/invitations/{iid}", headers=owner.headers)
    assert r.status_code == 204
    r = await accept(api, iid, bob.headers)
    assert (r.status_code, r.json()["error"]) == (404, "InvitationNotFound")
    r = await api.delete(f"/api/v1/workspaces/{ws}/invitations/{iid}", headers=owner.headers)
    assert (r.status_code, r.json()["error"]) == (404, "InvitationNotFound")


async def test_reinvite_replaces_and_decline_closes(api: httpx.AsyncClient) -> None:
    owner, ws = await owner_with_workspace(api)
    bob = await make_user(api, name="Bob")
    first = (await invite(api, owner, ws, bob.email, "viewer")).json()["id"]
    second = (await invite(api, owner, ws, bob.email, "editor")).json()["id"]
    assert first != second
    listed = (await api.get(f"/api/v1/workspaces/{ws}/invitations", headers=owner.headers)).json()
    assert [(i["id"], i["role"]) for i in listed] == [(second, "editor")]
    r = await accept(api, first, bob.headers)
    assert (r.status_code, r.json()["error"]) == (404, "InvitationNotFound")
    r = await api.post(f"/api/v1/invitations/{second}/decline", headers=bob.headers)
    assert r.status_code == 204
    r = await accept(api, second, bob.headers)
    assert (r.status_code, r.json()["error"]) == (404, "InvitationNotFound")


async def test_admin_cannot_invite_an_owner_and_lower_roles_cannot_invite(
    api: httpx.AsyncClient,
) -> None:
    owner, ws = await owner_with_workspace(api)
    admin, editor = await make_user(api, name="Admin"), await make_user(api, name="Editor")
    await add_member(api, owner, ws, admin, "admin")
    await add_member(api, owner, ws, editor, "editor")
    r = await invite(api, admin, ws, "someone@example.com", "owner")
    assert (r.status_code, r.json()["error"]) == (403, "InsufficientRole")
    assert (await invite(api, admin, ws, "someone@example.com", "editor")).status_code == 201
    r = await invite(api, editor, ws, "someone@example.com", "viewer")
    assert (r.status_code, r.json()["error"]) == (403, "InsufficientRole")
    r = await api.get(f"/api/v1/workspaces/{ws}/invitations", headers=editor.headers)
    assert (r.status_code, r.json()["error"]) == (403, "InsufficientRole")
    # The old route is gone.
    r = await api.post(
        f"/api/v1/workspaces/{ws}/members",
        json={"email": editor.email, "role": "owner"},
        headers=owner.headers,
    )
    assert r.status_code == 405
