"""Media checks by magic bytes (kind and size, never decoded), and pulling media from URLs."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

MB = 1024 * 1024


@dataclass(frozen=True)
class Sniffed:
    kind: str  # image | video | unknown
    format: str  # jpeg, png, gif, webp, mp4, mov, webm, unknown
    mime: str
    size: int

    def as_json(self) -> dict[str, object]:
        return {"kind": self.kind, "format": self.format, "mime": self.mime, "size": self.size}


def sniff(data: bytes, size: int | None = None) -> Sniffed:
    """What the first bytes say the file is."""
    total = len(data) if size is None else size
    head = data[:16]
    if head.startswith(b"\xff\xd8\xff"):
        return Sniffed("image", "jpeg", "image/jpeg", total)
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return Sniffed("image", "png", "image/png", total)
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return Sniffed("image", "gif", "image/gif", total)
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return Sniffed("image", "webp", "image/webp", total)
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand == b"qt  ":
            return Sniffed("video", "mov", "video/quicktime", total)
        return Sniffed("video", "mp4", "video/mp4", total)
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return Sniffed("video", "webm", "video/webm", total)
    return Sniffed("unknown", "unknown", "application/octet-stream", total)


HEAD_BYTES = 64 * 1024  # kept of every file: enough for the magic bytes and an MP4's moov


def mp4_duration(head: bytes) -> float | None:
    """Seconds an MP4/MOV declares in ``moov/mvhd`` (timescale and duration), when the box is
    among the first bytes (a "fast start" file); None otherwise. Nothing is decoded."""
    moov = _box(head, b"moov")
    mvhd = _box(moov, b"mvhd") if moov is not None else None
    if mvhd is None or len(mvhd) < 32:
        return None
    if mvhd[0] == 1:  # version 1: 64-bit times
        timescale = int.from_bytes(mvhd[20:24], "big")
        duration = int.from_bytes(mvhd[24:32], "big")
    else:
        timescale = int.from_bytes(mvhd[12:16], "big")
        duration = int.from_bytes(mvhd[16:20], "big")
    return duration / timescale if timescale else None


def _box(data: bytes, kind: bytes) -> bytes | None:
    """The payload of the first ISO-BMFF box of ``kind`` at this level."""
    offset = 0
    while offset + 8 <= len(data):
        size = int.from_bytes(data[offset : offset + 4], "big")
        if data[offset + 4 : offset + 8] == kind:
            return data[offset + 8 : offset + size] if size >= 8 else data[offset + 8 :]
        if size < 8:
            return None
        offset += size
    return None


class FetchError(Exception):
    pass


@dataclass(frozen=True)
class Fetched:
    head: bytes  # the first HEAD_BYTES
    size: int

    def sniff(self) -> Sniffed:
        return sniff(self.head, self.size)


async def fetch(url: str, max_bytes: int = 1024 * MB, seconds: float = 10.0) -> Fetched:
    """Download media over HTTP as a platform would: streamed, given up past ``max_bytes`` or
    after ``seconds`` in all, only the first bytes kept."""
    if urlsplit(url).scheme not in ("http", "https"):
        raise FetchError("unsupported URL scheme")
    head, size = bytearray(), 0
    try:
        async with (
            asyncio.timeout(seconds),
            httpx.AsyncClient(follow_redirects=True) as client,
            client.stream("GET", url) as response,
        ):
            if response.status_code != 200:
                raise FetchError(f"media URL answered HTTP {response.status_code}")
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise FetchError("media too large")
                if len(head) < HEAD_BYTES:
                    head += chunk[: HEAD_BYTES - len(head)]
    except TimeoutError:
        raise FetchError(f"media download took more than {seconds:g} s") from None
    except httpx.HTTPError as exc:
        raise FetchError(f"media could not be fetched: {exc.__class__.__name__}") from exc
    return Fetched(bytes(head), size)
