"""Every query of the refresh endpoints: a sync made due now, a sync's progress, a
workspace's sync status. Always scoped to the workspace the caller was checked against."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select, text, update

from analytics.fetching.repository import HELD
from analytics.ingest.repository import SYNC_COMPLETED_FIELDS, sync_completed
from analytics.models import (
    OUTBOX,
    Account,
    AccountStatus,
    Sync,
    SyncStatus,
    TrackedPost,
    TrackedPostStatus,
)
from socialseed.repository import WorkspaceScoped, of_workspaces
from socialseed.security import Principal


class SyncRepository(WorkspaceScoped[Sync]):
    """Syncs through ``readable`` (``get_or_none``: a sync's progress), accounts through
    ``account``; the rest is keyed by a workspace the caller was checked against."""

    model = Sync

    async def account(self, principal: Principal, account_id: uuid.UUID) -> Account | None:
        """The caller's account with this id (another workspace's is None)."""
        statement = of_workspaces(select(Account), Account, principal)
        return await self.session.scalar(statement.where(Account.id == account_id))

    async def create_sync(
        self,
        workspace_id: uuid.UUID,
        *,
        requested_by: uuid.UUID,
        now: datetime,
        account_id: uuid.UUID | None = None,
        platforms: Sequence[str] | None = None,
        limit: int,
        traceparent: str | None = None,
    ) -> Sync:
        """A sync of the workspace's (or one account's) syncable posts, the most recently
        published first, up to ``limit``: they and their accounts become due now with its id.
        Posts already waiting for another sync stay with it (that sync counts them)."""
        accounts = select(Account.id).where(
            Account.workspace_id == workspace_id,
            Account.tracking,
            Account.status == AccountStatus.ACTIVE,
        )
        if account_id is not None:
            accounts = accounts.where(Account.id == account_id)
        if platforms:
            accounts = accounts.where(Account.platform.in_(platforms))
        picked = (
            select(TrackedPost.id)
            .where(
                TrackedPost.workspace_id == workspace_id,
                TrackedPost.account_id.in_(accounts),
                TrackedPost.status == TrackedPostStatus.ACTIVE,
                TrackedPost.sync_id.is_(None),
            )
            .order_by(TrackedPost.published_at.desc())
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        sync = Sync(
            id=uuid.uuid4(),
            workspace_id=workspace_id,
            account_id=account_id,
            requested_by=requested_by,
            platforms=list(platforms) if platforms else None,
            post_limit=limit,
            status=SyncStatus.QUEUED,
            created_at=now,
            traceparent=traceparent,
        )
        await self.add(sync)
        rows = await self.session.execute(
            update(TrackedPost)
            .where(TrackedPost.id.in_(picked.scalar_subquery()))
            .values(sync_id=sync.id, next_fetch_at=now, updated_at=func.now())
            .returning(TrackedPost.platform)
        )
        totals: dict[str, int] = {}
        for platform in rows.scalars():
            totals[platform] = totals.get(platform, 0) + 1
        await self.session.execute(
            update(Account)
            .where(
                Account.id.in_(accounts), or_(Account.sync_id.is_(None), Account.sync_id != sync.id)
            )
            .values(next_sync_at=now, sync_id=sync.id)
        )
        sync.total_posts = sum(totals.values())
        sync.by_platform = {
            p: {"total": n, "synced": 0, "failed": 0, "rate_limited": 0} for p, n in totals.items()
        }
        if not totals:  # nothing to fetch: done at once
            sync.status, sync.started_at, sync.finished_at = SyncStatus.COMPLETED, now, now
        await self.session.flush()
        if not totals:
            fields = ("id", *SYNC_COMPLETED_FIELDS)
            await OUTBOX.add_many(
                self.session, [sync_completed({f: getattr(sync, f) for f in fields})]
            )
        return sync

    async def lock_refreshes(self, workspace_id: uuid.UUID) -> None:
        """One refresh of a workspace at a time (until this transaction ends): the next one
        sees the sync this one makes."""
        await self.session.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
            {"key": f"analytics-refresh:{workspace_id}"},
        )

    async def covering_sync(
        self,
        workspace_id: uuid.UUID,
        *,
        since: datetime,
        platforms: Sequence[str],
        account_id: uuid.UUID | None = None,
    ) -> Sync | None:
        """A sync of the workspace made after ``since`` that asked for everything a refresh
        of ``platforms`` (or of the account ``account_id``) would: the whole workspace for
        those platforms, or that account. One still running first, else the newest."""
        covers = and_(
            Sync.account_id.is_(None),
            or_(Sync.platforms.is_(None), Sync.platforms.contains(list(platforms))),
        )
        if account_id is not None:
            covers = or_(covers, Sync.account_id == account_id)
        running = Sync.status.in_([SyncStatus.QUEUED, SyncStatus.RUNNING])
        sync: Sync | None = await self.session.scalar(
            select(Sync)
            .where(Sync.workspace_id == workspace_id, Sync.created_at > since, covers)
            .order_by(running.desc(), Sync.created_at.desc())
            .limit(1)
        )
        return sync

    async def account_status(self, workspace_id: uuid.UUID, now: datetime) -> list[dict[str, Any]]:
        posts = (
            select(
                TrackedPost.account_id,
                func.count().label("tracked"),
                func.count().filter(TrackedPost.next_fetch_at <= now).label("due"),
                func.min(TrackedPost.next_fetch_at).label("next_post"),
                func.count()
                .filter(TrackedPost.lease_owner == HELD, TrackedPost.lease_until > now)
                .label("held"),
                func.max(TrackedPost.lease_until)
                .filter(TrackedPost.lease_owner == HELD, TrackedPost.lease_until > now)
                .label("held_until"),
            )
            .where(
                TrackedPost.workspace_id == workspace_id,
                TrackedPost.status == TrackedPostStatus.ACTIVE,
            )
            .group_by(TrackedPost.account_id)
            .subquery()
        )
        rows = await self.session.execute(
            select(
                Account,
                func.coalesce(posts.c.tracked, 0),
                func.coalesce(posts.c.due, 0),
                posts.c.next_post,
                func.coalesce(posts.c.held, 0),
                posts.c.held_until,
            )
            .outerjoin(posts, posts.c.account_id == Account.id)
            .where(Account.workspace_id == workspace_id)
            .order_by(Account.platform, Account.username)
        )
        return [
            {
                "account_id": a.id,
                "platform": a.platform,
                "username": a.username,
                "platform_user_id": a.platform_user_id,
                "status": a.status,
                "last_synced_at": a.last_synced_at,
                "next_sync_at": _earliest(a.next_sync_at, next_post) if a.tracking else None,
                "tracked_posts": tracked,
                "due_posts": due,
                "held_posts": held,
                "held_until": held_until,
                "problem": a.problem,
                "problem_at": a.problem_at,
            }
            for a, tracked, due, next_post, held, held_until in rows
        ]

    async def problems_since(self, sync: Sync) -> list[Account]:
        """The accounts a sync covers whose fetches were refused for good since it began."""
        where = [
            Account.workspace_id == sync.workspace_id,
            Account.problem.is_not(None),
            Account.problem_at >= sync.created_at,
        ]
        if sync.account_id is not None:
            where.append(Account.id == sync.account_id)
        elif sync.platforms:
            where.append(Account.platform.in_(sync.platforms))
        rows = await self.session.scalars(
            select(Account).where(*where).order_by(Account.platform, Account.username)
        )
        return list(rows)

    async def posts_left(
        self, sync_id: uuid.UUID, now: datetime
    ) -> list[tuple[str, int, datetime | None]]:
        """The posts still part of a sync (not fetched yet), per platform: how many, and
        when the last of them held by a spent budget of its account is free (None: not all
        of them are held so)."""
        held = and_(TrackedPost.lease_owner == HELD, TrackedPost.lease_until > now)
        rows = await self.session.execute(
            select(
                TrackedPost.platform,
                func.count(),
                func.count().filter(held),
                func.max(TrackedPost.lease_until).filter(held),
            )
            .where(TrackedPost.sync_id == sync_id, TrackedPost.status == TrackedPostStatus.ACTIVE)
            .group_by(TrackedPost.platform)
        )
        return [
            (platform, count, until if held_count == count else None)
            for platform, count, held_count, until in rows.tuples()
        ]


def _earliest(*values: datetime | None) -> datetime | None:
    present = [v for v in values if v is not None]
    return min(present) if present else None
