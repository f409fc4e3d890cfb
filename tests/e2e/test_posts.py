"""Composing posts through the gateway: every check before anything is stored, wall-clock
schedules across DST, approval by role, edits and cancels, the calendar, and tenancy."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import asyncpg
import httpx

from publisher.app import create_app as create_publisher
from socialseed.testing import Infra, free_port, serve
from tests.conftest import (
    Stack,
    User,
    add_member,
    connect_account,
    make_user,
    make_workspace,
    own_publisher_database,
    owner_with_workspace,
    publisher_settings,
    refresh,
)
from tests.e2e.test_media import mp4, upload


async def x_account(api: httpx.AsyncClient, user: User, ws: str, name: str = "ada") -> str:
    accounts = await connect_account(api, user, ws, "x", name)
    return str(accounts[0]["id"])


async def create(api: httpx.AsyncClient, user: User, **body: object) -> httpx.Response:
    return await api.post("/api/v1/posts", json=body, headers=user.headers)


async def calendar(api: httpx.AsyncClient, user: User, ws: str, **query: str) -> list[dict]:
    r = await api.get("/api/v1/posts", params={"workspace_id": ws, **query}, headers=user.headers)
    assert r.status_code == 200, r.text
    return list(r.json()["items"])


async def scheduled(
    api: httpx.AsyncClient, user: User, ws: str, account: str, text: str, **fields: object
) -> dict:
    """A post of ``text`` to one account, due in two days unless told otherwise."""
    body = {"scheduled_at": later(), **fields}
    r = await create(
        api, user, workspace_id=ws, text=text, targets=[{"account_id": account}], **body
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


def later(days: int = 2) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


async def test_a_post_to_one_account_is_scheduled(api: httpx.AsyncClient, stack: Stack) -> None:
    owner, ws = await owner_with_workspace(api)
    account = await x_account(api, owner, ws)
    r = await create(
        api,
        owner,
        workspace_id=ws,
        text="Hello from SocialSeed",
        targets=[{"account_id": account, "options": {"reply_settings": "following"}}],
        scheduled_at=later(),
    )
    assert r.status_code == 201, r.text
    post = r.json()
    assert post["status"] == "scheduled" and post["approval"] == "not_required"
    assert post["author_id"] == owner.id
    [target] = post["targets"]
    assert target["platform"] == "x" and target["status"] == "scheduled"
    assert target["text"] == "Hello from SocialSeed"
    # options come back typed: tagged with their platform, defaults filled in
    assert target["options"] == {"platform": "x", "reply_settings": "following", "thread": []}
    r = await api.get(f"/api/v1/posts/{post['id']}", headers=owner.headers)
    assert r.status_code == 200 and r.json() == post


async def test_options_are_typed_per_platform_in_the_api(
    api: httpx.AsyncClient, stack: Stack
) -> None:
    """The OpenAPI document gives one options schema per platform, told apart by `platform`
    (a discriminated oneOf, in and out); options for another platform than the account's are
    that target's named 400, nothing stored; untyped options (older clients) still work."""
    r = await api.get("/api/v1/openapi.json")
    schemas = r.json()["components"]["schemas"]
    names = {"x": "X", "tiktok": "TikTok", "instagram": "Instagram", "facebook": "Facebook",
             "linkedin": "LinkedIn", "youtube": "YouTube"}  # fmt: skip
    mapping = {p: f"#/components/schemas/{n}Options" for p, n in names.items()}
    for model in ("TargetIn", "TargetOut"):
        options = schemas[model]["properties"]["options"]
        assert options["discriminator"] == {"propertyName": "platform", "mapping": mapping}
        assert {o["$ref"] for o in options["oneOf"]} == set(mapping.values())
    for platform, name in names.items():
        schema = schemas[f"{name}Options"]
        assert schema["properties"]["platform"]["const"] == platform
        assert "platform" in schema["required"] and schema["additionalProperties"] is False
    assert "privacy_level" in schemas["TikTokOptions"]["required"]

    owner, ws = await owner_with_workspace(api)
    account = await x_account(api, owner, ws, "typed")
    body = {"workspace_id": ws, "text": "typed", "scheduled_at": later()}
    tiktok_options = {"platform": "tiktok", "privacy_level": "SELF_ONLY"}
    r = await create(api, owner, **body, targets=[{"account_id": account, "options": tiktok_options}])  # fmt: skip
    assert r.status_code == 400, r.text
    assert r.json()["error"] == "InvalidTargets"
    [problem] = r.json()["targets"]
    assert (problem["account_id"], problem["error"]) == (account, "OptionsPlatformMismatch")
    assert "These options are for TikTok; this account is on X." in problem["detail"]
    assert await calendar(api, owner, ws) == []
    r = await create(api, owner, **body, targets=[{"account_id": account, "options": 7}])
    assert r.status_code == 422, r.text  # not an object at all: a malformed body
    for options in ({"platform": "x", "thread": ["2/2"]}, {"thread": ["2/2"]}):
        r = await create(api, owner, **body, targets=[{"account_id": account, "options": options}])  # fmt: skip
        assert r.status_code == 201, r.text
        assert r.json()["targets"][0]["options"]["thread"] == ["2/2"]
        assert r.json()["targets"][0]["options"]["platform"] == "x"


