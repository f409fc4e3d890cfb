"""Every query of the media library."""

from __future__ import annotations

import uuid

from sqlalchemy import Select, delete, exists, or_, select

from publisher.models import Media, Post, Target, TargetStatus
from publisher.posts.status import EDITABLE
from socialseed.errors import NotFound
from socialseed.repository import WorkspaceScoped
from socialseed.security import Principal

# Targets whose media must stay: drafts, not published yet, or being published.
_UNFINISHED = (*EDITABLE, TargetStatus.PUBLISHING, TargetStatus.IN_DOUBT)


class MediaNotFound(NotFound):
    default_detail = "Media not found."


class MediaRepository(WorkspaceScoped[Media]):
    """Callers read through ``readable`` (``get``, ``library``, ``in_workspace``); the
    publishing worker reads a post's media with ``in_workspace_unscoped`` and the signed file
    address with ``get_unscoped`` (the signature is the access check)."""

    model = Media
    not_found = MediaNotFound

    async def library(
        self, principal: Principal, workspace_id: uuid.UUID, limit: int
    ) -> list[Media]:
        """The workspace's media, newest first."""
        return await self.all(
            self.readable(principal)
            .where(Media.workspace_id == workspace_id)
            .order_by(Media.created_at.desc(), Media.id)
            .limit(limit)
        )

    async def in_workspace(
        self, principal: Principal, workspace_id: uuid.UUID, ids: set[uuid.UUID]
    ) -> dict[uuid.UUID, Media]:
        """The workspace's media among ``ids`` (another workspace's are simply absent)."""
        return await self._among(self.readable(principal), workspace_id, ids)

    async def in_workspace_unscoped(
        self, workspace_id: uuid.UUID, ids: set[uuid.UUID]
    ) -> dict[uuid.UUID, Media]:
        """``in_workspace`` for the publishing worker (no caller: the post's workspace)."""
        return await self._among(self.statement(), workspace_id, ids)

    async def _among(
        self, stmt: Select[Media], workspace_id: uuid.UUID, ids: set[uuid.UUID]
    ) -> dict[uuid.UUID, Media]:
        if not ids:
            return {}
        rows = await self.all(stmt.where(Media.workspace_id == workspace_id, Media.id.in_(ids)))
        return {m.id: m for m in rows}

    async def in_use(self, media_id: uuid.UUID) -> bool:
        """Whether a target that is not published yet (or being published) uses the media,
        its own or, having none of its own, its post's."""
        used = await self.session.scalar(
            select(
                exists().where(
                    Target.post_id == Post.id,
                    Target.status.in_(_UNFINISHED),
                    or_(
                        Target.media_ids.any(media_id),  # type: ignore[arg-type]
                        Target.media_ids.is_(None) & Post.media_ids.any(media_id),  # type: ignore[arg-type]
                    ),
                )
            )
        )
        return bool(used)

    async def delete(self, media_id: uuid.UUID) -> None:
        await self.session.execute(delete(Media).where(Media.id == media_id))
