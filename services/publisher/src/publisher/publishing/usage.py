"""What the publisher's budgets ask of its own tables during a target's claim
(``socialseed.budgets.engine.Usage``): the account's publishes, which its rolling cap counts
(published targets, and those being published right now), and which other workspaces wait to
publish to the platform, for the fair shares of app-wide windows."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import Uuid, and_, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from publisher.models import Attempt, Target, TargetStatus


class TargetRef(Protocol):
    """What the limits read of a target (an ORM ``Target`` or a claimed row)."""

    @property
    def id(self) -> uuid.UUID: ...
    @property
    def account_id(self) -> uuid.UUID: ...
    @property
    def workspace_id(self) -> uuid.UUID: ...
    @property
    def platform(self) -> str: ...


class PublishUsage:
    def __init__(
        self,
        target: TargetRef,
        recheck: timedelta,
        pending: Sequence[datetime] = (),
        waiting: dict[tuple[str, uuid.UUID], int] | None = None,
    ) -> None:
        self.target = target
        self.recheck = recheck
        # ``waiting`` answers already read in this transaction (a batch's claims ask the same
        # question for every target of a workspace; the answer does not change within it).
        self.answers = waiting if waiting is not None else {}
        # Publishes of the same account let through earlier in this claim's batch, whose
        # attempts are not written yet: counted like the ones in flight.
        self.pending = pending

    async def nth_latest(self, session: AsyncSession, n: int, since: datetime) -> datetime | None:
        """The ``n``-th most recent publish of the target's account after ``since``."""
        published = select(Target.published_at.label("at")).where(
            Target.account_id == self.target.account_id,
            Target.status == TargetStatus.PUBLISHED,
            Target.published_at > since,
        )
        # Being published by a worker right now (an attempt still open), not this one.
        in_flight = (
            select(Attempt.started_at.label("at"))
            .join(Target, Target.id == Attempt.target_id)
            .where(
                Target.account_id == self.target.account_id,
                Target.id != self.target.id,
                Target.status == TargetStatus.PUBLISHING,
                Attempt.ended_at.is_(None),
                Attempt.started_at > since,
            )
        )
        counted = published.union_all(in_flight).subquery()
        latest = list(
            await session.scalars(select(counted.c.at).order_by(counted.c.at.desc()).limit(n))
        )
        latest += [at for at in self.pending if at > since]
        latest.sort(reverse=True)
        return latest[n - 1] if len(latest) >= n else None

    async def waiting(
        self, session: AsyncSession, platform: str, workspace_id: uuid.UUID, now: datetime
    ) -> int:
        """Other workspaces with a target of the platform to publish now: due, or held briefly
        (past their share, for ``recheck``; not those waiting hours for an account's cap)."""
        if (platform, workspace_id) in self.answers:
            return self.answers[(platform, workspace_id)]
        query = select(func.count(Target.workspace_id.distinct())).where(
            Target.platform == platform,
            Target.workspace_id != workspace_id,
            or_(
                and_(Target.status == TargetStatus.SCHEDULED, Target.due_at <= now),
                and_(Target.status == TargetStatus.WAITING, Target.due_at <= now + self.recheck),
            ),
        )
        count = int(await session.scalar(query) or 0)
        self.answers[(platform, workspace_id)] = count
        return count


async def recent_publishes(
    session: AsyncSession, account_ids: Collection[uuid.UUID], since: datetime
) -> dict[uuid.UUID, list[tuple[uuid.UUID | None, datetime]]]:
    """What the accounts' rolling caps count after ``since``, for a batch's accounts in one
    statement: each account's published targets (no target id: every one counts) and those
    being published right now (an attempt still open; the target's id, since a target does
    not count its own)."""
    if not account_ids:
        return {}
    accounts = list(account_ids)
    published = select(
        Target.account_id,
        literal(None, Uuid).label("target_id"),
        Target.published_at.label("at"),
    ).where(
        Target.account_id.in_(accounts),
        Target.status == TargetStatus.PUBLISHED,
        Target.published_at > since,
    )
    in_flight = (
        select(Target.account_id, Target.id, Attempt.started_at)
        .join(Target, Target.id == Attempt.target_id)
        .where(
            Target.account_id.in_(accounts),
            Target.status == TargetStatus.PUBLISHING,
            Attempt.ended_at.is_(None),
            Attempt.started_at > since,
        )
    )
    found: dict[uuid.UUID, list[tuple[uuid.UUID | None, datetime]]] = defaultdict(list)
    for account_id, target_id, at in await session.execute(published.union_all(in_flight)):
        found[account_id].append((target_id, at))
    return found


class BatchPublishUsage:
    """``PublishUsage`` for a batch of targets claimed together (``socialseed.budgets.engine
    .BatchUsage``): the accounts' recent publishes read once for the batch
    (``recent_publishes``), the publishes let through earlier in the batch (``pending``, by
    account) counted like those in flight, and the waiting workspaces read once per platform
    and workspace."""

    def __init__(
        self,
        targets: Sequence[TargetRef],
        recheck: timedelta,
        recent: dict[uuid.UUID, list[tuple[uuid.UUID | None, datetime]]],
        pending: dict[uuid.UUID, list[datetime]],
        waiting: dict[tuple[str, uuid.UUID], int],
    ) -> None:
        self.targets = targets
        self.recent = recent
        self.pending = pending
        self.one = PublishUsage(targets[0], recheck, waiting=waiting) if targets else None

    def nth_latest(self, call: int, n: int, since: datetime) -> datetime | None:
        target = self.targets[call]
        latest = [
            at
            for target_id, at in self.recent.get(target.account_id, ())
            if at > since and target_id != target.id
        ]
        latest += [at for at in self.pending.get(target.account_id, ()) if at > since]
        latest.sort(reverse=True)
        return latest[n - 1] if len(latest) >= n else None

    async def waiting(
        self, session: AsyncSession, platform: str, workspace_id: uuid.UUID, now: datetime
    ) -> int:
        assert self.one is not None
        return await self.one.waiting(session, platform, workspace_id, now)