async def test_every_broken_target_is_named_and_nothing_is_stored(
    api: httpx.AsyncClient, stack: Stack
) -> None:
    owner, ws = await owner_with_workspace(api)
    x = await x_account(api, owner, ws)
    [youtube] = await connect_account(api, owner, ws, "youtube", "ada-yt")
    other, other_ws = await owner_with_workspace(api, "Other")
    foreign = await x_account(api, other, other_ws, "bob")
    r = await create(
        api,
        owner,
        workspace_id=ws,
        text="a" * 260 + " https://example.com/" + "b" * 10,  # 260 + 1 + 23 as X counts
        targets=[
            {"account_id": x},
            {"account_id": str(youtube["id"])},
            {"account_id": foreign},
            {"account_id": x},
        ],
        scheduled_at=later(),
    )
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["error"] == "InvalidTargets"
    errors = [(t["account_id"], t["error"]) for t in body["targets"]]
    assert errors == [
        (x, "PlatformRules"),
        (str(youtube["id"]), "PlatformRules"),
        (foreign, "AccountNotFound"),
        (x, "DuplicateTarget"),
    ]
    assert "284 characters as X counts them" in body["targets"][0]["detail"]
    assert "title" in body["targets"][1]["detail"]
    assert await calendar(api, owner, ws) == []
    # the composer's preview says the same, storing nothing either
    r = await api.post(
        "/api/v1/posts/validate",
        json={"workspace_id": ws, "text": "ok", "targets": [{"account_id": foreign}]},
        headers=owner.headers,
    )
    assert r.status_code == 200, r.text
    assert r.json()["valid"] is False
    assert r.json()["targets"][0]["error"] == "AccountNotFound"
    assert await calendar(api, owner, ws) == []


async def test_wall_times_across_dst(api: httpx.AsyncClient, stack: Stack) -> None:
    owner, ws = await owner_with_workspace(api)
    account = await x_account(api, owner, ws)
    # 2027-03-28: Paris skips 02:00-03:00
    r = await create(
        api,
        owner,
        workspace_id=ws,
        text="spring",
        targets=[{"account_id": account}],
        scheduled_at="2027-03-28T02:30:00",
        timezone="Europe/Paris",
    )
    assert r.status_code == 400, r.text
    assert r.json()["error"] == "NonexistentLocalTime"
    assert "01:59" in r.json()["detail"] and "03:00" in r.json()["detail"]
    # 2027-10-31: Paris repeats 02:00-03:00; the earlier instant (still CEST, UTC+2) is meant
    r = await create(
        api,
        owner,
        workspace_id=ws,
        text="autumn",
        targets=[{"account_id": account}],
        scheduled_at="2027-10-31T02:30:00",
        timezone="Europe/Paris",
    )
    assert r.status_code == 201, r.text
    assert r.json()["scheduled_at"].startswith("2027-10-31T00:30:00")
    assert r.json()["timezone"] == "Europe/Paris"
    # an offset makes it an instant: the later 02:30 (CET, UTC+1)
    r = await create(
        api,
        owner,
        workspace_id=ws,
        text="autumn again",
        targets=[{"account_id": account}],
        scheduled_at="2027-10-31T02:30:00+01:00",
        timezone="Europe/Paris",
    )
    assert r.status_code == 201, r.text
    assert r.json()["scheduled_at"].startswith("2027-10-31T01:30:00")


