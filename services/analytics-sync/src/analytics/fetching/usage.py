"""What analytics' budgets ask of its own tables during a reservation
(``socialseed.budgets.engine.Usage``): which other workspaces have fetches due, for the fair
shares of app-wide budgets; and the engine as analytics' settings configure it."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from analytics.models import Account, TrackedPost, budgets
from analytics.settings import AnalyticsSettings
from socialseed.budgets.engine import Budgets, SignalPolicy


class FetchUsage:
    async def waiting(
        self, session: AsyncSession, platform: str, workspace_id: uuid.UUID, now: datetime
    ) -> int:
        """Other workspaces with work of the platform due now (posts, or their accounts' own
        counters or listing; held by a budget or not): each is owed its share."""
        due_posts = exists().where(
            TrackedPost.account_id == Account.id,
            TrackedPost.status == "active",
            TrackedPost.next_fetch_at <= now,
        )
        backfill_due = and_(
            Account.backfill_requested_at.is_not(None),
            or_(
                Account.backfilled_at.is_(None),
                Account.backfilled_at < Account.backfill_requested_at,
            ),
        )
        query = select(func.count(Account.workspace_id.distinct())).where(
            Account.platform == platform,
            Account.tracking,
            Account.status == "active",
            Account.workspace_id != workspace_id,
            or_(Account.next_sync_at <= now, backfill_due, due_posts),
        )
        return int(await session.scalar(query) or 0)

    async def nth_latest(self, session: AsyncSession, n: int, since: datetime) -> datetime | None:
        raise NotImplementedError("analytics counts no rolling rule (the publisher's caps)")


def fetch_budgets(settings: AnalyticsSettings) -> Budgets:
    """The read budgets (``ANALYTICS_BUDGETS``: by default as the providers declare them)."""
    return Budgets(
        budgets,
        settings.budgets,
        recheck=settings.fair_share_recheck,
        signals=SignalPolicy(settings.meta_usage_threshold, settings.meta_usage_cooloff),
    )
