"""Webhooks end to end: endpoints registered through the gateway, SocialSeed's events
delivered to a receiver this test runs, each delivery checked with the ``standardwebhooks``
verifier; a 500 retried under the same webhook-id; a redelivery; the last failure turning the
endpoint off and telling the workspace's other endpoints; roles, tenants and refused URLs."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import httpx
import pytest
from fastapi import FastAPI, Request, Response
from sqlalchemy import select
from standardwebhooks.webhooks import Webhook

from socialseed.bus import EventMeta
from socialseed.contracts import PostApproved
from socialseed.testing import Infra, asgi_client, serve
from tests.conftest import (
    Stack,
    User,
    add_member,
    connect_account,
    make_user,
    own_database,
    owner_with_workspace,
)
from tests.e2e.test_publish import publish_now, settled
from webhooks.app import create_app as create_webhooks
from webhooks.context import WebhooksContext
from webhooks.delivery.subscribers import fan_out
from webhooks.models import Delivery, Endpoint
from webhooks.settings import WebhooksSettings


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """An HTTP receiver: what each path got, and the status codes each path answers in turn
    (200 once its plan is spent)."""

    url: str = ""
    got: dict[str, list[Received]] = field(default_factory=dict)
    plans: dict[str, list[int]] = field(default_factory=dict)

    def path(self, *codes: int) -> str:
        name = f"/hook/{uuid.uuid4().hex}"
        self.plans[name] = list(codes)
        self.got[name] = []
        return name

    async def wait(self, path: str, count: int, timeout: float = 30) -> list[Received]:
        deadline = time.monotonic() + timeout
        while len(self.got[path]) < count:
            assert time.monotonic() < deadline, f"{path} got {len(self.got[path])} of {count}"
            await asyncio.sleep(0.05)
        return self.got[path]


@contextmanager
def running_receiver() -> Iterator[Receiver]:
    """A receiver served over real HTTP for as long as the block runs."""
    state = Receiver()
    app = FastAPI()

    @app.post("/hook/{name}")
    async def hook(name: str, request: Request) -> Response:
        path = f"/hook/{name}"
        state.got.setdefault(path, []).append(Received(dict(request.headers), await request.body()))
        plan = state.plans.get(path) or []
        return Response(status_code=plan.pop(0) if plan else 200, content=b"thanks")

    with serve(app) as url:
        state.url = url
        yield state


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    with running_receiver() as state:
        yield state


async def register(
    api: httpx.AsyncClient, user: User, ws: str, url: str, events: list[str]
) -> dict:
    r = await api.post(
        "/api/v1/webhooks",
        json={"workspace_id": ws, "url": url, "events": events},
        headers=user.headers,
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


def verified(secret: str, got: Received) -> dict:
    return dict(Webhook(secret).verify(got.body, got.headers))


async def deliveries(api: httpx.AsyncClient, user: User, hook: str) -> list[dict]:
    r = await api.get(f"/api/v1/webhooks/{hook}/deliveries", headers=user.headers)
    assert r.status_code == 200, r.text
    return list(r.json()["items"])


async def recorded(api: httpx.AsyncClient, user: User, hook: str) -> list[dict]:
    """The deliveries once none is pending: the receiver has a request before the sender
    records its answer."""
    deadline = time.monotonic() + 30
    while True:
        rows = await deliveries(api, user, hook)
        if all(d["status"] != "pending" for d in rows):
            return rows
        assert time.monotonic() < deadline, rows
        await asyncio.sleep(0.05)


async def test_a_published_post_is_delivered_signed(
    api: httpx.AsyncClient, stack: Stack, receiver: Receiver
) -> None:
    owner, ws = await owner_with_workspace(api)
    [account] = await connect_account(api, owner, ws, "x", "hooked")
    path = receiver.path()
    hook = await register(api, owner, ws, receiver.url + path, ["post.published"])
    assert hook["secret"].startswith("whsec_")
    # The secret is shown once: never by the list or the get.
    listed = await api.get("/api/v1/webhooks", params={"workspace_id": ws}, headers=owner.headers)
    one = await api.get(f"/api/v1/webhooks/{hook['id']}", headers=owner.headers)
    assert listed.status_code == one.status_code == 200
    assert [h["id"] for h in listed.json()["items"]] == [hook["id"]]
    assert "secret" not in listed.text and "secret" not in one.json()
    assert hook["secret"] not in listed.text + one.text

    post_id = await publish_now(api, owner, ws, str(account["id"]), "webhooked")
    post = await settled(api, owner, post_id)
    assert post["status"] == "published", post
    [got] = await receiver.wait(path, 1)
    event = verified(hook["secret"], got)
    assert event["type"] == "post.published"
    data = event["data"]
    assert data["post_id"] == post_id and data["workspace_id"] == ws
    assert data["platform"] == "x" and data["url"] == post["targets"][0]["url"]
    assert got.headers["webhook-id"].startswith("msg_")
    assert "token" not in got.body.decode().lower()
    [row] = await recorded(api, owner, hook["id"])
    assert (row["status"], row["attempt"], row["response_code"]) == ("succeeded", 1, 200)
    assert row["webhook_id"] == got.headers["webhook-id"]


async def test_a_queued_delivery_wakes_the_sender_before_its_poll(
    infra: Infra, receiver: Receiver
) -> None:
    """The consumer's transaction NOTIFYs the senders: with a 30 s poll, a delivery queued
    while the sender idles is sent within seconds."""
    poll = 30.0
    settings = WebhooksSettings(
        dev_mode=True,
        # A database of its own: the shared stack's sender (polling every 0.1 s) never sees it.
        database_url=await own_database(infra, "webhooks", "webhooks_wakeup"),
        kafka_enabled=False,
        poll_interval=poll,
        retry_jitter=0.0,
    )
    app = create_webhooks(settings)
    async with asgi_client(app):
        ctx: WebhooksContext = app.state.webhooks
        path = receiver.path()
        workspace = uuid.uuid4()
        async with ctx.db.transaction() as session:
            session.add(
                Endpoint(
                    workspace_id=workspace,
                    url=receiver.url + path,
                    events=["post.approved"],
                    secret=ctx.cipher.encrypt("whsec_" + "dGVzdHNlY3JldA=="),
                    created_by=uuid.uuid4(),
                )
            )
        # Listening, and the sender's first turn over (it found nothing): it idles on its poll.
        deadline = time.monotonic() + 30
        while not (app.state.listener.live and app.state.sender.turns >= 1):
            assert time.monotonic() < deadline, "the sender never started listening"
            await asyncio.sleep(0.01)
        now = ctx.clock()
        event = PostApproved(
            post_id=uuid.uuid4(), workspace_id=workspace, approved_by=uuid.uuid4(), approved_at=now
        )
        meta = EventMeta(
            id=uuid.uuid4(), type=event.type_name(), source="test", subject="", time=now
        )
        started = time.monotonic()
        async with ctx.db.transaction() as session:  # as the consumer's handler runs
            assert await fan_out(session, ctx, "post.approved", [(event, meta)]) == 1
        [got] = await receiver.wait(path, 1, timeout=poll / 3)
        took = time.monotonic() - started
        assert took < poll / 10, f"sent after {took:.2f} s"
        assert dict(json.loads(got.body))["type"] == "post.approved"


async def test_a_batch_of_events_fans_out_to_each_workspace_s_subscribed_endpoints(
    infra: Infra,
) -> None:
    """One read of the endpoints for a whole batch: each event reaches the enabled endpoints
    of its own workspace that asked for its type, in the batch's order; a workspace with no
    endpoint gets nothing."""
    settings = WebhooksSettings(
        dev_mode=True,
        database_url=await own_database(infra, "webhooks", "webhooks_fanout"),
        kafka_enabled=False,
        poll_interval=3600.0,  # the sender stays out of the way
    )
    app = create_webhooks(settings)
    async with asgi_client(app):
        ctx: WebhooksContext = app.state.webhooks
        ours, quiet = uuid.uuid4(), uuid.uuid4()
        subscribed = {  # name -> (events, enabled)
            "both": (["post.approved", "post.failed"], True),
            "approved": (["post.approved"], True),
            "failed": (["post.failed"], True),
            "off": (["post.approved"], False),
        }
        ids = {}
        async with ctx.db.transaction() as session:
            for name, (events, enabled) in subscribed.items():
                endpoint = Endpoint(
                    workspace_id=ours,
                    url=f"https://example.com/{name}",
                    events=events,
                    enabled=enabled,
                    secret=ctx.cipher.encrypt("whsec_" + "dGVzdHNlY3JldA=="),
                    created_by=uuid.uuid4(),
                )
                session.add(endpoint)
                await session.flush()
                ids[endpoint.id] = name
        now = ctx.clock()
        batch = []
        for workspace in (ours, quiet, ours):
            event = PostApproved(
                post_id=uuid.uuid4(), workspace_id=workspace, approved_by=uuid.uuid4(),
                approved_at=now,
            )  # fmt: skip
            meta = EventMeta(
                id=uuid.uuid4(), type=event.type_name(), source="test", subject="", time=now
            )
            batch.append((event, meta))
        async with ctx.db.transaction() as session:
            assert await fan_out(session, ctx, "post.approved", batch) == 4
        async with ctx.db.transaction() as session:
            rows = (await session.execute(select(Delivery).order_by(Delivery.created_at))).scalars()
            got = sorted(
                (ids[d.endpoint_id], json.loads(d.body)["data"]["post_id"], d.workspace_id)
                for d in rows
            )
        first, _, third = (str(event.post_id) for event, _ in batch)
        assert got == sorted(
            (name, post, ours) for name in ("both", "approved") for post in (first, third)
        )


async def test_a_500_is_retried_under_the_same_id_and_a_redelivery_too(
    api: httpx.AsyncClient, stack: Stack, receiver: Receiver
) -> None:
    owner, ws = await owner_with_workspace(api)
    path = receiver.path(500)
    hook = await register(api, owner, ws, receiver.url + path, ["post.failed"])
    r = await api.post(f"/api/v1/webhooks/{hook['id']}/test", headers=owner.headers)
    assert r.status_code == 202, r.text
    first, second = await receiver.wait(path, 2)
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    assert verified(hook["secret"], first) == verified(hook["secret"], second)
    assert verified(hook["secret"], second)["type"] == "webhook.test"
    [row] = await recorded(api, owner, hook["id"])
    assert (row["status"], row["attempt"], row["response_code"]) == ("succeeded", 2, 200)

    r = await api.post(
        f"/api/v1/webhooks/{hook['id']}/deliveries/{row['id']}/redeliver", headers=owner.headers
    )
    assert r.status_code == 202, r.text
    *_, third = await receiver.wait(path, 3)
    assert third.headers["webhook-id"] == first.headers["webhook-id"]
    assert verified(hook["secret"], third)["type"] == "webhook.test"
    # Newest first, one page at a time.
    r = await api.get(
        f"/api/v1/webhooks/{hook['id']}/deliveries", params={"limit": 1}, headers=owner.headers
    )
    [newest] = r.json()["items"]
    assert newest["id"] == r.json()["items"][0]["id"] != row["id"]
    r = await api.get(
        f"/api/v1/webhooks/{hook['id']}/deliveries",
        params={"limit": 1, "cursor": r.json()["next_cursor"]},
        headers=owner.headers,
    )
    assert [d["id"] for d in r.json()["items"]] == [row["id"]]
    assert r.json()["next_cursor"] is None


async def test_the_last_failure_turns_the_endpoint_off_and_tells_the_others(
    api: httpx.AsyncClient, stack: Stack, receiver: Receiver
) -> None:
    owner, ws = await owner_with_workspace(api)
    dead = receiver.path(500, 500, 500)
    watcher = receiver.path()
    failing = await register(api, owner, ws, receiver.url + dead, ["post.published"])
    told = await register(api, owner, ws, receiver.url + watcher, ["endpoint.disabled"])
    r = await api.post(f"/api/v1/webhooks/{failing['id']}/test", headers=owner.headers)
    assert r.status_code == 202, r.text
    [notice] = await receiver.wait(watcher, 1)
    assert len(receiver.got[dead]) == 3  # the first attempt and one per retry delay
    event = verified(told["secret"], notice)
    assert event["type"] == "endpoint.disabled"
    assert event["data"]["endpoint_id"] == failing["id"]
    one = (await api.get(f"/api/v1/webhooks/{failing['id']}", headers=owner.headers)).json()
    assert one["enabled"] is False and "3 failed attempts" in one["disabled_reason"]
    [row] = await deliveries(api, owner, failing["id"])
    assert (row["status"], row["attempt"], row["next_attempt_at"]) == ("failed", 3, None)
    # A disabled endpoint is sent nothing; enabling it clears the reason.
    r = await api.post(f"/api/v1/webhooks/{failing['id']}/test", headers=owner.headers)
    assert r.status_code == 409 and r.json()["error"] == "EndpointDisabled"
    r = await api.patch(
        f"/api/v1/webhooks/{failing['id']}", json={"enabled": True}, headers=owner.headers
    )
    assert r.status_code == 200 and r.json()["disabled_reason"] is None


async def test_only_admins_and_owners_of_the_workspace_manage_webhooks(
    api: httpx.AsyncClient, stack: Stack, receiver: Receiver
) -> None:
    owner, ws = await owner_with_workspace(api)
    hook = await register(api, owner, ws, receiver.url + receiver.path(), ["post.published"])
    body = {"workspace_id": ws, "url": receiver.url + "/x", "events": ["post.failed"]}
    for role in ("editor", "viewer"):
        member = await add_member(api, owner, ws, await make_user(api, name=role), role)
        r = await api.post("/api/v1/webhooks", json=body, headers=member.headers)
        assert (r.status_code, r.json()["error"]) == (403, "InsufficientRole"), role
        r = await api.get(f"/api/v1/webhooks/{hook['id']}", headers=member.headers)
        assert (r.status_code, r.json()["error"]) == (403, "InsufficientRole"), role
    admin = await add_member(api, owner, ws, await make_user(api, name="admin"), "admin")
    r = await api.post(f"/api/v1/webhooks/{hook['id']}/rotate-secret", headers=admin.headers)
    assert r.status_code == 200 and r.json()["secret"].startswith("whsec_")
    assert r.json()["secret"] != hook["secret"]

    stranger, theirs = await owner_with_workspace(api, "Stranger")
    for method, url in [
        ("GET", f"/api/v1/webhooks/{hook['id']}"),
        ("PATCH", f"/api/v1/webhooks/{hook['id']}"),
        ("DELETE", f"/api/v1/webhooks/{hook['id']}"),
        ("POST", f"/api/v1/webhooks/{hook['id']}/rotate-secret"),
        ("POST", f"/api/v1/webhooks/{hook['id']}/test"),
        ("GET", f"/api/v1/webhooks/{hook['id']}/deliveries"),
    ]:
        r = await api.request(
            method, url, headers=stranger.headers, json={} if method == "PATCH" else None
        )
        assert (r.status_code, r.json()["error"]) == (404, "WebhookNotFound"), url
    r = await api.get("/api/v1/webhooks", params={"workspace_id": ws}, headers=stranger.headers)
    assert (r.status_code, r.json()["error"]) == (404, "WorkspaceNotFound")
    r = await api.get("/api/v1/webhooks", params={"workspace_id": theirs}, headers=stranger.headers)
    assert r.json()["items"] == []
    r = await api.delete(f"/api/v1/webhooks/{hook['id']}", headers=owner.headers)
    assert r.status_code == 204


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://[::ffff:169.254.169.254]/latest/meta-data/",
        "http://[::ffff:a9fe:a9fe]/",
        "http://[fd00:ec2::254]/",
        "https://[fe80::1]/",
        "http://0.0.0.0:8080/",
        "ftp://example.com/",
        "https://user:pw@example.com/",
    ],
)
async def test_urls_that_reach_inside_are_refused_and_nothing_is_made(
    api: httpx.AsyncClient, stack: Stack, url: str
) -> None:
    owner, ws = await owner_with_workspace(api)
    r = await api.post(
        "/api/v1/webhooks",
        json={"workspace_id": ws, "url": url, "events": ["post.published"]},
        headers=owner.headers,
    )
    assert (r.status_code, r.json()["error"]) == (400, "WebhookUrlRefused"), r.text
    r = await api.get("/api/v1/webhooks", params={"workspace_id": ws}, headers=owner.headers)
    assert r.json()["items"] == []
