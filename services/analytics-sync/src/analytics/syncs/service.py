"""The refresh rules: who may ask (editors and up; viewers read), what a sync takes, and
how its progress and a workspace's sync state read."""

from __future__ import annotations

import math
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from analytics.context import AnalyticsContext
from analytics.fetching.usage import fetch_budgets
from analytics.models import SyncStatus
from analytics.syncs.repository import SyncRepository
from analytics.syncs.schemas import (
    AccountProblem,
    AccountSyncStatus,
    BudgetOut,
    SyncAccepted,
    SyncOut,
    SyncStatusOut,
    Waiting,
)
from socialseed import tracing
from socialseed.errors import AccountNotFound, AppError, NotFound
from socialseed.platforms import Platform
from socialseed.security import Principal


class SyncNotFound(NotFound):
    pass


class RefreshTooSoon(AppError):
    """What this refresh asks for was refreshed within the cooldown (``Retry-After``)."""

    status_code = 429
    default_detail = "This was refreshed a few minutes ago; retry later."


async def refresh_workspace(
    session: AsyncSession,
    ctx: AnalyticsContext,
    principal: Principal,
    workspace_id: uuid.UUID,
    platforms: list[str] | None,
    limit: int | None,
) -> SyncAccepted:
    principal.require(workspace_id, "editor")
    repo, now = SyncRepository(session), ctx.clock()
    wanted = platforms or [p.value for p in Platform]
    running = await _already(ctx, repo, workspace_id, now, wanted)
    if running is not None:
        return running
    sync = await repo.create_sync(
        workspace_id,
        requested_by=principal.user_id,
        now=now,
        platforms=platforms,
        limit=_limit(ctx, limit),
        # The fetches of its posts continue the request's trace (``socialseed.tracing``).
        traceparent=tracing.current_traceparent(),
    )
    return SyncAccepted(sync_id=sync.id, total_posts=sync.total_posts)


async def refresh_account(
    session: AsyncSession,
    ctx: AnalyticsContext,
    principal: Principal,
    account_id: uuid.UUID,
    limit: int | None,
) -> SyncAccepted:
    repo, now = SyncRepository(session), ctx.clock()
    account = await repo.account(principal, account_id)
    if account is None:
        raise AccountNotFound()
    principal.require(account.workspace_id, "editor")
    running = await _already(
        ctx, repo, account.workspace_id, now, [account.platform], account_id=account.id
    )
    if running is not None:
        return running
    sync = await repo.create_sync(
        account.workspace_id,
        requested_by=principal.user_id,
        now=now,
        account_id=account.id,
        limit=_limit(ctx, limit),
        # The fetches of its posts continue the request's trace (``socialseed.tracing``).
        traceparent=tracing.current_traceparent(),
    )
    return SyncAccepted(sync_id=sync.id, total_posts=sync.total_posts)


async def _already(
    ctx: AnalyticsContext,
    repo: SyncRepository,
    workspace_id: uuid.UUID,
    now: datetime,
    platforms: Sequence[str],
    *,
    account_id: uuid.UUID | None = None,
) -> SyncAccepted | None:
    """A refresh of what a sync of the last ``refresh_cooldown`` covers makes no new sync
    (each one makes posts due and spends platform budgets): while that sync runs, it is the
    answer; once finished, 429 ``RefreshTooSoon`` until the cooldown is over. Refreshes of a
    workspace are taken one at a time, so two at once cannot both start a sync."""
    cooldown = ctx.settings.refresh_cooldown
    if not cooldown:
        return None
    await repo.lock_refreshes(workspace_id)
    sync = await repo.covering_sync(
        workspace_id, since=now - cooldown, platforms=platforms, account_id=account_id
    )
    if sync is None:
        return None
    if sync.status in (SyncStatus.QUEUED, SyncStatus.RUNNING):
        return SyncAccepted(sync_id=sync.id, total_posts=sync.total_posts, already_running=True)
    wait = max(1, math.ceil((sync.created_at + cooldown - now).total_seconds()))
    raise RefreshTooSoon(
        f"This was refreshed at {sync.created_at:%Y-%m-%d %H:%M:%S} UTC (sync {sync.id}); "
        f"a refresh may follow after {int(cooldown.total_seconds())} s: retry in {wait} s.",
        headers={"Retry-After": str(wait)},
    )


