"""The media library: uploads probed and stored, listed, fetched and deleted per workspace.
SQL lives in ``repository``."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
from fastapi import UploadFile
from sqlalchemy.ext.asyncio import AsyncSession

from publisher.context import Caller, PublisherContext
from publisher.media.probe import Probed
from publisher.media.repository import MediaRepository
from publisher.media.schemas import MediaOut, MediaPatch
from publisher.models import Media
from socialseed.errors import BadRequest, Conflict, InsufficientRole, PayloadTooLarge
from socialseed.platforms.base import MediaKind
from socialseed.security import ROLE_RANK

CHUNK = 1024 * 1024


class MediaTooLarge(PayloadTooLarge):
    pass


class AltTextOnVideo(BadRequest):
    default_detail = "Alt text describes an image; videos do not take it."


class MediaInUse(Conflict):
    default_detail = "A post that has not been published yet uses this media; edit it first."


def media_out(ctx: PublisherContext, media: Media) -> MediaOut:
    return MediaOut(
        id=media.id,
        workspace_id=media.workspace_id,
        kind=media.kind,
        mime_type=media.mime_type,
        size=media.size,
        width=media.width,
        height=media.height,
        duration_s=media.duration_s,
        alt_text=media.alt_text,
        url=ctx.media.signed_url(media),
        created_at=media.created_at,
    )


@contextlib.asynccontextmanager
async def _transaction(
    ctx: PublisherContext, session: AsyncSession | None
) -> AsyncIterator[AsyncSession]:
    if session is not None:
        yield session
        return
    async with ctx.db.transaction() as own:
        yield own


async def digest(file: UploadFile) -> str:
    """SHA-256 of an upload's bytes (read in chunks from the spooled file, then rewound)."""
    sha = hashlib.sha256()
    while chunk := await file.read(CHUNK):
        sha.update(chunk)
    await file.seek(0)
    return sha.hexdigest()


class MediaService:
    async def upload(
        self,
        ctx: PublisherContext,
        caller: Caller,
        workspace_id: uuid.UUID,
        file: UploadFile,
        alt_text: str | None = None,
        session: AsyncSession | None = None,
    ) -> MediaOut:
        """Copy the upload into the store while hashing it (never whole in memory), decide
        what it is from its bytes, then record it. Nothing is kept of a refused file.
        ``session``: the transaction to record it in (an idempotent upload's, which holds its
        key's record too); by default one of its own, after the probe."""
        caller.principal.require(workspace_id, "editor")
        media_id = uuid.uuid4()
        key = f"{workspace_id}/{media_id}"
        path = ctx.media.files.path(key)
        try:
            size, digest = await _copy(file, path)
            probed = await ctx.prober(path)
            self._check_size(ctx, probed, size)
            alt_text = alt_text or None
            if alt_text is not None and probed.kind is not MediaKind.IMAGE:
                raise AltTextOnVideo()
            async with _transaction(ctx, session) as tx:
                media = Media(
                    id=media_id,
                    workspace_id=workspace_id,
                    uploaded_by=caller.principal.user_id,
                    kind=probed.kind,
                    mime_type=probed.mime_type,
                    size=size,
                    width=probed.width,
                    height=probed.height,
                    duration_s=probed.duration_s,
                    codec=probed.codec,
                    alt_text=alt_text,
                    storage_key=key,
                    sha256=digest,
                )
                await MediaRepository(tx).add(media)
                await tx.refresh(media)
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        return media_out(ctx, media)

    def _check_size(self, ctx: PublisherContext, probed: Probed, size: int) -> None:
        limit = (
            ctx.settings.max_image_bytes
            if probed.kind is MediaKind.IMAGE
            else ctx.settings.max_video_bytes
        )
        if size > limit:
            raise MediaTooLarge(f"{probed.kind.value.capitalize()}s are at most {limit} bytes.")

    async def list(
        self, ctx: PublisherContext, caller: Caller, workspace_id: uuid.UUID, limit: int
    ) -> list[MediaOut]:
        caller.principal.require(workspace_id)
        async with ctx.db.transaction() as session:
            rows = await MediaRepository(session).library(caller.principal, workspace_id, limit)
            return [media_out(ctx, m) for m in rows]

    async def get(self, ctx: PublisherContext, caller: Caller, media_id: uuid.UUID) -> MediaOut:
        async with ctx.db.transaction() as session:
            return media_out(ctx, await MediaRepository(session).get(caller.principal, media_id))

    async def update(
        self, ctx: PublisherContext, caller: Caller, media_id: uuid.UUID, patch: MediaPatch
    ) -> MediaOut:
        """Set or clear an image's alt text: editors on their own uploads, admins and owners on
        any. Posts already published keep what was sent; the next publishes send the new text."""
        async with ctx.db.transaction() as session:
            repo = MediaRepository(session)
            media = await repo.get(caller.principal, media_id, lock=True)
            self._require_owner(caller, media, "change")
            alt_text = patch.alt_text or None
            if alt_text is not None and media.kind != MediaKind.IMAGE:
                raise AltTextOnVideo()
            media.alt_text = alt_text
            await session.flush()
            return media_out(ctx, media)

    def _require_owner(self, caller: Caller, media: Media, verb: str) -> None:
        role = caller.principal.require(media.workspace_id, "editor")
        own = media.uploaded_by == caller.principal.user_id
        if ROLE_RANK[role] < ROLE_RANK["admin"] and not own:
            raise InsufficientRole(
                f"Editors {verb} only their own media; an admin or owner may {verb} others'."
            )

    async def delete(self, ctx: PublisherContext, caller: Caller, media_id: uuid.UUID) -> None:
        async with ctx.db.transaction() as session:
            repo = MediaRepository(session)
            media = await repo.get(caller.principal, media_id)
            self._require_owner(caller, media, "delete")
            if await repo.in_use(media.id):
                raise MediaInUse()
            await repo.delete(media.id)
            key = media.storage_key
        ctx.media.files.path(key).unlink(missing_ok=True)


async def _copy(file: UploadFile, path: Path) -> tuple[int, str]:
    """Stream the upload into ``path``; its size and SHA-256."""
    await asyncio.to_thread(path.parent.mkdir, parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    async with await anyio.open_file(path, "wb") as out:
        while chunk := await file.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
            await out.write(chunk)
    return size, digest.hexdigest()


media = MediaService()
