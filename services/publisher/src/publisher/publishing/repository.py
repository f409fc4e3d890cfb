"""The workers' SQL: a batch of commands claimed, leased and recorded in a few statements each
(Core, not ORM objects: a batch holds hundreds of targets, and the unit of work's bookkeeping
per object cost more than the statements themselves)."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from prometheus_client.core import Metric
from sqlalchemy import (
    ColumnElement,
    Row,
    Table,
    and_,
    bindparam,
    case,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from publisher.models import AccountView, Attempt, CommentStatus, Post, Target, TargetStatus
from socialseed.metrics import age, gauge

TARGETS = cast(Table, Target.__table__)
POSTS = cast(Table, Post.__table__)
ATTEMPTS = cast(Table, Attempt.__table__)
ACCOUNTS = cast(Table, AccountView.__table__)


@dataclass(frozen=True)
class Earlier:
    """What the earlier attempts of a target say: whether one never ended or ended in doubt
    (the platform is asked first), and when the first started."""

    reconcile: bool
    first_started: datetime


class PublishingRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def lock(self, target_ids: Collection[uuid.UUID]) -> list[Row[Any]]:
        """The targets with what publishing them needs of their posts, locked (in id order,
        so two workers locking overlapping batches cannot deadlock)."""
        t, p = TARGETS, POSTS
        query = (
            select(
                t.c.id,
                t.c.post_id,
                t.c.workspace_id,
                t.c.account_id,
                t.c.platform,
                t.c.status,
                t.c.dispatches,
                t.c.attempts,
                func.coalesce(t.c.text, p.c.text).label("text"),
                func.coalesce(t.c.media_ids, p.c.media_ids).label("media_ids"),
                t.c.options,
                t.c.progress,
                p.c.scheduled_at,
            )
            .join(p, p.c.id == t.c.post_id)
            .where(t.c.id.in_(list(target_ids)))
            .order_by(t.c.id)
            .with_for_update(of=t)
        )
        return list(await self.session.execute(query))

    async def earlier_attempts(self, target_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, Earlier]:
        a = ATTEMPTS.c
        query = (
            select(
                a.target_id,
                func.bool_or(a.ended_at.is_(None) | (a.outcome == "in_doubt")),
                func.min(a.started_at),
            )
            .where(a.target_id.in_(list(target_ids)))
            .group_by(a.target_id)
        )
        rows = await self.session.execute(query)
        return {tid: Earlier(bool(reconcile), first) for tid, reconcile, first in rows}

    async def usernames(self, account_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, str]:
        if not account_ids:
            return {}
        c = ACCOUNTS.c
        rows = await self.session.execute(
            select(c.id, c.username).where(c.id.in_(list(account_ids)))
        )
        return {account_id: name for account_id, name in rows if name}

    async def open_attempts(self, rows: Sequence[dict[str, Any]]) -> None:
        """One attempt per claimed target (one statement), each target's attempts counted and
        its lease set (one more)."""
        if not rows:
            return
        await self.session.execute(insert(ATTEMPTS), [dict(r) for r in rows])

    async def lease(self, target_ids: Collection[uuid.UUID], until: datetime) -> None:
        """The claimed targets: one attempt more each, theirs until ``until``."""
        t = TARGETS
        await self.session.execute(
            update(t)
            .where(t.c.id.in_(list(target_ids)))
            .values(attempts=t.c.attempts + 1, due_at=until, updated_at=func.now())
        )

    async def renew(self, target_ids: Collection[uuid.UUID], until: datetime) -> int:
        """Move the lease of targets still being published to ``until`` (a worker's steps
        still running); how many it moved."""
        t = TARGETS
        result = await self.session.execute(
            update(t)
            .where(t.c.id.in_(list(target_ids)), t.c.status == TargetStatus.PUBLISHING.value)
            .values(due_at=until)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def hold(self, rows: Sequence[dict[str, Any]]) -> None:
        """Targets held back (``waiting`` until ``b_until``, ``b_error`` saying why)."""
        if not rows:
            return
        t = TARGETS
        await self.session.execute(
            update(t)
            .where(t.c.id == bindparam("b_id"))
            .values(
                status=TargetStatus.WAITING.value,
                due_at=bindparam("b_until"),
                error=bindparam("b_error"),
                updated_at=func.now(),
            ),
            list(rows),
        )

    async def end_attempts(self, rows: Sequence[dict[str, Any]]) -> None:
        """Each attempt's end: ``b_id``, ``ended_at``, ``outcome``, ``message``,
        ``platform_status``, ``platform_code``."""
        a = ATTEMPTS
        await self.session.execute(
            update(a)
            .where(a.c.id == bindparam("b_id"))
            .values(
                ended_at=bindparam("b_ended_at"),
                outcome=bindparam("b_outcome"),
                message=bindparam("b_message"),
                platform_status=_or_kept("b_status", a.c.platform_status),
                platform_code=_or_kept("b_code", a.c.platform_code),
            ),
            list(rows),
        )

    async def record(self, rows: Sequence[dict[str, Any]]) -> None:
        """Each target's new state after its step. What a step did not learn (a platform id
        before publishing, an error class before failing) stays as it was."""
        t = TARGETS
        await self.session.execute(
            update(t)
            .where(t.c.id == bindparam("b_id"))
            .values(
                status=bindparam("b_status"),
                error=bindparam("b_error"),
                progress=bindparam("b_progress", type_=t.c.progress.type),
                due_at=bindparam("b_due_at"),
                platform_post_id=_or_kept("b_post_id", t.c.platform_post_id),
                url=_or_kept("b_url", t.c.url),
                published_at=_or_kept("b_published_at", t.c.published_at),
                error_class=_or_kept("b_error_class", t.c.error_class),
                # A first comment becomes due when its post is published (kept if already set).
                comment_status=func.coalesce(
                    t.c.comment_status, bindparam("b_comment_status", type_=t.c.comment_status.type)
                ),
                comment_due_at=_or_kept("b_comment_due_at", t.c.comment_due_at),
                updated_at=func.now(),
            ),
            list(rows),
        )

    # first comments ------------------------------------------------------------------------
    async def claim_comments(
        self, now: datetime, lease_until: datetime, limit: int
    ) -> list[Row[Any]]:
        """Due first comments, claimed (``posting`` until ``lease_until``, one claim more) in
        one statement; each row says what it was before (``was``): one found ``posting`` past
        its lease, or ``in_doubt``, may be on the platform already."""
        t = TARGETS
        due = (
            select(t.c.id, t.c.comment_status.label("was"))
            .where(
                t.c.comment_status.in_(
                    [CommentStatus.PENDING, CommentStatus.POSTING, CommentStatus.IN_DOUBT]
                ),
                t.c.comment_due_at <= now,
            )
            .order_by(t.c.comment_due_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
            .subquery()
        )
        query = (
            update(t)
            .where(t.c.id == due.c.id)
            .values(
                comment_status=CommentStatus.POSTING.value,
                comment_due_at=lease_until,
                comment_attempts=t.c.comment_attempts + 1,
                comment_started_at=func.coalesce(t.c.comment_started_at, now),
            )
            .returning(
                t.c.id,
                t.c.workspace_id,
                t.c.account_id,
                t.c.platform,
                t.c.platform_post_id,
                t.c.options,
                t.c.comment_attempts,
                t.c.comment_started_at,
                due.c.was,
            )
        )
        return list(await self.session.execute(query))

    async def record_comment(
        self,
        target_id: uuid.UUID,
        attempts: int,
        *,
        status: CommentStatus,
        comment_id: str | None,
        error: str | None,
        due_at: datetime | None,
    ) -> bool:
        """A claimed comment's outcome, only if the claim is still this one (``posting`` with
        the same claim number): a worker whose lease ran out while it waited for the platform
        does not overwrite the claim that took over."""
        t = TARGETS
        result = await self.session.execute(
            update(t)
            .where(
                t.c.id == target_id,
                t.c.comment_status == CommentStatus.POSTING.value,
                t.c.comment_attempts == attempts,
            )
            .values(
                comment_status=status.value,
                comment_error=error,
                comment_due_at=due_at,
                updated_at=func.now(),
                **({"comment_id": comment_id} if comment_id is not None else {}),
            )
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]


def _or_kept(name: str, column: ColumnElement[Any]) -> ColumnElement[Any]:
    """The bound value, or the column's own where none is given."""
    return func.coalesce(bindparam(name, type_=column.type), column)