async def sync_progress(
    session: AsyncSession, ctx: AnalyticsContext, principal: Principal, sync_id: uuid.UUID
) -> SyncOut:
    """The sync as stored; one still queued or running whose every post left is on a
    platform whose app-wide budget is spent reads ``waiting``, with when it resumes."""
    repo = SyncRepository(session)
    sync = await repo.get_or_none(principal, sync_id)
    if sync is None:
        raise SyncNotFound("Sync not found.")
    out = SyncOut.model_validate(sync, from_attributes=True)
    out.problems = [
        AccountProblem(
            account_id=a.id,
            platform=a.platform,
            username=a.username,
            reason=a.problem or "",
            at=a.problem_at or sync.created_at,
        )
        for a in await repo.problems_since(sync)
    ]
    if sync.status not in (SyncStatus.QUEUED, SyncStatus.RUNNING):
        return out
    now = ctx.clock()
    left = await repo.posts_left(sync.id, now)
    closed = await fetch_budgets(ctx.settings).closed_until(session, now)
    # Each platform's posts wait until its app-wide budget frees, or until their account's
    # own budget does; any post that waits for nothing makes the sync running.
    frees = {p: closed.get(p) or held for p, _, held in left}
    if left and all(frees.values()):
        until = min(t for t in frees.values() if t is not None)
        posts = sum(count for _, count, _ in left)
        names = " and ".join(f"{_name(ctx, p)}'s" for p in sorted(frees))
        out.status = SyncStatus.WAITING
        out.resumes_at = until
        out.waiting_reason = (
            f"{posts} post{'s' if posts != 1 else ''} wait for {names} rate limit (spent); "
            f"fetched from {until:%Y-%m-%d %H:%M} UTC, as the budgets free."
        )
    return out


def _name(ctx: AnalyticsContext, platform: str) -> str:
    provider = ctx.providers.get(Platform(platform))
    return provider.name if provider is not None else platform


def _waiting(
    ctx: AnalyticsContext, account: dict[str, Any], closed: dict[str, datetime]
) -> Waiting | None:
    """What of an account waits for a spent budget: its posts held by its own (or its
    workspace's share of a) budget, or all its work while its platform's app-wide budget is
    spent."""
    name = _name(ctx, account["platform"])
    if account["platform"] in closed:
        until = closed[account["platform"]]
        return Waiting(
            until=until,
            reason=f"{name}'s app-wide rate limit is spent: this account's fetches wait until "
            f"{until:%Y-%m-%d %H:%M} UTC.",
        )
    if account["held_posts"]:
        until, held = account["held_until"], account["held_posts"]
        return Waiting(
            until=until,
            reason=f"{held} post{'s' if held != 1 else ''} wait for {name}'s rate limit until "
            f"{until:%Y-%m-%d %H:%M} UTC; fetched then.",
        )
    return None


async def sync_status(
    session: AsyncSession, ctx: AnalyticsContext, principal: Principal, workspace_id: uuid.UUID
) -> SyncStatusOut:
    principal.require(workspace_id)
    repo = SyncRepository(session)
    accounts = await repo.account_status(workspace_id, ctx.clock())
    budgets = fetch_budgets(ctx.settings)
    now = ctx.clock()
    # The accounts' own budgets only: an app-wide one (YouTube's project, TikTok's client,
    # Meta's app usage) counts every workspace's fetches, and would tell other tenants'
    # activity.
    wanted: dict[str, str] = {}
    for account in accounts:
        for charge in budgets.charges(account["platform"], account["platform_user_id"], 0, now):
            if charge.scope == "account":
                wanted[charge.bucket] = account["platform"]
    by_platform: dict[str, list[BudgetOut]] = {}
    for budget in await budgets.read(session, sorted(wanted)):
        by_platform.setdefault(wanted[budget.bucket], []).append(
            BudgetOut.model_validate(budget, from_attributes=True)
        )
    closed = await budgets.closed_until(session, now)
    return SyncStatusOut(
        workspace_id=workspace_id,
        accounts=[
            AccountSyncStatus(
                **{k: v for k, v in a.items() if k not in ("held_posts", "held_until")},
                waiting=_waiting(ctx, a, closed),
            )
            for a in accounts
        ],
        budgets=by_platform,
    )


def _limit(ctx: AnalyticsContext, limit: int | None) -> int:
    cap = ctx.settings.refresh_limit_max
    return min(limit, cap) if limit is not None else cap
