from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, File, Form, Query, UploadFile, status
from fastapi.responses import FileResponse, JSONResponse, Response

from publisher.deps import Ctx, CurrentCaller
from publisher.idempotency import service as idempotency
from publisher.idempotency.service import IDEMPOTENCY_ERRORS, IdempotencyKey
from publisher.media.probe import UnsupportedMediaType
from publisher.media.repository import MediaNotFound, MediaRepository
from publisher.media.schemas import ALT_TEXT_MAX, MediaOut, MediaPatch
from publisher.media.service import AltTextOnVideo, MediaInUse, MediaTooLarge, digest, media
from socialseed.errors import InsufficientRole, PayloadTooLarge, WorkspaceNotFound
from socialseed.openapi import errors

router = APIRouter(prefix="/api/v1/media", tags=["media"])
# A served file is data, never a page: its type is not sniffed (a GIF with HTML appended stays
# a GIF), and a browser that opens it directly gets a sandboxed document that may load nothing
# but the file itself (no script, no form, no plugin, no frame).
SERVED_FILE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": (
        "default-src 'none'; img-src 'self'; media-src 'self'; style-src 'unsafe-inline'; sandbox"
    ),
}
# Names files are served under (never the uploader's): the media id and the type's extension.
EXTENSIONS = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/gif": "gif",
    "image/webp": "webp",
    "video/mp4": "mp4",
    "video/quicktime": "mov",
    "video/webm": "webm",
}
# Signed, expiring file addresses for platforms that fetch media themselves: no bearer token.
files = APIRouter(prefix="/media-files", include_in_schema=False)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=MediaOut,
    responses=errors(
        WorkspaceNotFound,
        InsufficientRole,
        UnsupportedMediaType,
        MediaTooLarge,
        PayloadTooLarge,
        AltTextOnVideo,
        *IDEMPOTENCY_ERRORS,
    ),
)
async def upload_media(
    workspace_id: Annotated[uuid.UUID, Form()],
    file: Annotated[UploadFile, File(description="An image or a video")],
    caller: CurrentCaller,
    ctx: Ctx,
    alt_text: Annotated[
        str | None,
        Form(
            max_length=ALT_TEXT_MAX,
            description="An image's alt text (see PATCH /media/{id}); images only",
        ),
    ] = None,
    idempotency_key: IdempotencyKey = None,
) -> MediaOut | JSONResponse:
    """Upload an image or a video (editor or above). What it is comes from its bytes; its
    dimensions (and a video's duration) are measured. Safe to retry with an
    `Idempotency-Key` (the request compared is the file's bytes and the fields)."""
    if idempotency_key is None:
        return await media.upload(ctx, caller, workspace_id, file, alt_text)
    caller.principal.require(workspace_id, "editor")
    request = {"workspace_id": workspace_id, "alt_text": alt_text, "file": await digest(file)}
    async with ctx.db.transaction() as session:
        return await idempotency.once(
            session,
            principal=caller.principal,
            workspace_id=workspace_id,
            raw_key=idempotency_key,
            fingerprint=idempotency.fingerprint("media.upload", request),
            now=ctx.clock(),
            create=lambda: media.upload(ctx, caller, workspace_id, file, alt_text, session),
        )


@router.get("", response_model=list[MediaOut], responses=errors(WorkspaceNotFound))
async def list_media(
    workspace_id: uuid.UUID,
    caller: CurrentCaller,
    ctx: Ctx,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[MediaOut]:
    """The workspace's media library, newest first."""
    return await media.list(ctx, caller, workspace_id, limit)


@router.get("/{media_id:uuid}", response_model=MediaOut, responses=errors(MediaNotFound))
async def get_media(media_id: uuid.UUID, caller: CurrentCaller, ctx: Ctx) -> MediaOut:
    return await media.get(ctx, caller, media_id)


@router.patch(
    "/{media_id:uuid}",
    response_model=MediaOut,
    responses=errors(MediaNotFound, InsufficientRole, AltTextOnVideo),
)
async def update_media(
    media_id: uuid.UUID, body: MediaPatch, caller: CurrentCaller, ctx: Ctx
) -> MediaOut:
    """Set or clear an image's alt text (editors on their own uploads, admins and owners on
    any). X, LinkedIn and Instagram receive it with the image; posts already published keep
    what was sent."""
    return await media.update(ctx, caller, media_id, body)


@router.delete(
    "/{media_id:uuid}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=errors(MediaNotFound, InsufficientRole, MediaInUse),
)
async def delete_media(media_id: uuid.UUID, caller: CurrentCaller, ctx: Ctx) -> Response:
    """Delete a file no unpublished post uses: editors their own uploads, admins and owners
    any."""
    await media.delete(ctx, caller, media_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@files.get("/{token}")
async def media_file(token: str, ctx: Ctx) -> Response:
    media_id = ctx.media.verify(token)
    if media_id is None:
        raise MediaNotFound("This media address is invalid or has expired.")
    async with ctx.db.transaction() as session:
        # The signature is the access check: platforms fetch these without a token.
        found = await MediaRepository(session).get_unscoped(media_id)
    if found is None:
        raise MediaNotFound()
    extension = EXTENSIONS.get(found.mime_type)
    return FileResponse(
        ctx.media.files.path(found.storage_key),
        media_type=found.mime_type,
        headers=SERVED_FILE_HEADERS,
        # Images and videos show in place; anything else (none is stored today) downloads.
        filename=f"{found.id}.{extension or 'bin'}",
        content_disposition_type="inline" if extension else "attachment",
    )