async def test_bad_times_are_named(api: httpx.AsyncClient, stack: Stack) -> None:
    owner, ws = await owner_with_workspace(api)
    account = await x_account(api, owner, ws)
    cases = [
        ({"scheduled_at": (datetime.now(UTC) - timedelta(hours=1)).isoformat()}, "ScheduledInPast"),
        ({"scheduled_at": later(400)}, "ScheduledTooFar"),
        ({"scheduled_at": later(), "timezone": "Mars/Olympus"}, "InvalidTimezone"),
    ]
    for fields, error in cases:
        r = await create(
            api, owner, workspace_id=ws, text="t", targets=[{"account_id": account}], **fields
        )
        assert (r.status_code, r.json()["error"]) == (400, error), r.text
    assert await calendar(api, owner, ws) == []


async def test_the_workspace_zone_is_the_default(api: httpx.AsyncClient, stack: Stack) -> None:
    owner = await make_user(api)
    ws = str((await make_workspace(api, owner, timezone="America/New_York"))["id"])
    owner = await refresh(api, owner)
    account = await x_account(api, owner, ws)
    r = await create(
        api,
        owner,
        workspace_id=ws,
        text="nine in New York",
        targets=[{"account_id": account}],
        scheduled_at="2027-01-15T09:00:00",
    )
    assert r.status_code == 201, r.text
    assert r.json()["timezone"] == "America/New_York"
    assert r.json()["scheduled_at"].startswith("2027-01-15T14:00:00")


async def test_approval_by_role(api: httpx.AsyncClient, stack: Stack) -> None:
    owner = await make_user(api)
    ws = str((await make_workspace(api, owner, require_approval=True))["id"])
    owner = await refresh(api, owner)
    editor = await add_member(api, owner, ws, await make_user(api, name="Ed"), "editor")
    admin = await add_member(api, owner, ws, await make_user(api, name="Al"), "admin")
    account = await x_account(api, owner, ws)
    post = await scheduled(api, editor, ws, account, "draft")
    assert post["status"] == "pending_approval"
    # an editor cannot approve (not even their own); an admin's post needs no approval
    r = await api.post(f"/api/v1/posts/{post['id']}/approve", headers=editor.headers)
    assert r.status_code == 403, r.text
    own = await scheduled(api, admin, ws, account, "mine")
    assert own["status"] == "scheduled"
    # rejected with a reason the author sees
    r = await api.post(
        f"/api/v1/posts/{post['id']}/reject",
        json={"reason": "Tone it down"},
        headers=admin.headers,
    )
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["rejection_reason"]) == ("rejected", "Tone it down")
    r = await api.get(f"/api/v1/posts/{post['id']}", headers=editor.headers)
    assert r.json()["rejection_reason"] == "Tone it down"
    # the author's edit goes back for approval; then an admin approves it
    r = await api.patch(
        f"/api/v1/posts/{post['id']}", json={"text": "toned down"}, headers=editor.headers
    )
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["rejection_reason"]) == ("pending_approval", None)
    r = await api.post(f"/api/v1/posts/{post['id']}/approve", headers=admin.headers)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "scheduled" and r.json()["approval"] == "approved"
    r = await api.post(f"/api/v1/posts/{post['id']}/approve", headers=admin.headers)
    assert (r.status_code, r.json()["error"]) == (409, "NotPendingApproval")
    # an approved post edited by its editor needs approval again
    r = await api.patch(
        f"/api/v1/posts/{post['id']}", json={"text": "changed my mind"}, headers=editor.headers
    )
    assert r.json()["status"] == "pending_approval"
    # viewers compose nothing
    viewer = await add_member(api, owner, ws, await make_user(api, name="Vi"), "viewer")
    r = await create(api, viewer, workspace_id=ws, text="x", targets=[{"account_id": account}])
    assert r.status_code == 403, r.text


async def test_cancel_then_no_more_changes(api: httpx.AsyncClient, stack: Stack) -> None:
    owner, ws = await owner_with_workspace(api)
    account = await x_account(api, owner, ws)
    post = await scheduled(api, owner, ws, account, "soon")
    r = await api.delete(f"/api/v1/posts/{post['id']}", headers=owner.headers)
    assert r.status_code == 204, r.text
    r = await api.get(f"/api/v1/posts/{post['id']}", headers=owner.headers)
    assert r.json()["status"] == "cancelled"
    assert [t["status"] for t in r.json()["targets"]] == ["cancelled"]
    r = await api.patch(f"/api/v1/posts/{post['id']}", json={"text": "x"}, headers=owner.headers)
    assert (r.status_code, r.json()["error"]) == (409, "AlreadyPublishing")


