"""The media library through the gateway: the type comes from the bytes (not the name),
images and videos are measured, anything else is a 415, files are served at signed expiring
addresses, and another workspace's media is a 404."""

from __future__ import annotations

import io

import av
import httpx
from PIL import Image

from tests.conftest import Stack, User, connect_account, owner_with_workspace


def jpeg(width: int = 1080, height: int = 1080) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(buf, "JPEG")
    return buf.getvalue()


def mp4(seconds: int = 4, size: int = 64) -> bytes:
    """A real H.264 MP4, encoded here by PyAV (FFmpeg)."""
    buf = io.BytesIO()
    with av.open(buf, "w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=10)
        stream.width = stream.height = size
        stream.pix_fmt = "yuv420p"
        for i in range(seconds * 10):
            frame = av.VideoFrame.from_image(Image.new("RGB", (size, size), (i * 4, 0, 0)))
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return buf.getvalue()


async def upload(
    api: httpx.AsyncClient, user: User, ws: str, data: bytes, name: str, ctype: str
) -> httpx.Response:
    return await api.post(
        "/api/v1/media",
        data={"workspace_id": ws},
        files={"file": (name, data, ctype)},
        headers=user.headers,
    )


async def test_images_and_videos_are_measured_and_served(
    api: httpx.AsyncClient, stack: Stack
) -> None:
    owner, ws = await owner_with_workspace(api)
    # named .png and sent as text/plain: the bytes say JPEG
    r = await upload(api, owner, ws, jpeg(1080, 1350), "photo.png", "text/plain")
    assert r.status_code == 201, r.text
    image = r.json()
    assert (image["kind"], image["mime_type"]) == ("image", "image/jpeg")
    assert (image["width"], image["height"]) == (1080, 1350)
    video_bytes = mp4(seconds=4)
    r = await upload(api, owner, ws, video_bytes, "clip.bin", "application/octet-stream")
    assert r.status_code == 201, r.text
    video = r.json()
    assert (video["kind"], video["mime_type"], video["width"]) == ("video", "video/mp4", 64)
    assert 3.5 <= video["duration_s"] <= 4.5
    assert video["size"] == len(video_bytes)
    # the signed address serves the bytes to anyone holding it (platforms fetch from it)
    async with httpx.AsyncClient() as anyone:
        served = await anyone.get(video["url"])
        assert served.status_code == 200 and served.content == video_bytes
        assert served.headers["content-type"] == "video/mp4"
        forged = await anyone.get(video["url"][:-3] + "abc")
        assert forged.status_code == 404
    r = await api.get("/api/v1/media", params={"workspace_id": ws}, headers=owner.headers)
    assert [m["id"] for m in r.json()] == [video["id"], image["id"]]


async def test_other_files_are_refused_and_nothing_is_kept(
    api: httpx.AsyncClient, stack: Stack
) -> None:
    owner, ws = await owner_with_workspace(api)
    for data, name in [
        (b"%PDF-1.7 not an image", "doc.jpg"),
        (b"\xff\xd8\xff\xe0 truncated jpeg", "broken.jpg"),
        (b"", "empty.mp4"),
    ]:
        r = await upload(api, owner, ws, data, name, "image/jpeg")
        assert (r.status_code, r.json()["error"]) == (415, "UnsupportedMediaType"), name
    r = await api.get("/api/v1/media", params={"workspace_id": ws}, headers=owner.headers)
    assert r.json() == []


async def test_another_workspace_sees_no_media(api: httpx.AsyncClient, stack: Stack) -> None:
    owner, ws = await owner_with_workspace(api)
    image = (await upload(api, owner, ws, jpeg(), "a.jpg", "image/jpeg")).json()
    stranger, theirs = await owner_with_workspace(api, "Stranger")
    for method in ("GET", "DELETE"):
        r = await api.request(method, f"/api/v1/media/{image['id']}", headers=stranger.headers)
        assert (r.status_code, r.json()["error"]) == (404, "MediaNotFound"), method
    r = await upload(api, stranger, ws, jpeg(), "b.jpg", "image/jpeg")
    assert r.status_code == 404, r.text
    # nor can it be attached to their post
    [account] = await connect_account(api, stranger, theirs, "x", "strange")
    r = await api.post(
        "/api/v1/posts",
        json={
            "workspace_id": theirs,
            "text": "look",
            "media_ids": [image["id"]],
            "targets": [{"account_id": account["id"]}],
        },
        headers=stranger.headers,
    )
    assert r.status_code == 400 and r.json()["targets"][0]["error"] == "MediaNotFound"


async def test_media_in_a_scheduled_post_cannot_be_deleted(
    api: httpx.AsyncClient, stack: Stack
) -> None:
    owner, ws = await owner_with_workspace(api)
    image = (await upload(api, owner, ws, jpeg(), "a.jpg", "image/jpeg")).json()
    [account] = await connect_account(api, owner, ws, "x", "media-owner")
    r = await api.post(
        "/api/v1/posts",
        json={
            "workspace_id": ws,
            "text": "with a photo",
            "media_ids": [image["id"]],
            "targets": [{"account_id": account["id"]}],
            "scheduled_at": "2027-06-01T10:00:00Z",
        },
        headers=owner.headers,
    )
    assert r.status_code == 201, r.text
    post_id = r.json()["id"]
    r = await api.delete(f"/api/v1/media/{image['id']}", headers=owner.headers)
    assert (r.status_code, r.json()["error"]) == (409, "MediaInUse")
    # once the post is cancelled the file can go
    assert (await api.delete(f"/api/v1/posts/{post_id}", headers=owner.headers)).status_code == 204
    r = await api.delete(f"/api/v1/media/{image['id']}", headers=owner.headers)
    assert r.status_code == 204, r.text
    r = await api.get(f"/api/v1/media/{image['id']}", headers=owner.headers)
    assert r.status_code == 404
