"""``Idempotency-Key`` on ``POST /api/v1/posts`` and ``POST /api/v1/media``, through the
gateway against the real stack: a retried create answers the first answer and creates
nothing; another request under the same key is 422; a request while the first still runs is
409; keys are per workspace and caller."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import httpx

from socialseed.testing import Infra
from tests.conftest import Stack, User, add_member, make_user, owner_with_workspace
from tests.e2e.test_media import jpeg
from tests.e2e.test_posts import later, x_account


def post_body(ws: str, account: str, text: str = "Hello once") -> dict[str, object]:
    return {
        "workspace_id": ws,
        "text": text,
        "targets": [{"account_id": account}],
        "scheduled_at": later(),
    }


async def create(
    api: httpx.AsyncClient, user: User, body: dict[str, object], key: str
) -> httpx.Response:
    return await api.post(
        "/api/v1/posts", json=body, headers={**user.headers, "Idempotency-Key": key}
    )


async def upload(
    api: httpx.AsyncClient, user: User, ws: str, data: bytes, key: str
) -> httpx.Response:
    return await api.post(
        "/api/v1/media",
        data={"workspace_id": ws},
        files={"file": ("photo.jpg", data, "image/jpeg")},
        headers={**user.headers, "Idempotency-Key": key},
    )


async def publisher_rows(infra: Infra, query: str, *args: object) -> int:
    conn = await asyncpg.connect(infra.service_url("publisher").replace("+asyncpg", ""))
    try:
        return int(await conn.fetchval(query, *args))
    finally:
        await conn.close()


async def posts_in(infra: Infra, ws: str) -> int:
    return await publisher_rows(
        infra, "SELECT count(*) FROM publisher.posts WHERE workspace_id = $1", uuid.UUID(ws)
    )


async def test_a_retried_create_answers_the_first_answer_and_creates_nothing(
    api: httpx.AsyncClient, stack: Stack, infra: Infra
) -> None:
    owner, ws = await owner_with_workspace(api)
    account = await x_account(api, owner, ws)
    body = post_body(ws, account)
    key = str(uuid.uuid4())
    first = await create(api, owner, body, key)
    assert first.status_code == 201, first.text
    assert "idempotent-replayed" not in first.headers
    again = await create(api, owner, body, f'"{key}"')  # the draft's quoted form: the same key
    assert again.status_code == 201, again.text
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert await posts_in(infra, ws) == 1
    # Without a key, the same body is a second post (nothing changes for clients that send none).
    plain = await api.post("/api/v1/posts", json=body, headers=owner.headers)
    assert plain.status_code == 201 and plain.json()["id"] != first.json()["id"]
    assert await posts_in(infra, ws) == 2


async def test_the_same_key_with_another_body_is_422(
    api: httpx.AsyncClient, stack: Stack, infra: Infra
) -> None:
    owner, ws = await owner_with_workspace(api)
    account = await x_account(api, owner, ws)
    key = str(uuid.uuid4())
    assert (await create(api, owner, post_body(ws, account), key)).status_code == 201
    r = await create(api, owner, post_body(ws, account, text="Something else"), key)
    assert r.status_code == 422, r.text
    assert r.json()["error"] == "IdempotencyKeyReused"
    assert await posts_in(infra, ws) == 1
    bad = await create(api, owner, post_body(ws, account), "k" * 256)
    assert bad.status_code == 400 and bad.json()["error"] == "InvalidIdempotencyKey"


async def test_a_request_while_the_first_still_runs_is_409(
    api: httpx.AsyncClient, stack: Stack, infra: Infra
) -> None:
    """The first request's hold on its key, taken here as the running request takes it: a
    request with the key is 409 while it is held, and runs once it is released."""
    owner, ws = await owner_with_workspace(api)
    account = await x_account(api, owner, ws)
    key = str(uuid.uuid4())
    conn = await asyncpg.connect(infra.service_url("publisher").replace("+asyncpg", ""))
    try:
        tx = conn.transaction()
        await tx.start()
        await conn.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
            f"idempotency:{ws}:{owner.id}:{key}",
        )
        r = await create(api, owner, post_body(ws, account), key)
        assert r.status_code == 409, r.text
        assert r.json()["error"] == "IdempotencyKeyInFlight"
        await tx.rollback()
    finally:
        await conn.close()
    assert await posts_in(infra, ws) == 0
    r = await create(api, owner, post_body(ws, account), key)
    assert r.status_code == 201, r.text


async def test_racing_requests_make_one_post(
    api: httpx.AsyncClient, stack: Stack, infra: Infra
) -> None:
    """Eight identical requests at once: one post; every 201 is that post; the rest are 409
    (still running) — never a second post, never a 5xx."""
    owner, ws = await owner_with_workspace(api)
    account = await x_account(api, owner, ws)
    body, key = post_body(ws, account), str(uuid.uuid4())
    answers = await asyncio.gather(*(create(api, owner, body, key) for _ in range(8)))
    assert {r.status_code for r in answers} <= {201, 409}, [r.text for r in answers]
    ids = {r.json()["id"] for r in answers if r.status_code == 201}
    assert len(ids) == 1
    assert all(
        r.json()["error"] == "IdempotencyKeyInFlight" for r in answers if r.status_code == 409
    )
    assert await posts_in(infra, ws) == 1


async def test_keys_are_per_caller_and_workspace(
    api: httpx.AsyncClient, stack: Stack, infra: Infra
) -> None:
    owner, ws = await owner_with_workspace(api)
    editor = await add_member(api, owner, ws, await make_user(api, name="Ed"), "editor")
    account = await x_account(api, owner, ws)
    body, key = post_body(ws, account), str(uuid.uuid4())
    mine = await create(api, owner, body, key)
    theirs = await create(api, editor, body, key)
    assert mine.status_code == theirs.status_code == 201, theirs.text
    assert mine.json()["id"] != theirs.json()["id"]
    assert theirs.json()["author_id"] == editor.id
    other_owner, other_ws = await owner_with_workspace(api, name="Other")
    other_account = await x_account(api, other_owner, other_ws, "bea")
    elsewhere = await create(api, other_owner, post_body(other_ws, other_account), key)
    assert elsewhere.status_code == 201, elsewhere.text
    # The key does not open another workspace: a stranger replaying it gets that workspace's 404.
    stranger = await create(api, other_owner, body, key)
    assert stranger.status_code == 404 and stranger.json()["error"] == "WorkspaceNotFound"
    assert await posts_in(infra, ws) == 2


async def test_a_retried_upload_is_one_media(
    api: httpx.AsyncClient, stack: Stack, infra: Infra
) -> None:
    owner, ws = await owner_with_workspace(api)
    key = str(uuid.uuid4())
    photo = jpeg(640, 480)
    first = await upload(api, owner, ws, photo, key)
    assert first.status_code == 201, first.text
    again = await upload(api, owner, ws, photo, key)
    assert again.status_code == 201 and again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    other = await upload(api, owner, ws, jpeg(480, 640), key)
    assert other.status_code == 422 and other.json()["error"] == "IdempotencyKeyReused"
    count = await publisher_rows(
        infra, "SELECT count(*) FROM publisher.media WHERE workspace_id = $1", uuid.UUID(ws)
    )
    assert count == 1
    files = list((stack.media_dir / ws).iterdir()) if (stack.media_dir / ws).exists() else []
    assert len(files) == 1  # the refused second file was not kept