async def test_another_workspace_sees_nothing(api: httpx.AsyncClient, stack: Stack) -> None:
    owner, ws = await owner_with_workspace(api)
    account = await x_account(api, owner, ws)
    post = await scheduled(api, owner, ws, account, "ours")
    stranger, _ = await owner_with_workspace(api, "Stranger")
    for method, path, body in [
        ("GET", f"/api/v1/posts/{post['id']}", None),
        ("PATCH", f"/api/v1/posts/{post['id']}", {"text": "theirs"}),
        ("DELETE", f"/api/v1/posts/{post['id']}", None),
        ("POST", f"/api/v1/posts/{post['id']}/approve", None),
    ]:
        r = await api.request(method, path, json=body, headers=stranger.headers)
        assert (r.status_code, r.json()["error"]) == (404, "PostNotFound"), (method, r.text)
    r = await api.get("/api/v1/posts", params={"workspace_id": ws}, headers=stranger.headers)
    assert r.status_code == 404, r.text
    r = await api.get(f"/api/v1/posts/{post['id']}", headers=owner.headers)
    assert r.json()["text"] == "ours"


async def test_the_calendar_pages_by_time(api: httpx.AsyncClient, stack: Stack) -> None:
    owner, ws = await owner_with_workspace(api)
    account = await x_account(api, owner, ws)
    base = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)
    for i in range(5):
        at = (base + timedelta(hours=4 - i)).isoformat()
        await scheduled(api, owner, ws, account, f"post {i}", scheduled_at=at)
    seen, cursor = [], None
    while True:
        params = {"workspace_id": ws, "limit": "2", **({"cursor": cursor} if cursor else {})}
        r = await api.get("/api/v1/posts", params=params, headers=owner.headers)
        assert r.status_code == 200, r.text
        seen += [p["text"] for p in r.json()["items"]]
        cursor = r.json()["next_cursor"]
        if cursor is None:
            break
    assert seen == ["post 4", "post 3", "post 2", "post 1", "post 0"]
    window = await calendar(
        api,
        owner,
        ws,
        **{
            "from": (base + timedelta(hours=1)).isoformat(),
            "to": (base + timedelta(hours=3)).isoformat(),
        },
    )
    assert [p["text"] for p in window] == ["post 3", "post 2"]
    r = await api.get(
        "/api/v1/posts",
        params={"workspace_id": ws, "cursor": "bm90LWEtY3Vyc29y"},
        headers=owner.headers,
    )
    assert (r.status_code, r.json()["error"]) == (400, "InvalidCursor")


async def test_the_calendar_chips_are_the_posts_in_short(
    api: httpx.AsyncClient, stack: Stack
) -> None:
    owner, ws = await owner_with_workspace(api)
    x = await x_account(api, owner, ws)
    [linkedin] = await connect_account(api, owner, ws, "linkedin", "ada")
    base = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)
    long_text = "é" * 150
    r = await create(
        api,
        owner,
        workspace_id=ws,
        text=long_text,
        scheduled_at=base.isoformat(),
        targets=[{"account_id": x}, {"account_id": str(linkedin["id"])}],
    )
    assert r.status_code == 201, r.text
    both = r.json()
    for i in range(1, 4):
        at = (base + timedelta(hours=i)).isoformat()
        await scheduled(api, owner, ws, x, f"post {i}", scheduled_at=at)

    full = await calendar(api, owner, ws)
    seen, cursor, pages = [], None, 0
    while True:
        params = {"workspace_id": ws, "limit": "3", **({"cursor": cursor} if cursor else {})}
        r = await api.get("/api/v1/posts/calendar", params=params, headers=owner.headers)
        assert r.status_code == 200, r.text
        seen += r.json()["items"]
        cursor, pages = r.json()["next_cursor"], pages + 1
        if cursor is None:
            break
    assert pages == 2
    assert [c["id"] for c in seen] == [p["id"] for p in full]
    chip = seen[0]
    assert chip == {
        "id": both["id"],
        "status": "scheduled",
        "scheduled_at": both["scheduled_at"],
        "timezone": both["timezone"],
        "text": "é" * 100,
        "platforms": ["linkedin", "x"],
    }
    r = await api.get(
        "/api/v1/posts/calendar",
        params={"workspace_id": ws, "account_id": str(linkedin["id"])},
        headers=owner.headers,
    )
    assert [c["id"] for c in r.json()["items"]] == [both["id"]]
    window = {
        "workspace_id": ws,
        "from": (base + timedelta(hours=1)).isoformat(),
        "to": (base + timedelta(hours=3)).isoformat(),
    }
    r = await api.get("/api/v1/posts/calendar", params=window, headers=owner.headers)
    assert [c["text"] for c in r.json()["items"]] == ["post 1", "post 2"]

    stranger, _ = await owner_with_workspace(api, "Stranger")
    r = await api.get(
        "/api/v1/posts/calendar", params={"workspace_id": ws}, headers=stranger.headers
    )
    assert (r.status_code, r.json()["error"]) == (404, "WorkspaceNotFound")
    r = await api.get(
        "/api/v1/posts/calendar",
        params={"workspace_id": ws, "cursor": "bm90LWEtY3Vyc29y"},
        headers=owner.headers,
    )
    assert (r.status_code, r.json()["error"]) == (400, "InvalidCursor")