# The targets still on their way, as the metrics show them (published, failed and cancelled
# ones are counted by socialseed_publish_attempts_total instead: counting every target ever
# published at each scrape would grow with the table).
OPEN_STATES = (
    TargetStatus.SCHEDULED,
    TargetStatus.WAITING,
    TargetStatus.IN_DOUBT,
    TargetStatus.PUBLISHING,
)


async def target_facts(conn: AsyncConnection, now: datetime) -> list[Metric]:
    """``socialseed_publish_targets{state}`` (a scheduled target with no due time waits for
    approval: ``pending_approval``) and the in-doubt count and oldest age, read from the
    dispatcher's partial index of open targets."""
    t = TARGETS
    state = case(
        (and_(t.c.status == TargetStatus.SCHEDULED, t.c.due_at.is_(None)), "pending_approval"),
        else_=t.c.status,
    ).label("state")
    open_ = t.c.status.in_([s.value for s in OPEN_STATES])
    counts = {
        row.state: row.n
        for row in await conn.execute(
            select(state, func.count().label("n")).where(open_).group_by(state)
        )
    }
    in_doubt = t.c.status == TargetStatus.IN_DOUBT
    oldest = await conn.scalar(select(func.min(t.c.updated_at)).where(in_doubt))
    targets = gauge(
        "socialseed_publish_targets",
        "Targets on their way to the platforms, by state",
        ["state"],
    )
    for name in ("pending_approval", *(s.value for s in OPEN_STATES)):
        targets.add_metric([name], counts.get(name, 0))
    doubt = gauge(
        "socialseed_publish_in_doubt_targets",
        "Targets whose publish may have happened (no answer came): reconciled before a retry",
    )
    doubt.add_metric([], counts.get(TargetStatus.IN_DOUBT.value, 0))
    doubt_age = gauge(
        "socialseed_publish_in_doubt_oldest_age_seconds",
        "How long the oldest in-doubt target has been so, since its last change (0 when none)",
    )
    doubt_age.add_metric([], age(now, oldest))
    return [targets, doubt, doubt_age]
