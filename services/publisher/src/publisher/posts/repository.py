from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defaultload, raiseload

from publisher.models import Post, Target, TargetStatus
from publisher.posts.status import derive

# A target with its post, but not the post's other targets (the dispatcher and the workers
# handle one target at a time; a post has up to 50).
WITHOUT_SIBLINGS = defaultload(Target.post).raiseload(Post.targets)

# Targets that count against a publishing cap: published, or still going to be.
_COUNTED = (
    TargetStatus.SCHEDULED,
    TargetStatus.WAITING,
    TargetStatus.PUBLISHING,
    TargetStatus.IN_DOUBT,
    TargetStatus.PUBLISHED,
)


@dataclass(frozen=True)
class CalendarQuery:
    workspace_id: uuid.UUID
    start: datetime | None = None
    end: datetime | None = None
    status: str | None = None
    account_id: uuid.UUID | None = None
    after: tuple[datetime, uuid.UUID] | None = None  # the cursor: (scheduled_at, id) last seen
    limit: int = 50


class PostRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, post: Post) -> Post:
        self.session.add(post)
        await self.session.flush()
        return post

    async def get(
        self, workspace_ids: set[uuid.UUID], post_id: uuid.UUID, *, lock: bool = False
    ) -> Post | None:
        """The post if it belongs to one of ``workspace_ids`` (the caller's)."""
        stmt = select(Post).where(Post.id == post_id, Post.workspace_id.in_(workspace_ids))
        if lock:
            stmt = stmt.with_for_update()
        return await self.session.scalar(stmt)

    async def calendar(self, q: CalendarQuery) -> list[Post]:
        stmt = select(Post).where(Post.workspace_id == q.workspace_id)
        if q.start is not None:
            stmt = stmt.where(Post.scheduled_at >= q.start)
        if q.end is not None:
            stmt = stmt.where(Post.scheduled_at < q.end)
        if q.status is not None:
            stmt = stmt.where(Post.status == q.status)
        if q.account_id is not None:
            stmt = stmt.where(
                exists().where(Target.post_id == Post.id, Target.account_id == q.account_id)
            )
        if q.after is not None:
            at, last_id = q.after
            stmt = stmt.where(
                or_(Post.scheduled_at > at, and_(Post.scheduled_at == at, Post.id > last_id))
            )
        stmt = stmt.order_by(Post.scheduled_at, Post.id).limit(q.limit)
        return list(await self.session.scalars(stmt))

    async def scheduled_near(
        self,
        account_ids: Collection[uuid.UUID],
        due: datetime,
        window: timedelta,
        *,
        exclude_post: uuid.UUID | None = None,
    ) -> dict[uuid.UUID, int]:
        """How many of each account's targets are published or planned in the window that ends
        at ``due`` (a rolling cap counts the posts before the new one); one query for all the
        accounts, those with none absent."""
        when = func.coalesce(Target.published_at, Post.scheduled_at)
        stmt = (
            select(Target.account_id, func.count())
            .select_from(Target)
            .join(Post, Post.id == Target.post_id)
            .where(
                Target.account_id.in_(account_ids),
                Target.status.in_(_COUNTED),
                when > due - window,
                when <= due,
            )
            .group_by(Target.account_id)
        )
        if exclude_post is not None:
            stmt = stmt.where(Target.post_id != exclude_post)
        return {account_id: int(n) for account_id, n in await self.session.execute(stmt)}

    async def refresh_statuses(self, post_ids: set[uuid.UUID]) -> None:
        """Rewrite the derived status of these posts after their targets changed (from the
        targets' statuses alone: a post's 50 targets are not loaded as objects each time one
        of them changes)."""
        statuses: dict[uuid.UUID, list[str]] = defaultdict(list)
        rows = await self.session.execute(
            select(Target.post_id, Target.status).where(Target.post_id.in_(post_ids))
        )
        for post_id, status in rows:
            statuses[post_id].append(status)
        posts = await self.session.scalars(
            select(Post).where(Post.id.in_(post_ids)).options(raiseload(Post.targets))
        )
        for post in posts:
            post.status = derive(post.approval, statuses[post.id])

    async def open_targets_of_account(self, account_id: uuid.UUID) -> list[Target]:
        """The account's targets that have not started publishing, locked."""
        stmt = (
            select(Target)
            .where(
                Target.account_id == account_id,
                Target.status.in_((TargetStatus.SCHEDULED, TargetStatus.WAITING)),
            )
            .with_for_update(of=Target)
        )
        return list(await self.session.scalars(stmt))