async def test_disconnecting_an_account_cancels_its_scheduled_targets(
    api: httpx.AsyncClient, stack: Stack
) -> None:
    owner, ws = await owner_with_workspace(api)
    account = await x_account(api, owner, ws)
    post = await scheduled(api, owner, ws, account, "later")
    r = await api.delete(f"/api/v1/accounts/{account}", headers=owner.headers)
    assert r.status_code == 204, r.text
    deadline = time.monotonic() + 20
    while True:  # account.disconnected travels through Kafka
        target = (await api.get(f"/api/v1/posts/{post['id']}", headers=owner.headers)).json()[
            "targets"
        ][0]
        if target["status"] == "cancelled" or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.2)
    assert target["status"] == "cancelled"
    assert "disconnected" in target["error"]
    r = await create(api, owner, workspace_id=ws, text="x", targets=[{"account_id": account}])
    assert r.json()["targets"][0]["error"] == "AccountNotActive", r.text


async def test_an_account_at_its_publishing_cap_is_named_and_the_others_pass(
    api: httpx.AsyncClient, stack: Stack
) -> None:
    """X takes 100 posts per account in 15 minutes: the 101st is refused for that account
    alone, in the same answer as a target that is fine."""
    owner, ws = await owner_with_workspace(api)
    full, free = await x_account(api, owner, ws, "capped"), await x_account(api, owner, ws, "free")
    due = later()
    for batch in range(10):
        await asyncio.gather(
            *(
                scheduled(api, owner, ws, full, f"post {batch * 10 + n}", scheduled_at=due)
                for n in range(10)
            )
        )
    r = await create(
        api,
        owner,
        workspace_id=ws,
        text="one too many",
        targets=[{"account_id": full}, {"account_id": free}],
        scheduled_at=due,
    )
    assert r.status_code == 400, r.text
    assert [(t["account_id"], t["error"]) for t in r.json()["targets"]] == [
        (full, "PublishingCapReached")
    ]
    assert "100 are already planned" in r.json()["targets"][0]["detail"]


async def target_due_at(infra: Infra, post_id: str) -> list[datetime | None]:
    conn = await asyncpg.connect(infra.service_url("publisher").replace("+asyncpg", ""))
    try:
        rows = await conn.fetch(
            "SELECT due_at FROM publisher.targets WHERE post_id = $1 ORDER BY position",
            uuid.UUID(post_id),
        )
    finally:
        await conn.close()
    return [r["due_at"] for r in rows]


