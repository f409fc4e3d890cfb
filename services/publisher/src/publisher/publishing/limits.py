"""The limits a publish must fit before any platform call, held across every worker and replica
(all state is in PostgreSQL):

- the account is not blocked: a platform's rate-limit answer for the account blocks it until
  the time the platform named (``account_limits``), so no other worker tries it before;
- the account's rolling publishing cap (``CAPS``: e.g. X 100 per 15 minutes) is not reached,
  counting its published targets and those being published right now;
- the app's calls to the platform in the current fixed window (``platform_windows``, settings'
  ``platform_app_limits``) stay under the app-wide limit, and the target's workspace is under
  its fair share of it (``platform_window_shares``): the limit divided among the workspaces
  waiting to publish to that platform (its own and every other with a target due). Alone, a
  workspace can use the whole limit; one that publishes as fast as its accounts' caps allow
  (two X accounts at 100 posts per 15 minutes pass X's 10,000 a day) cannot take the others'
  shares while they wait. Past its share it waits ``app_share_recheck`` (or to the window's
  end); the window is not closed for the others.

Checks for one account are serialised by a row lock on its ``account_limits`` row (taken with an
upsert), so two replicas claiming the same account's targets at once count each other's.
A target that would break a limit is held (``waiting``) until the window frees.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, case, distinct, func, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from publisher.models import (
    AccountLimit,
    Attempt,
    PlatformWindow,
    PlatformWindowShare,
    Target,
    TargetStatus,
)
from publisher.settings import AppLimit
from socialseed.platforms import Platform


@dataclass(frozen=True)
class Cap:
    """At most ``posts`` published per account in any ``window``."""

    posts: int
    window: timedelta


# The platforms' documented per-account publishing caps (see docs/platforms.md), used when a
# post is planned (posts.validation) and again right before each publish.
CAPS: dict[Platform, Cap] = {
    Platform.INSTAGRAM: Cap(100, timedelta(hours=24)),
    Platform.TIKTOK: Cap(15, timedelta(hours=24)),
    Platform.X: Cap(100, timedelta(minutes=15)),
    Platform.LINKEDIN: Cap(150, timedelta(hours=24)),
    Platform.YOUTUBE: Cap(100, timedelta(hours=24)),
    Platform.FACEBOOK: Cap(200, timedelta(hours=24)),
}


@dataclass(frozen=True)
class Hold:
    """Why a target may not be published now, and when to try again."""

    until: datetime
    reason: str


def fair(taken: int, limit: int, others_waiting: int) -> bool:
    """Whether a workspace that has made ``taken`` of an app-wide limit's ``limit`` calls in
    its window may make one more while ``others_waiting`` other workspaces wait to: while it
    is under its share, the limit divided among the workspaces waiting (alone: all of it)."""
    return taken < limit / (others_waiting + 1)


class Limits:
    def __init__(
        self, app_limits: dict[str, AppLimit], recheck: timedelta = timedelta(minutes=1)
    ) -> None:
        self.app_limits = app_limits
        self.recheck = recheck

    async def hold(self, session: AsyncSession, target: Target, now: datetime) -> Hold | None:
        """None when the target may be published now; the app-wide call is then counted."""
        platform = Platform(target.platform)
        blocked_until = await self._lock_account(session, target.account_id, platform)
        if blocked_until is not None and blocked_until > now:
            return Hold(blocked_until, f"{platform.value} rate-limited the account")
        freed = await self._cap_frees_at(session, target, CAPS[platform], now)
        if freed is not None:
            cap = CAPS[platform]
            return Hold(freed, f"the account reached {platform.value}'s cap of {cap.posts} posts")
        limit = self.app_limits.get(platform.value)
        if limit is not None:
            return await self._count_app_call(session, target, platform, limit, now)
        return None

    async def block(
        self,
        session: AsyncSession,
        account_id: uuid.UUID,
        platform: Platform,
        until: datetime,
        reason: str | None,
    ) -> None:
        """The platform said the account is rate-limited until ``until``: every worker waits."""
        stmt = insert(AccountLimit).values(
            account_id=account_id, platform=platform.value, blocked_until=until, reason=reason
        )
        await session.execute(
            stmt.on_conflict_do_update(
                index_elements=[AccountLimit.account_id],
                set_={
                    "blocked_until": func.greatest(AccountLimit.blocked_until, until),
                    "reason": reason,
                },
            )
        )

    async def _lock_account(
        self, session: AsyncSession, account_id: uuid.UUID, platform: Platform
    ) -> datetime | None:
        """Take the account's row lock (creating the row) and read its block."""
        row = insert(AccountLimit).values(account_id=account_id, platform=platform.value)
        upsert = row.on_conflict_do_update(
            index_elements=[AccountLimit.account_id],
            set_={"platform": row.excluded.platform},
        ).returning(AccountLimit.blocked_until)
        blocked: datetime | None = await session.scalar(upsert)
        return blocked

    async def _cap_frees_at(
        self, session: AsyncSession, target: Target, cap: Cap, now: datetime
    ) -> datetime | None:
        """None while the account is under its cap; else when its oldest counted publish
        leaves the rolling window."""
        published = select(Target.published_at.label("at")).where(
            Target.account_id == target.account_id,
            Target.status == TargetStatus.PUBLISHED,
            Target.published_at > now - cap.window,
        )
        # Being published by a worker right now (an attempt still open), not this one.
        in_flight = (
            select(Attempt.started_at.label("at"))
            .join(Target, Target.id == Attempt.target_id)
            .where(
                Target.account_id == target.account_id,
                Target.id != target.id,
                Target.status == TargetStatus.PUBLISHING,
                Attempt.ended_at.is_(None),
                Attempt.started_at > now - cap.window,
            )
        )
        counted = published.union_all(in_flight).subquery()
        # The oldest publishes beyond the cap's allowance must age out first.
        oldest_to_leave = await session.scalar(
            select(counted.c.at).order_by(counted.c.at.desc()).offset(cap.posts - 1).limit(1)
        )
        if oldest_to_leave is None:
            return None
        frees: datetime = oldest_to_leave + cap.window
        return frees

    async def _count_app_call(
        self,
        session: AsyncSession,
        target: Target,
        platform: Platform,
        limit: AppLimit,
        now: datetime,
    ) -> Hold | None:
        """Count one call in the current fixed window, for the app and for the target's
        workspace; None if it fits, else a hold. Atomic across replicas: the upsert only
        increments below the limit, and holds the window's row lock until the claim commits,
        so every worker counting this platform sees the others' shares. A call past the
        workspace's share is taken back (a savepoint)."""
        seconds = limit.window.total_seconds()
        start = datetime.fromtimestamp(now.timestamp() // seconds * seconds, UTC)
        window_end = start + limit.window
        savepoint = await session.begin_nested()
        row = insert(PlatformWindow).values(platform=platform.value, window_start=start, calls=1)
        counted = row.on_conflict_do_update(
            index_elements=[PlatformWindow.platform, PlatformWindow.window_start],
            set_={"calls": PlatformWindow.calls + 1},
            where=PlatformWindow.calls < limit.calls,
        ).returning(PlatformWindow.calls)
        if await session.scalar(counted) is None:
            await savepoint.rollback()
            return Hold(window_end, f"the app reached {platform.value}'s limit of calls")
        share = insert(PlatformWindowShare).values(
            platform=platform.value, workspace_id=target.workspace_id, window_start=start, calls=1
        )
        ours = share.on_conflict_do_update(
            index_elements=[PlatformWindowShare.platform, PlatformWindowShare.workspace_id],
            set_={
                "calls": case(
                    (PlatformWindowShare.window_start == start, PlatformWindowShare.calls + 1),
                    else_=1,
                ),
                "window_start": start,
            },
        ).returning(PlatformWindowShare.calls)
        taken = int(await session.scalar(ours) or 1) - 1
        # Other workspaces with a target of the platform to publish now: due, or held briefly
        # (past their share, for ``recheck``; not those waiting hours for an account's cap).
        waiting = await session.scalar(
            select(func.count(distinct(Target.workspace_id))).where(
                Target.platform == platform.value,
                Target.workspace_id != target.workspace_id,
                or_(
                    and_(Target.status == TargetStatus.SCHEDULED, Target.due_at <= now),
                    and_(
                        Target.status == TargetStatus.WAITING,
                        Target.due_at <= now + self.recheck,
                    ),
                ),
            )
        )
        if fair(taken, limit.calls, int(waiting or 0)):
            await savepoint.commit()
            return None
        await savepoint.rollback()
        return Hold(
            min(window_end, now + self.recheck),
            f"this workspace's share of the app's {platform.value} calls is used while other "
            "workspaces wait",
        )
