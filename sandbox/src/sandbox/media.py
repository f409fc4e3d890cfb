"""Media checks by magic bytes (kind and size, never decoded), and pulling media from URLs."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from sandbox.state import SandboxState

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


class FetchError(Exception):
    pass


async def fetch(state: SandboxState, url: str, max_bytes: int = 1024 * MB) -> bytes:
    """Download media as the platform would; sandbox-hosted media is read without HTTP."""
    parts = urlsplit(url)
    if parts.path.startswith("/_sandbox/media/"):
        found = state.blobs.get(parts.path.rsplit("/", 1)[-1])
        if found is None:
            raise FetchError("media not found at URL")
        return found[1]
    if parts.scheme not in ("http", "https"):
        raise FetchError("unsupported URL scheme")
    try:
        async with httpx.AsyncClient(timeout=10, follow_redirects=True) as client:
            response = await client.get(url)
    except httpx.HTTPError as exc:
        raise FetchError(f"media could not be fetched: {exc.__class__.__name__}") from exc
    if response.status_code != 200:
        raise FetchError(f"media URL answered HTTP {response.status_code}")
    if len(response.content) > max_bytes:
        raise FetchError("media too large")
    return response.content
