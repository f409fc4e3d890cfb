"""Every query of tracking: the workspace and account projections and the tracked posts."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnClause,
    case,
    column,
    exists,
    func,
    literal,
    literal_column,
    select,
    tuple_,
    update,
    values,
)
from sqlalchemy.dialects.postgresql import insert

from analytics.ingest.repository import PostGroups, bump_data_versions, refresh_post_totals
from analytics.models import (
    Account,
    AccountStatus,
    PostSource,
    TrackedPost,
    TrackedPostStatus,
    WorkspaceView,
)
from socialseed.platforms.base import ListedPost
from socialseed.projections import upsert_newer
from socialseed.repository import RepositoryBase

# In an upsert's RETURNING: true for a row the statement inserted, false for one it updated.
_INSERTED: ColumnClause[bool] = literal_column("xmax = 0", Boolean)
# Rows per multi-row INSERT (well inside PostgreSQL's 65,535 bind parameters).
_CHUNK = 1000


class TrackingRepository(RepositoryBase):
    # Workspaces and accounts ---------------------------------------------------------------

    async def upsert_workspace(
        self, workspace_id: uuid.UUID, name: str, timezone: str, updated_at: datetime
    ) -> None:
        """The workspace's name and time zone. Answers are read in its zone (local days),
        so a change is new data: the data version moves with it, and so do ETags and stored
        answers."""
        applied = await upsert_newer(
            self.session,
            WorkspaceView.__table__,  # type: ignore[arg-type]
            {"id": workspace_id, "name": name, "timezone": timezone, "updated_at": updated_at},
        )
        if applied:
            await bump_data_versions(self.session, [workspace_id])

    async def workspace(self, workspace_id: uuid.UUID) -> WorkspaceView | None:
        return await self.session.get(WorkspaceView, workspace_id)

    async def account(self, account_id: uuid.UUID) -> Account | None:
        return await self.session.get(Account, account_id)

    async def connect_account(self, values: dict[str, Any]) -> None:
        """A (re)connected account: tracked again, its counters due now and its history to be
        listed. Its stopped posts (a disconnect before) are tracked again too."""
        at = values["updated_at"]
        applied = await upsert_newer(
            self.session,
            Account.__table__,  # type: ignore[arg-type]
            {
                **values,
                "status": AccountStatus.ACTIVE,
                "tracking": True,
                "stopped_at": None,
                "connected_at": at,
                "backfill_requested_at": at,
                "next_sync_at": at,
            },
        )
        if not applied:  # an older connect than what is known (a disconnect since): no-op
            return
        await self.session.execute(
            update(TrackedPost)
            .where(
                TrackedPost.account_id == values["id"],
                TrackedPost.status == TrackedPostStatus.STOPPED,
            )
            .values(status=TrackedPostStatus.ACTIVE, next_fetch_at=at, updated_at=func.now())
        )

    async def rename_account(self, account_id: uuid.UUID, username: str) -> None:
        """A new handle: answers that name the account change (its workspace's data version)."""
        renamed = await self.session.scalars(
            update(Account)
            .where(Account.id == account_id, Account.username != username)
            .values(username=username)
            .returning(Account.workspace_id)
        )
        await bump_data_versions(self.session, renamed)

    async def set_account_status(
        self, values: dict[str, Any], status: AccountStatus, *, stop: bool = False
    ) -> bool:
        """The account's status as accounts says; ``stop``: tracking off (history kept), its
        active posts ``stopped``. False when a newer event had already been applied."""
        extra: dict[str, Any] = {"status": status}
        if stop:
            extra |= {
                "tracking": False,
                "stopped_at": values["updated_at"],
                "lease_owner": None,
                "lease_until": None,
            }
        applied = await upsert_newer(
            self.session,
            Account.__table__,  # type: ignore[arg-type]
            {**values, **extra},
            # An account first heard of by this event: tracked unless it is the stop.
            insert_only={"platform_user_id": "", "username": ""}
            | ({} if stop else {"tracking": True}),
        )
        if applied and stop:
            await self.session.execute(
                update(TrackedPost)
                .where(
                    TrackedPost.account_id == values["id"],
                    TrackedPost.status == TrackedPostStatus.ACTIVE,
                )
                .values(
                    status=TrackedPostStatus.STOPPED,
                    lease_owner=None,
                    lease_until=None,
                    updated_at=func.now(),
                )
            )
        return applied

    async def mark_backfilled(self, account_id: uuid.UUID, at: datetime) -> None:
        await self.session.execute(
            update(Account).where(Account.id == account_id).values(backfilled_at=at)
        )

    # Tracked posts -------------------------------------------------------------------------

    async def track_published_many(self, rows: Sequence[dict[str, Any]]) -> None:
        """Posts published through SocialSeed: tracked with the publisher's ids (first fetched
        at each row's ``next_fetch_at``), or, when the backfill found the same platform post
        first, that row linked to them (its own schedule kept). Each one's
        status follows its account (stopped when the account is no longer tracked). One
        statement for many (``INSERT ... SELECT`` over their values, the accounts' tracking
        read in it); rows for the same platform post are one: the last given wins."""
        last = {(r["account_id"], r["platform_post_id"]): r for r in rows}
        groups = PostGroups()
        for start in range(0, len(last), _CHUNK):
            chunk = list(last.values())[start : start + _CHUNK]
            # A linked backfill row takes the publisher's publication time: the day it was
            # counted in moves too.
            existing = await self.session.execute(
                select(
                    TrackedPost.workspace_id, TrackedPost.account_id, TrackedPost.published_at
                ).where(
                    tuple_(TrackedPost.account_id, TrackedPost.platform_post_id).in_(
                        [(r["account_id"], r["platform_post_id"]) for r in chunk]
                    )
                )
            )
            for row in existing:
                groups.add(row.workspace_id, row.account_id, row.published_at)
            for r in chunk:
                if r["published_at"] is not None:
                    groups.add(r["workspace_id"], r["account_id"], r["published_at"])
            await self._track_chunk(chunk)
        await refresh_post_totals(self.session, groups)
        # Newly tracked posts are in the workspaces' answers (lists, counts) from now on.
        await bump_data_versions(self.session, {r["workspace_id"] for r in last.values()})

    async def _track_chunk(self, rows: Sequence[dict[str, Any]]) -> None:
        t = TrackedPost.__table__.c
        names = (
            "account_id",
            "workspace_id",
            "platform",
            "platform_post_id",
            "publisher_post_id",
            "publisher_target_id",
            "published_at",
            "url",
            "next_fetch_at",
        )
        given = values(*(column(n, t[n].type) for n in ("id", *names)), name="given").data(
            [(uuid.uuid4(), *(r[n] for n in names)) for r in rows]
        )
        untracked = exists().where(Account.id == given.c.account_id, Account.tracking.is_(False))
        status = case(
            (untracked, TrackedPostStatus.STOPPED.value), else_=TrackedPostStatus.ACTIVE.value
        )
        chosen = select(
            *given.c,
            literal(PostSource.PUBLISHER.value).label("source"),
            status.label("status"),
        )
        stmt = insert(TrackedPost).from_select(["id", *names, "source", "status"], chosen)
        await self.session.execute(
            stmt.on_conflict_do_update(
                index_elements=[TrackedPost.account_id, TrackedPost.platform_post_id],
                set_={
                    "publisher_post_id": stmt.excluded.publisher_post_id,
                    "publisher_target_id": stmt.excluded.publisher_target_id,
                    "source": PostSource.PUBLISHER.value,
                    "url": func.coalesce(stmt.excluded.url, TrackedPost.url),
                    "published_at": stmt.excluded.published_at,
                    "updated_at": func.now(),
                },
            )
        )

    async def record_listing(
        self, account: Account, posts: Sequence[ListedPost], *, now: datetime
    ) -> int:
        """The account's own post list (the backfill, or a later re-listing): posts not
        tracked yet are tracked (``source = backfill``, due at once); those already tracked
        keep their row, filling a missing url or text. Idempotent. Returns how many were new.
        The account's posts are stopped with it when it is no longer tracked."""
        status = TrackedPostStatus.ACTIVE if account.tracking else TrackedPostStatus.STOPPED
        new = 0
        for start in range(0, len(posts), _CHUNK):
            rows = [
                {
                    "id": uuid.uuid4(),
                    "account_id": account.id,
                    "workspace_id": account.workspace_id,
                    "platform": account.platform,
                    "platform_post_id": post.id,
                    "published_at": post.published_at,
                    "url": post.url,
                    "text": post.text,
                    "source": PostSource.BACKFILL,
                    "status": status,
                    "next_fetch_at": now,
                }
                for post in posts[start : start + _CHUNK]
            ]
            stmt = insert(TrackedPost).values(rows)
            upsert = stmt.on_conflict_do_update(
                index_elements=[TrackedPost.account_id, TrackedPost.platform_post_id],
                set_={
                    "url": func.coalesce(TrackedPost.url, stmt.excluded.url),
                    "text": func.coalesce(TrackedPost.text, stmt.excluded.text),
                },
            ).returning(_INSERTED)
            new += sum(1 for inserted in (await self.session.scalars(upsert)) if inserted)
        if new:  # newly tracked posts are in the workspace's answers from now on
            groups = PostGroups()
            for post in posts:
                groups.add(account.workspace_id, account.id, post.published_at)
            await refresh_post_totals(self.session, groups)
            await bump_data_versions(self.session, [account.workspace_id])
        return new

    async def posts_of(self, account_id: uuid.UUID) -> list[TrackedPost]:
        rows = await self.session.scalars(
            select(TrackedPost)
            .where(TrackedPost.account_id == account_id)
            .order_by(TrackedPost.published_at.desc())
        )
        return list(rows)
