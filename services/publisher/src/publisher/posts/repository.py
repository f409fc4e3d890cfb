from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Row, Select, Table, bindparam, distinct, exists, func, select, update
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

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

TARGETS = cast(Table, Target.__table__)
POSTS = cast(Table, Post.__table__)

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
    if q.start is not None or q.end is not None:
        stmt = stmt.where(Post.has_time)  # a draft without a time is in no time range
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

    async def remove(self, post: Post) -> None:
        """Delete a post and its targets (a draft: nothing was ever scheduled of it)."""
        await self.session.delete(post)
        await self.session.flush()

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
        # A draft without a time has no place on a calendar, with or without a range.
        stmt = _calendar_filters(of_workspaces(stmt, Post, principal), q).where(Post.has_time)
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
        of them changes). Two reads for all the posts, and one write for those whose status
        changed (most changes of one target leave its post's status as it was)."""
        if not post_ids:
            return
        ids = list(post_ids)
        if self.session.dirty or self.session.new:
            await self.session.flush()  # targets changed as objects count too
        statuses: dict[uuid.UUID, list[str]] = defaultdict(list)
        rows = await self.session.execute(
            select(TARGETS.c.post_id, TARGETS.c.status).where(TARGETS.c.post_id.in_(ids))
        )
        for post_id, status in rows:
            statuses[post_id].append(status)
        changed = []
        held = {o.id: o for o in self.session.identity_map.values() if isinstance(o, Post)}
        posts = await self.session.execute(
            select(POSTS.c.id, POSTS.c.approval, POSTS.c.status).where(POSTS.c.id.in_(ids))
        )
        for post_id, approval, status in posts:
            derived = derive(approval, statuses[post_id])
            if post_id in held:  # a Post object this session holds shows the new status
                set_committed_value(held[post_id], "status", derived.value)
            if derived != status:
                changed.append({"b_id": post_id, "status": derived.value})
        if changed:
            # In id order: two transactions rewriting overlapping posts never deadlock.
            changed.sort(key=lambda row: row["b_id"])
            await self.session.execute(
                update(POSTS)
                .where(POSTS.c.id == bindparam("b_id"))
                .values(status=bindparam("status"), updated_at=func.now()),
                changed,
                execution_options={"synchronize_session": False},
            )

    async def dispatch_due(
        self, statuses: Collection[str], now: datetime, limit: int, lease_until: datetime
    ) -> list[Row[Any]]:
        """The dispatcher's batch in one statement: up to ``limit`` targets due by ``now``
        (oldest first; rows another dispatcher holds are skipped) made ``publishing`` until
        ``lease_until`` with one more dispatch; what a command needs of each, oldest first."""
        t = TARGETS
        due = (
            select(t.c.id, t.c.due_at.label("was_due"))
            .where(t.c.status.in_(statuses), t.c.due_at <= now)
            .order_by(t.c.due_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
            .cte("due")
        )
        claimed = (
            update(t)
            .where(t.c.id == due.c.id)
            .values(
                status=TargetStatus.PUBLISHING.value,
                dispatches=t.c.dispatches + 1,
                due_at=lease_until,
                updated_at=func.now(),
            )
            .returning(
                t.c.id,
                t.c.post_id,
                t.c.workspace_id,
                t.c.account_id,
                t.c.platform,
                t.c.dispatches,
                t.c.traceparent,
                due.c.was_due,
            )
        )
        rows = list(await self.session.execute(claimed))
        rows.sort(key=lambda r: (r.was_due, r.id))
        return rows

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

    async def accounts_due_by(
        self, statuses: Collection[str], until: datetime, limit: int
    ) -> list[uuid.UUID]:
        """Up to ``limit`` accounts with a target in ``statuses`` due by ``until``, soonest
        first (for fetching their tokens ahead)."""
        soonest = func.min(Target.due_at)
        rows = await self.session.scalars(
            select(Target.account_id)
            .where(Target.status.in_(statuses), Target.due_at <= until)
            .group_by(Target.account_id)
            .order_by(soonest)
            .limit(limit)
        )
        return list(rows)

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