async def test_a_time_zone_edit_keeps_the_wall_time(
    api: httpx.AsyncClient, stack: Stack, infra: Infra
) -> None:
    """Changing only the zone of a post 40 days ahead keeps its wall time (09:00 in Paris
    becomes 09:00 in New York) and moves the instant, and the target's due time with it; it
    never makes the post due now. Only an explicit null time publishes now."""
    owner, ws = await owner_with_workspace(api)
    account = await x_account(api, owner, ws)
    day = (datetime.now(UTC) + timedelta(days=40)).date()
    wall = datetime(day.year, day.month, day.day, 9, 0)
    post = await scheduled(
        api, owner, ws, account, "nine", scheduled_at=wall.isoformat(), timezone="Europe/Paris"
    )
    paris = wall.replace(tzinfo=ZoneInfo("Europe/Paris")).astimezone(UTC)
    assert datetime.fromisoformat(post["scheduled_at"]) == paris
    r = await api.patch(
        f"/api/v1/posts/{post['id']}", json={"timezone": "America/New_York"}, headers=owner.headers
    )
    assert r.status_code == 200, r.text
    new_york = wall.replace(tzinfo=ZoneInfo("America/New_York")).astimezone(UTC)
    edited = r.json()
    assert (edited["timezone"], datetime.fromisoformat(edited["scheduled_at"])) == (
        "America/New_York",
        new_york,
    )
    assert edited["status"] == "scheduled"
    assert [t["status"] for t in edited["targets"]] == ["scheduled"]
    assert await target_due_at(infra, post["id"]) == [new_york]
    # a text edit keeps the instant
    r = await api.patch(
        f"/api/v1/posts/{post['id']}", json={"text": "still nine"}, headers=owner.headers
    )
    assert datetime.fromisoformat(r.json()["scheduled_at"]) == new_york, r.text
    # a wall time the new zone skips is refused, and the post stays as it was
    spring = await scheduled(
        api, owner, ws, account, "spring", scheduled_at="2027-03-14T02:30:00",
        timezone="Europe/Paris",
    )  # fmt: skip
    r = await api.patch(
        f"/api/v1/posts/{spring['id']}",
        json={"timezone": "America/New_York"},
        headers=owner.headers,
    )
    assert (r.status_code, r.json()["error"]) == (400, "NonexistentLocalTime"), r.text
    r = await api.get(f"/api/v1/posts/{spring['id']}", headers=owner.headers)
    assert (r.json()["timezone"], r.json()["scheduled_at"]) == (
        "Europe/Paris",
        spring["scheduled_at"],
    )
    # publishing now is asked for in words: an explicit null time
    before = datetime.now(UTC) - timedelta(seconds=5)
    r = await api.patch(
        f"/api/v1/posts/{post['id']}", json={"scheduled_at": None}, headers=owner.headers
    )
    assert r.status_code == 200, r.text
    assert before <= datetime.fromisoformat(r.json()["scheduled_at"]) <= datetime.now(UTC)


async def test_the_approval_switch_applies_to_the_next_post(
    api: httpx.AsyncClient, stack: Stack
) -> None:
    """The publisher asks auth for the workspace's settings on every create, edit and
    validation: a post composed right after an admin switched approval on waits for approval,
    and right after it was switched off needs none (no wait for the event)."""
    owner, ws = await owner_with_workspace(api)
    editor = await add_member(api, owner, ws, await make_user(api, name="Ed"), "editor")
    account = await x_account(api, owner, ws)
    post = await scheduled(api, editor, ws, account, "before any switch")
    assert post["approval"] == "not_required"
    for i in range(5):
        r = await api.patch(
            f"/api/v1/workspaces/{ws}", json={"require_approval": True}, headers=owner.headers
        )
        assert r.status_code == 200 and r.json()["require_approval"] is True, r.text
        post = await scheduled(api, editor, ws, account, f"after on {i}")
        assert (post["status"], post["approval"]) == ("pending_approval", "pending"), i
        r = await api.post(
            "/api/v1/posts/validate",
            json={"workspace_id": ws, "text": "x", "targets": [{"account_id": account}]},
            headers=editor.headers,
        )
        assert r.json()["valid"] is True, r.text
        r = await api.patch(
            f"/api/v1/workspaces/{ws}", json={"require_approval": False}, headers=owner.headers
        )
        assert r.status_code == 200 and r.json()["require_approval"] is False, r.text
        # the pending post, edited now, needs approval no more
        r = await api.patch(
            f"/api/v1/posts/{post['id']}", json={"text": f"edited {i}"}, headers=editor.headers
        )
        assert (r.json()["status"], r.json()["approval"]) == ("scheduled", "not_required"), i
        post = await scheduled(api, editor, ws, account, f"after off {i}")
        assert (post["status"], post["approval"]) == ("scheduled", "not_required"), i


