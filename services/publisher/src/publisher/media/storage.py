"""Where media files live, and how platforms get them.

One storage interface (local files under ``media_dir`` by default). Platforms that pull media
get a signed URL that expires (``itsdangerous``: the media id and an HMAC over it with a
timestamp); platforms that take bytes read ranges of the file, never all of it at once.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path

import anyio
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession

from publisher.media.repository import MediaRepository
from publisher.models import Media
from socialseed.platforms.base import MediaKind, PlatformMedia, ReadRange


class MediaUnavailable(Exception):
    """A post's media file is gone (deleted after the post was composed)."""


@dataclass
class LocalFiles:
    root: Path

    def path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise ValueError("storage key escapes the media folder")
        return path

    def reader(self, key: str) -> ReadRange:
        path = self.path(key)

        async def read(offset: int, length: int) -> bytes:
            async with await anyio.open_file(path, "rb") as f:
                await f.seek(offset)
                return await f.read(length)

        return read


class MediaStore:
    def __init__(self, files: LocalFiles, public_url: str, key: SecretStr, ttl: int) -> None:
        self.files = files
        self.public_url = public_url.rstrip("/")
        self.signer = URLSafeTimedSerializer(key.get_secret_value(), salt="media-url")
        self.ttl = ttl

    def signed_url(self, media: Media) -> str:
        return f"{self.public_url}/media-files/{self.signer.dumps(str(media.id))}"

    def verify(self, token: str) -> uuid.UUID | None:
        """The media id a signed URL names, or None when forged or expired."""
        try:
            return uuid.UUID(self.signer.loads(token, max_age=self.ttl))
        except (BadSignature, SignatureExpired, ValueError):
            return None

    async def platform_media(
        self, session: AsyncSession, workspace_id: uuid.UUID, ids: list[uuid.UUID]
    ) -> list[PlatformMedia]:
        """The post's media as a platform adapter takes it, in the post's order."""
        rows = await MediaRepository(session).in_workspace_unscoped(workspace_id, set(ids))
        missing = [i for i in ids if i not in rows]
        if missing:
            raise MediaUnavailable(f"media {', '.join(map(str, missing))} was deleted")
        return [self._platform(rows[i]) for i in ids]

    def _platform(self, media: Media) -> PlatformMedia:
        return PlatformMedia(
            id=str(media.id),
            kind=MediaKind(media.kind),
            mime_type=media.mime_type,
            size=media.size,
            url=self.signed_url(media),
            read=self.files.reader(media.storage_key),
            width=media.width,
            height=media.height,
            duration_s=media.duration_s,
            alt_text=media.alt_text,
        )
