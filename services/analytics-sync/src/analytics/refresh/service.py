"""The refresh rules: who may ask (editors and up; viewers read), what a sync takes, and
how its progress and a workspace's sync state read."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from analytics.context import AnalyticsContext
from analytics.refresh.repository import RefreshRepository
from analytics.refresh.schemas import (
    AccountSyncStatus,
    BudgetOut,
    SyncAccepted,
    SyncOut,
    SyncStatusOut,
)
from analytics.sync.budgets import Budgets
from socialseed.errors import NotFound
from socialseed.security import Principal


class SyncNotFound(NotFound):
    pass


class AccountNotFound(NotFound):
    pass


async def refresh_workspace(
    session: AsyncSession,
    ctx: AnalyticsContext,
    principal: Principal,
    workspace_id: uuid.UUID,
    platforms: list[str] | None,
    limit: int | None,
) -> SyncAccepted:
    principal.require(workspace_id, "editor")
    sync = await RefreshRepository(session).create_sync(
        workspace_id,
        requested_by=principal.user_id,
        now=ctx.clock(),
        platforms=platforms,
        limit=_limit(ctx, limit),
    )
    return SyncAccepted(sync_id=sync.id, total_posts=sync.total_posts)


async def refresh_account(
    session: AsyncSession,
    ctx: AnalyticsContext,
    principal: Principal,
    account_id: uuid.UUID,
    limit: int | None,
) -> SyncAccepted:
    repo = RefreshRepository(session)
    account = await repo.account(account_id)
    if account is None or account.workspace_id not in principal.roles:
        raise AccountNotFound("Account not found.")
    principal.require(account.workspace_id, "editor")
    sync = await repo.create_sync(
        account.workspace_id,
        requested_by=principal.user_id,
        now=ctx.clock(),
        account_id=account.id,
        limit=_limit(ctx, limit),
    )
    return SyncAccepted(sync_id=sync.id, total_posts=sync.total_posts)


async def sync_progress(session: AsyncSession, principal: Principal, sync_id: uuid.UUID) -> SyncOut:
    sync = await RefreshRepository(session).sync(sync_id)
    if sync is None or sync.workspace_id not in principal.roles:
        raise SyncNotFound("Sync not found.")
    return SyncOut.model_validate(sync, from_attributes=True)


async def sync_status(
    session: AsyncSession, ctx: AnalyticsContext, principal: Principal, workspace_id: uuid.UUID
) -> SyncStatusOut:
    principal.require(workspace_id)
    repo = RefreshRepository(session)
    accounts = await repo.account_status(workspace_id, ctx.clock())
    budgets = Budgets(ctx.settings)
    now = ctx.clock()
    wanted: dict[str, str] = {}
    for account in accounts:
        for charge in budgets.charges(account["platform"], account["platform_user_id"], 0, now):
            wanted[charge.bucket] = account["platform"]
    by_platform: dict[str, list[BudgetOut]] = {}
    for budget in await repo.budgets(sorted(wanted)):
        by_platform.setdefault(wanted[budget.bucket], []).append(
            BudgetOut.model_validate(budget, from_attributes=True)
        )
    return SyncStatusOut(
        workspace_id=workspace_id,
        accounts=[AccountSyncStatus(**a) for a in accounts],
        budgets=by_platform,
    )


def _limit(ctx: AnalyticsContext, limit: int | None) -> int:
    cap = ctx.settings.refresh_limit_max
    return min(limit, cap) if limit is not None else cap
