"""Alt text on the media library through the gateway: set at upload or by PATCH, bounded,
refused on videos, scoped to the workspace, and published with the image (read back from the
sandbox's record of the post)."""

from __future__ import annotations

import httpx

from tests.conftest import Stack, add_member, connect_account, make_user, owner_with_workspace
from tests.e2e.test_media import jpeg, mp4
from tests.e2e.test_publish import ledger, settled


async def upload(
    api: httpx.AsyncClient,
    headers: dict[str, str],
    ws: str,
    data: bytes,
    name: str,
    ctype: str,
    **fields: str,
) -> httpx.Response:
    return await api.post(
        "/api/v1/media",
        data={"workspace_id": ws, **fields},
        files={"file": (name, data, ctype)},
        headers=headers,
    )


async def test_alt_text_is_set_changed_and_bounded(api: httpx.AsyncClient, stack: Stack) -> None:
    owner, ws = await owner_with_workspace(api)
    r = await upload(api, owner.headers, ws, jpeg(), "a.jpg", "image/jpeg", alt_text="A red square")
    assert r.status_code == 201, r.text
    image = r.json()
    assert image["alt_text"] == "A red square"
    r = await api.patch(
        f"/api/v1/media/{image['id']}", json={"alt_text": "é" * 1000}, headers=owner.headers
    )
    assert r.status_code == 200 and r.json()["alt_text"] == "é" * 1000, r.text
    r = await api.get(f"/api/v1/media/{image['id']}", headers=owner.headers)
    assert r.json()["alt_text"] == "é" * 1000
    # longer than X takes: refused, unchanged
    r = await api.patch(
        f"/api/v1/media/{image['id']}", json={"alt_text": "é" * 1001}, headers=owner.headers
    )
    assert r.status_code == 422, r.text
    r = await upload(api, owner.headers, ws, jpeg(), "b.jpg", "image/jpeg", alt_text="x" * 1001)
    assert r.status_code == 422, r.text
    # cleared
    r = await api.patch(
        f"/api/v1/media/{image['id']}", json={"alt_text": ""}, headers=owner.headers
    )
    assert r.status_code == 200 and r.json()["alt_text"] is None, r.text
    # a video takes none, at upload or after; nothing is kept of a refused upload
    r = await upload(api, owner.headers, ws, mp4(), "v.mp4", "video/mp4", alt_text="a clip")
    assert (r.status_code, r.json()["error"]) == (400, "AltTextOnVideo")
    listed = await api.get("/api/v1/media", params={"workspace_id": ws}, headers=owner.headers)
    assert [m["kind"] for m in listed.json()] == ["image"]
    video = (await upload(api, owner.headers, ws, mp4(), "v.mp4", "video/mp4")).json()
    r = await api.patch(
        f"/api/v1/media/{video['id']}", json={"alt_text": "x"}, headers=owner.headers
    )
    assert (r.status_code, r.json()["error"]) == (400, "AltTextOnVideo")
    # another workspace's media is not found; an editor changes only their own uploads
    stranger, _ = await owner_with_workspace(api, "Stranger")
    r = await api.patch(
        f"/api/v1/media/{image['id']}", json={"alt_text": "mine"}, headers=stranger.headers
    )
    assert (r.status_code, r.json()["error"]) == (404, "MediaNotFound")
    editor = await add_member(api, owner, ws, await make_user(api, name="Ed"), "editor")
    r = await api.patch(
        f"/api/v1/media/{image['id']}", json={"alt_text": "mine"}, headers=editor.headers
    )
    assert (r.status_code, r.json()["error"]) == (403, "InsufficientRole")


async def test_a_published_image_carries_its_alt_text_to_x(
    api: httpx.AsyncClient, stack: Stack
) -> None:
    owner, ws = await owner_with_workspace(api)
    [account] = await connect_account(api, owner, ws, "x", "alt-texter")
    image = (await upload(api, owner.headers, ws, jpeg(), "a.jpg", "image/jpeg")).json()
    r = await api.patch(
        f"/api/v1/media/{image['id']}",
        json={"alt_text": "Two cups of coffee on a wooden table"},
        headers=owner.headers,
    )
    assert r.status_code == 200, r.text
    r = await api.post(
        "/api/v1/posts",
        json={
            "workspace_id": ws,
            "text": "coffee",
            "media_ids": [image["id"]],
            "targets": [{"account_id": account["id"]}],
        },
        headers=owner.headers,
    )
    assert r.status_code == 201, r.text
    post = await settled(api, owner, r.json()["id"])
    assert post["status"] == "published", post
    [entry] = await ledger(stack, str(account["platform_user_id"]))
    assert [m.get("alt_text") for m in entry["media"]] == ["Two cups of coffee on a wooden table"]