async def test_without_auth_no_post_is_composed(
    api: httpx.AsyncClient, stack: Stack, infra: Infra
) -> None:
    """Fail closed: a publisher that cannot ask auth for the workspace's settings composes
    nothing (503 DirectoryUnavailable), even with a copy of the workspace at hand: that copy
    may predate an approval switch."""
    owner, ws = await owner_with_workspace(api)
    account = await x_account(api, owner, ws)
    database_url = await own_publisher_database(infra, "publisher_no_auth")
    # its copy of the workspace, as auth's event left it: approval not required
    conn = await asyncpg.connect(database_url.replace("+asyncpg", ""))
    try:
        await conn.execute(
            "INSERT INTO publisher.workspaces VALUES ($1, 'UTC', false, now())", uuid.UUID(ws)
        )
    finally:
        await conn.close()
    settings = publisher_settings(
        infra,
        sandbox_url=stack.sandbox_url,
        auth_url=f"http://127.0.0.1:{free_port()}",  # nobody listens
        accounts_url=stack.accounts_url,
        jwks_url=f"{stack.auth_url}/.well-known/jwks.json",
        database_url=database_url,
        kafka_enabled=False,
    )
    with serve(create_publisher(settings, dispatch=False)) as url:
        async with httpx.AsyncClient(base_url=url, timeout=20) as client:
            body = {"workspace_id": ws, "text": "t", "targets": [{"account_id": account}]}
            for path in ("/api/v1/posts", "/api/v1/posts/validate"):
                r = await client.post(path, json=body, headers=owner.headers)
                assert (r.status_code, r.json()["error"]) == (503, "DirectoryUnavailable"), r.text
            r = await client.get(
                "/api/v1/posts", params={"workspace_id": ws}, headers=owner.headers
            )
            assert r.json()["items"] == [], r.text


async def test_youtube_tags_and_the_tiktok_cover_are_bounded_as_the_platforms_bound_them(
    api: httpx.AsyncClient, stack: Stack
) -> None:
    """YouTube takes 500 characters of tags as it counts them (a comma between tags, quotes
    around a tag with a space); TikTok's cover frame lies within the video. Each broken rule
    is named for its target."""
    owner, ws = await owner_with_workspace(api)
    [youtube] = await connect_account(api, owner, ws, "youtube", "tags-yt")
    [tiktok] = await connect_account(api, owner, ws, "tiktok", "cover-tt")
    r = await upload(api, owner, ws, mp4(seconds=4), "clip.mp4", "video/mp4")
    assert r.status_code == 201, r.text
    video = r.json()["id"]

    async def problems(**options: dict[str, object]) -> dict[str, str]:
        targets = [{"account_id": str(a["id"]), "options": o} for a, o in options.values()]
        body = {"workspace_id": ws, "text": "clip", "media_ids": [video], "targets": targets}
        body["scheduled_at"] = later()
        r = await api.post("/api/v1/posts/validate", json=body, headers=owner.headers)
        assert r.status_code == 200, r.text
        return {t["account_id"]: t["detail"] for t in r.json()["targets"]}

    tiktok_ok = {"privacy_level": "SELF_ONLY", "video_cover_timestamp_ms": 3000}
    # 98 tags "a b" count 5 each (quoted) and 97 commas: 587; raw they are 294 characters
    spaced = [f"{chr(97 + i % 26)} {i % 10}" for i in range(98)]
    assert sum(map(len, spaced)) + 97 < 500
    found = await problems(
        yt=(youtube, {"title": "t", "tags": spaced}),
        tt=(tiktok, {**tiktok_ok, "video_cover_timestamp_ms": 4600}),
    )
    assert "YouTube tags are 587 characters" in found[str(youtube["id"])]
    assert "after the end of the video" in found[str(tiktok["id"])]
    # 500 as YouTube counts them passes (one tag of 5, 99 of 4, 99 commas); 501 does not
    at_limit = ["abcde"] + ["abcd"] * 99
    assert (
        await problems(yt=(youtube, {"title": "t", "tags": at_limit}), tt=(tiktok, tiktok_ok)) == {}
    )
    at_limit[1] = "abcde"
    found = await problems(yt=(youtube, {"title": "t", "tags": at_limit}))
    assert "YouTube tags are 501 characters" in found[str(youtube["id"])]
    found = await problems(tt=(tiktok, {**tiktok_ok, "video_cover_timestamp_ms": 2**31}))
    assert "video_cover_timestamp_ms" in found[str(tiktok["id"])]
