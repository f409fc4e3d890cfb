"""Instants, numbers and cursors at the edges of their types, through the gateway: each is a
named 4xx, never a 500 and never a half-created object.

Instants are bounded by their type (``socialseed.inputs.Instant``: 1970..2200, the offset
applied) wherever a client sends one; numbers by ``ge``/``le`` in the OpenAPI document;
cursors (base64 JSON or text we issued) are checked when decoded.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
import uuid
from datetime import UTC, datetime, timedelta

import httpx

from tests.conftest import Stack, User, connect_account, owner_with_workspace

# Well-formed RFC 3339 instants that overflow once converted to UTC.
FAR_FUTURE = "9999-12-31T23:59:59-12:00"
FAR_PAST = "0001-01-01T00:00:00+14:00"
OUT_OF_RANGE = [
    FAR_FUTURE,
    FAR_PAST,
    "2200-01-01T00:00:00Z",  # the first instant after the range
    "1969-12-31T23:59:59Z",  # the last one before it
    "1970-01-01T00:00:00+14:00",  # 1969 in UTC
    "0001-01-01T00:00:00",  # a naive wall time: overflows once read in a zone east of UTC
    "9999-12-31T23:59:59",
]


def cursor(*parts: object) -> str:
    raw = json.dumps(list(parts)).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def assert_named(r: httpx.Response, status: int, error: str) -> None:
    assert (r.status_code, r.json().get("error")) == (status, error), r.text


async def posts_of(api: httpx.AsyncClient, user: User, ws: str) -> list[dict]:
    r = await api.get("/api/v1/posts", params={"workspace_id": ws}, headers=user.headers)
    assert r.status_code == 200, r.text
    return list(r.json()["items"])


async def test_out_of_range_instants_are_named_400s_and_store_nothing(
    api: httpx.AsyncClient, stack: Stack
) -> None:
    owner, ws = await owner_with_workspace(api)
    [account] = await connect_account(api, owner, ws, "x", "bounds")
    target = [{"account_id": str(account["id"])}]
    later = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    r = await api.post(
        "/api/v1/posts",
        json={"workspace_id": ws, "text": "ok", "targets": target, "scheduled_at": later},
        headers=owner.headers,
    )
    assert r.status_code == 201, r.text
    post = r.json()
    for at in OUT_OF_RANGE:
        body = {"workspace_id": ws, "text": "t", "targets": target, "scheduled_at": at}
        for path in ("/api/v1/posts", "/api/v1/posts/validate"):
            r = await api.post(path, json=body, headers=owner.headers)
            assert_named(r, 400, "InstantOutOfRange")
            assert "scheduled_at" in r.json()["detail"], r.text
        r = await api.patch(
            f"/api/v1/posts/{post['id']}", json={"scheduled_at": at}, headers=owner.headers
        )
        assert_named(r, 400, "InstantOutOfRange")
        for name in ("from", "to"):
            r = await api.get(
                "/api/v1/posts", params={"workspace_id": ws, name: at}, headers=owner.headers
            )
            assert_named(r, 400, "InstantOutOfRange")
            r = await api.get(
                "/api/v1/analytics/dashboard",
                params={"workspace_id": ws, name: at},
                headers=owner.headers,
            )
            assert_named(r, 400, "InstantOutOfRange")
    # the edges of the range are taken (and then judged by the rules: too far ahead)
    for at, error in (("2199-12-31T23:59:59Z", "ScheduledTooFar"), ("1970-01-01T00:00:00Z", "ScheduledInPast")):  # fmt: skip
        body = {"workspace_id": ws, "text": "t", "targets": target, "scheduled_at": at}
        assert_named(await api.post("/api/v1/posts", json=body, headers=owner.headers), 400, error)
    r = await api.get(
        "/api/v1/posts",
        params={"workspace_id": ws, "from": "1970-01-01T00:00:00Z", "to": "2199-12-31T23:59:59Z"},
        headers=owner.headers,
    )
    assert [p["id"] for p in r.json()["items"]] == [post["id"]], r.text
    assert [p["id"] for p in await posts_of(api, owner, ws)] == [post["id"]]
    r = await api.get(f"/api/v1/posts/{post['id']}", headers=owner.headers)
    assert r.json()["scheduled_at"] == post["scheduled_at"]


async def test_cursors_and_numbers_out_of_range_are_named(
    api: httpx.AsyncClient, stack: Stack
) -> None:
    owner, ws = await owner_with_workspace(api)
    [account] = await connect_account(api, owner, ws, "x", "cursors")
    # the calendar's cursor: "<instant>|<id>" in base64
    for at in (FAR_PAST, FAR_FUTURE):
        raw = base64.urlsafe_b64encode(f"{at}|{uuid.uuid4()}".encode()).decode()
        r = await api.get(
            "/api/v1/posts", params={"workspace_id": ws, "cursor": raw}, headers=owner.headers
        )
        assert_named(r, 400, "InvalidCursor")
    # analytics' cursor: [sort, value, id] as base64 JSON; the account reaches analytics
    # through account.connected
    posts = f"/api/v1/analytics/accounts/{account['id']}/posts"
    deadline = time.monotonic() + 30
    while (r := await api.get(posts, headers=owner.headers)).status_code == 404:
        assert time.monotonic() < deadline, "the account never reached analytics"
        await asyncio.sleep(0.2)
    assert r.status_code == 200, r.text
    post_id = str(uuid.uuid4())
    cases = [
        ("views", "1e400"),  # inf once parsed
        ("views", str(10**30)),  # beyond bigint
        ("views", str(-(10**30))),
        ("views", str(2**63)),
        ("views", "NaN"),
        ("views", "-Infinity"),
        ("views", "true"),
        ("watch_time_s", "1e400"),
        ("published_at", json.dumps(FAR_PAST)),
        ("published_at", json.dumps(FAR_FUTURE)),
    ]
    for sort, value in cases:
        raw = f'["{sort}", {value}, "{post_id}"]'.encode()
        token = base64.urlsafe_b64encode(raw).decode().rstrip("=")
        r = await api.get(posts, params={"sort": sort, "cursor": token}, headers=owner.headers)
        assert_named(r, 400, "InvalidCursor")
    # the largest values a column holds still page
    for sort, value in (("views", 2**63 - 1), ("views", -(2**63)), ("watch_time_s", 1.5e18)):
        r = await api.get(
            posts,
            params={"sort": sort, "cursor": cursor(sort, value, post_id)},
            headers=owner.headers,
        )
        assert r.status_code == 200, (sort, value, r.text)
    # numbers bounded in the schema: a 422 naming the field
    for params in ({"limit": str(10**30)}, {"limit": "-1"}, {"limit": "1e400"}, {"limit": "nan"}):
        r = await api.get(
            "/api/v1/posts", params={"workspace_id": ws, **params}, headers=owner.headers
        )
        assert_named(r, 422, "ValidationError")
        r = await api.get(posts, params=params, headers=owner.headers)
        assert_named(r, 422, "ValidationError")
    for limit in (10**30, -1, 0):
        r = await api.post(
            "/api/v1/analytics/refresh",
            json={"workspace_id": ws, "limit": limit},
            headers=owner.headers,
        )
        assert_named(r, 422, "ValidationError")


async def test_a_nul_character_in_a_text_is_a_named_400_and_stores_nothing(
    api: httpx.AsyncClient, stack: Stack
) -> None:
    """JSON and URLs can carry U+0000, PostgreSQL's text types cannot: the statement that
    would store it is refused, and the request with it (schemathesis found the API keys'
    name answering 500)."""
    owner, ws = await owner_with_workspace(api)
    r = await api.post(
        "/api/v1/api-keys",
        json={"workspace_id": ws, "name": "ci\u0000key", "role": "admin"},
        headers=owner.headers,
    )
    assert_named(r, 400, "TextNotStorable")
    r = await api.get("/api/v1/api-keys", params={"workspace_id": ws}, headers=owner.headers)
    assert r.status_code == 200, r.text
    assert r.json() == []
    before = (await api.get(f"/api/v1/workspaces/{ws}", headers=owner.headers)).json()
    r = await api.patch(
        f"/api/v1/workspaces/{ws}", json={"name": "a\u0000b"}, headers=owner.headers
    )
    assert_named(r, 400, "TextNotStorable")
    r = await api.get(f"/api/v1/workspaces/{ws}", headers=owner.headers)
    assert r.json() == before, r.text
