from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, Select, distinct, exists, func, select
from sqlalchemy.orm import joinedload, selectinload

from publisher.models import Post, Target, TargetStatus
from publisher.posts.status import derive
from socialseed.errors import PostNotFound
from socialseed.repository import (
    KeyType,
    Page,
    WorkspaceScoped,
    decode_cursor,
    keyset_after,
    of_workspaces,
    page_of,
)
from socialseed.security import Principal

# A target with its post, but not the post's other targets (the dispatcher and the workers
# handle one target at a time; a post has up to 50).
WITHOUT_SIBLINGS = joinedload(Target.post, innerjoin=True)

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
    cursor: str | None = None
    limit: int = 50


#: The calendar's cursor: the last post's (scheduled_at, id).
CALENDAR = "calendar"
CALENDAR_KEYS: tuple[KeyType, ...] = (datetime, uuid.UUID)


def _calendar_filters(stmt: Select[Any], q: CalendarQuery) -> Select[Any]:
    stmt = stmt.where(Post.workspace_id == q.workspace_id)
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
    return stmt


class PostRepository(WorkspaceScoped[Post]):
    """Posts with their targets. Callers read through ``readable`` (``get``, ``calendar``);
    the workers' reads are by target (``refresh_statuses``, ``open_targets_of_account``)."""

    model = Post
    not_found = PostNotFound

    def statement(self) -> Select[Post]:
        return select(Post).options(selectinload(Post.targets))

    async def calendar(self, principal: Principal, q: CalendarQuery) -> Page[Post]:
        """One page of the workspace's posts by scheduled time (``q.cursor``: after the page
        that issued it)."""
        return await self.page(
            _calendar_filters(self.readable(principal), q),
            order=(Post.scheduled_at, Post.id),
            scope=CALENDAR,
            types=CALENDAR_KEYS,
            cursor=q.cursor,
            limit=q.limit,
        )

    async def calendar_entries(
        self, principal: Principal, q: CalendarQuery, text: int
    ) -> Page[Row]:
        """The calendar's chips: the same posts and pages as ``calendar``, each one row of
        columns (the first ``text`` characters, its targets' platforms as one array), with no
        target loaded as an object."""
        platforms = (
            select(func.array_agg(distinct(Target.platform)))
            .where(Target.post_id == Post.id)
            .scalar_subquery()
        )
        stmt = select(
            Post.id,
            Post.status,
            Post.scheduled_at,
            Post.timezone,
            func.left(Post.text, text).label("text"),
            platforms.label("platforms"),
        )
        stmt = _calendar_filters(of_workspaces(stmt, Post, principal), q)
        order = (Post.scheduled_at, Post.id)
        if q.cursor is not None:
            stmt = stmt.where(
                keyset_after(order, decode_cursor(q.cursor, CALENDAR, *CALENDAR_KEYS))
            )
        rows = (await self.session.execute(stmt.order_by(*order).limit(q.limit + 1))).all()
        return page_of(rows, q.limit, CALENDAR, lambda row: (row.scheduled_at, row.id))

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
        posts = await self.session.scalars(select(Post).where(Post.id.in_(post_ids)))
        for post in posts:
            post.status = derive(post.approval, statuses[post.id])

    async def due_targets(
        self, statuses: Collection[str], now: datetime, limit: int
    ) -> list[Target]:
        """The dispatcher's batch: up to ``limit`` targets due by ``now`` (oldest first) with
        their posts, locked; rows another dispatcher holds are skipped."""
        return await self.all(
            select(Target)
            .where(Target.status.in_(statuses), Target.due_at <= now)
            .order_by(Target.due_at)
            .limit(limit)
            .options(WITHOUT_SIBLINGS)
            .with_for_update(skip_locked=True, of=Target)
        )

    async def next_due_at(self, statuses: Collection[str]) -> datetime | None:
        next_due: datetime | None = await self.session.scalar(
            select(func.min(Target.due_at)).where(Target.status.in_(statuses))
        )
        return next_due

    async def locked_target(self, target_id: uuid.UUID) -> Target | None:
        """A worker's target with its post (not its siblings), locked."""
        return await self.one_or_none(
            select(Target)
            .where(Target.id == target_id)
            .options(WITHOUT_SIBLINGS)
            .with_for_update(of=Target)
        )

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
