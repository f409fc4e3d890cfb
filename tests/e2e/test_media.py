"""The media library through the gateway: the type comes from the bytes (not the name),
images and videos are measured, anything else is a 415, files are served at signed expiring
addresses, and another workspace's media is a 404."""

from __future__ import annotations

import asyncio
import io
import logging
import struct
import uuid
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import av
import httpx
from PIL import Image

from tests.conftest import Stack, User, add_member, connect_account, make_user, owner_with_workspace


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


def zeros_deflated(size: int) -> bytes:
    """``size`` zero bytes as a zlib stream, without compressing them all: one megabyte is
    deflated once, ending on a full flush (so it refers to nothing before it), and repeated;
    the checksum is computed over the whole."""
    chunk = bytes(1 << 20)
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)  # raw: header and checksum added below
    piece = deflate.compress(chunk) + deflate.flush(zlib.Z_FULL_FLUSH)
    count, rest = divmod(size, len(chunk))
    tail = deflate.compress(bytes(rest)) + deflate.flush()
    adler = 1
    for _ in range(count):
        adler = zlib.adler32(chunk, adler)
    adler = zlib.adler32(bytes(rest), adler)
    return b"\x78\xda" + piece * count + tail + struct.pack(">I", adler)


def black_png(width: int, height: int, *, bits: int = 8) -> bytes:
    """A valid greyscale PNG of zeros (every row: filter byte 0, then zero pixels), built from
    its chunks: a decompression bomb of 15000 x 15000 pixels is about 220 KB."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    row = 1 + (width * bits + 7) // 8
    header = struct.pack(">IIBBBBB", width, height, bits, 0, 0, 0, 0)  # colour type 0: grey
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zeros_deflated(row * height))
        + chunk(b"IEND", b"")
    )


def peak_rss_since_reset() -> int:
    """This process's peak resident memory (kB) since ``reset_peak_rss``: the test's stack
    (publisher included) is served from this process."""
    status = Path("/proc/self/status").read_text()
    return int(status.split("VmHWM:")[1].split()[0])


def reset_peak_rss() -> None:
    Path("/proc/self/clear_refs").write_text("5")  # Linux: VmHWM starts again from now


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


async def test_image_bombs_are_refused_from_their_header(
    api: httpx.AsyncClient, stack: Stack
) -> None:
    """Pixels are counted from the header, before anything is decoded, against the most any
    platform takes (36,152,320, LinkedIn's limit); FFmpeg is never handed an image."""
    owner, ws = await owner_with_workspace(api)
    bomb = black_png(15000, 15000)  # 225 Mpx: 220 KB that decode to 225 MB
    assert len(bomb) < 300_000
    reset_peak_rss()
    before = peak_rss_since_reset()
    r = await upload(api, owner, ws, bomb, "bomb.png", "image/png")
    grown_mb = (peak_rss_since_reset() - before) / 1024
    assert (r.status_code, r.json()["error"]) == (415, "UnsupportedMediaType"), r.text
    # Decoding it took the publisher from ~180 MB to over 400 MB (the RGBA version to 1 GB).
    assert grown_mb < 100, f"the publisher's memory grew by {grown_mb:.0f} MB"
    # 12000 x 12000 (144 Mpx, under Pillow's own bomb limit) used to be stored
    r = await upload(api, owner, ws, black_png(12000, 12000, bits=1), "big.png", "image/png")
    assert (r.status_code, r.json()["error"]) == (415, "UnsupportedMediaType"), r.text
    assert "36,152,320" in r.json()["detail"]
    # either side of the cap: 6013 x 6013 = 36,156,169 is refused, 6000 x 6000 taken
    r = await upload(api, owner, ws, black_png(6013, 6013, bits=1), "edge.png", "image/png")
    assert r.status_code == 415, r.text
    r = await upload(api, owner, ws, black_png(6000, 6000, bits=1), "ok.png", "image/png")
    assert r.status_code == 201, r.text
    assert (r.json()["width"], r.json()["height"]) == (6000, 6000)
    r = await api.get("/api/v1/media", params={"workspace_id": ws}, headers=owner.headers)
    assert [m["width"] for m in r.json()] == [6000]


def svg() -> bytes:
    return (
        b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
        b'<script>alert(1)</script><rect width="10" height="10"/></svg>'
    )


def mp4_of_unknown_codec() -> bytes:
    """A real MP4 whose video track's codec tag (``avc1``) is renamed to one FFmpeg does not
    know: the container parses, the codec has no decoder."""
    data = mp4(seconds=1, size=16)
    assert data.count(b"avc1") >= 1
    return data.replace(b"avc1", b"zzz9")


def hls_playlist(segment: Path) -> bytes:
    return f"#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\n{segment}\n#EXT-X-ENDLIST\n".encode()


async def test_svg_unknown_codecs_and_playlists_are_a_named_415(
    api: httpx.AsyncClient, stack: Stack, tmp_path: Path
) -> None:
    owner, ws = await owner_with_workspace(api)
    segment = tmp_path / "seg.mp4"
    segment.write_bytes(mp4(seconds=1, size=16))
    for data, name in [
        (svg(), "logo.svg"),
        (mp4_of_unknown_codec(), "clip.mp4"),
        (hls_playlist(segment), "list.m3u8"),
        (b"ffconcat version 1.0\nfile seg.mp4\n", "list.ffconcat"),
    ]:
        r = await upload(api, owner, ws, data, name, "application/octet-stream")
        assert (r.status_code, r.json()["error"]) == (415, "UnsupportedMediaType"), (name, r.text)
    r = await api.get("/api/v1/media", params={"workspace_id": ws}, headers=owner.headers)
    assert r.json() == []
    assert not list((stack.media_dir / ws).glob("*"))  # nothing kept of a refused file


def gif_polyglot() -> bytes:
    buf = io.BytesIO()
    Image.new("P", (8, 8), 1).save(buf, "GIF")
    return buf.getvalue() + b"<html><body><script>alert(document.domain)</script></body></html>"


async def test_served_files_are_never_pages(api: httpx.AsyncClient, stack: Stack) -> None:
    """A GIF with HTML appended is taken (it is a GIF) and served as one: its type is not to
    be sniffed, and opened directly it is a sandboxed document that may run nothing."""
    owner, ws = await owner_with_workspace(api)
    r = await upload(api, owner, ws, gif_polyglot(), "page.html", "text/html")
    assert r.status_code == 201, r.text
    media = r.json()
    assert media["mime_type"] == "image/gif"
    async with httpx.AsyncClient() as anyone:
        served = await anyone.get(media["url"])
    assert served.status_code == 200 and served.content == gif_polyglot()
    assert served.headers["content-type"] == "image/gif"
    assert served.headers["x-content-type-options"] == "nosniff"
    policy = [p.strip() for p in served.headers["content-security-policy"].split(";")]
    assert "default-src 'none'" in policy and "sandbox" in policy
    assert not any("script" in p for p in policy)
    assert served.headers["content-disposition"] == f'inline; filename="{media["id"]}.gif"'


async def test_editors_delete_only_their_own_media(api: httpx.AsyncClient, stack: Stack) -> None:
    owner, ws = await owner_with_workspace(api)
    editor = await add_member(api, owner, ws, await make_user(api, name="Ed"), "editor")
    admin = await add_member(api, owner, ws, await make_user(api, name="Ada"), "admin")
    owners = (await upload(api, owner, ws, jpeg(), "a.jpg", "image/jpeg")).json()
    editors = (await upload(api, editor, ws, jpeg(), "b.jpg", "image/jpeg")).json()
    admins = (await upload(api, admin, ws, jpeg(), "c.jpg", "image/jpeg")).json()
    r = await api.delete(f"/api/v1/media/{owners['id']}", headers=editor.headers)
    assert (r.status_code, r.json()) == (
        403,
        {
            "error": "InsufficientRole",
            "detail": "Editors delete only their own media; an admin or owner may delete others'.",
        },
    )
    r = await api.delete(f"/api/v1/media/{editors['id']}", headers=editor.headers)
    assert r.status_code == 204, r.text
    r = await api.delete(f"/api/v1/media/{owners['id']}", headers=admin.headers)
    assert r.status_code == 204, r.text
    r = await api.delete(f"/api/v1/media/{admins['id']}", headers=owner.headers)
    assert r.status_code == 204, r.text
    r = await api.get("/api/v1/media", params={"workspace_id": ws}, headers=owner.headers)
    assert r.json() == []


@contextmanager
def log_records() -> Iterator[list[logging.LogRecord]]:
    """Every record the stack's services (served from this process) write, INFO and up:
    the root logger's, and uvicorn's (which do not reach the root)."""
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    keep = Keep(logging.INFO)
    loggers = [logging.getLogger(), logging.getLogger("uvicorn")]
    root_level = loggers[0].level
    for logger in loggers:
        logger.addHandler(keep)
    loggers[0].setLevel(logging.INFO)
    try:
        yield records
    finally:
        for logger in loggers:
            logger.removeHandler(keep)
        loggers[0].setLevel(root_level)


async def test_a_client_hanging_up_mid_upload_is_one_info_line(
    api: httpx.AsyncClient, stack: Stack
) -> None:
    """Half of a declared multipart body, then the connection closed: one INFO line (no
    traceback), nothing stored, nothing recorded."""
    owner, ws = await owner_with_workspace(api)
    boundary = uuid.uuid4().hex
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="workspace_id"\r\n\r\n{ws}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    ).encode()
    half = jpeg(2000, 2000)
    declared = len(head) + 2 * len(half)
    host, port = stack.gateway_url.removeprefix("http://").split(":")
    with log_records() as records:
        _reader, writer = await asyncio.open_connection(host, int(port))
        writer.write(
            (
                "POST /api/v1/media HTTP/1.1\r\nHost: socialseed\r\n"
                f"Authorization: Bearer {owner.access}\r\n"
                f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
                f"Content-Length: {declared}\r\n\r\n"
            ).encode()
            + head
            + half
        )
        await writer.drain()
        writer.close()
        await writer.wait_closed()

        def about_it() -> list[logging.LogRecord]:
            return [
                r
                for r in records
                if "hung up" in r.getMessage() or "ClientDisconnect" in repr(r.exc_info)
            ]

        deadline = asyncio.get_running_loop().time() + 20
        while not about_it():
            assert asyncio.get_running_loop().time() < deadline, "nothing logged the hang-up"
            await asyncio.sleep(0.05)
        seen = about_it()
        errors = [r for r in records if r.levelno >= logging.ERROR]
    assert [(r.levelno, r.exc_info) for r in seen] == [(logging.INFO, None)], [
        (r.levelname, r.name, r.getMessage()) for r in seen
    ]
    assert errors == []
    r = await api.get("/api/v1/media", params={"workspace_id": ws}, headers=owner.headers)
    assert r.json() == []
    assert not list((stack.media_dir / ws).glob("*"))
