"""Every query of the fetch side: claiming due accounts and posts (``FOR UPDATE SKIP LOCKED``
and a lease, so replicas share the work without fetching anything twice), handing them back
with their next due time, holding them while their budget is spent, and the fetch side's
share of a sync's counters (posts rate limited rather than fetched)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from prometheus_client.core import Metric
from sqlalchemy import and_, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.elements import ColumnElement, TextClause

from analytics.ingest.repository import finish_syncs
from analytics.models import (
    SCHEMA,
    Account,
    AccountStatus,
    Sync,
    SyncStatus,
    TrackedPost,
    TrackedPostStatus,
    sync_error,
)
from analytics.models import (
    budgets as budget_tables,
)
from socialseed.budgets.rules import Rule
from socialseed.metrics import Reader, age, gauge
from socialseed.platforms import Platform
from socialseed.repository import RepositoryBase

#: The lease owner of posts held back while their budget is spent (no worker holds them).
HELD = "budget"


@dataclass(frozen=True)
class DuePost:
    id: uuid.UUID
    platform_post_id: str
    published_at: datetime
    sync_id: uuid.UUID | None


def _free(
    lease_until: InstrumentedAttribute[datetime | None], now: datetime
) -> ColumnElement[bool]:
    return or_(lease_until.is_(None), lease_until <= now)


def _backfill_pending() -> ColumnElement[bool]:
    return and_(
        Account.backfill_requested_at.is_not(None),
        or_(Account.backfilled_at.is_(None), Account.backfilled_at < Account.backfill_requested_at),
    )


# A post a refresh made due while it was being fetched (its sync_id changed meanwhile) stays
# due, in that sync: this fetch did not count for it.
_FINISH_POSTS = text(f"""
UPDATE {SCHEMA}.tracked_posts t
SET last_fetched_at = CAST(:fetched_at AS timestamptz),
    next_fetch_at = CASE WHEN t.sync_id IS NOT DISTINCT FROM u.sync_id THEN u.next_fetch_at
                         ELSE t.next_fetch_at END,
    sync_id = CASE WHEN t.sync_id IS NOT DISTINCT FROM u.sync_id THEN NULL ELSE t.sync_id END,
    lease_owner = NULL, lease_until = NULL
FROM unnest(CAST(:ids AS uuid[]), CAST(:next AS timestamptz[]), CAST(:syncs AS uuid[]))
     AS u(id, next_fetch_at, sync_id)
WHERE t.id = u.id
""")


def _counted(column: str) -> TextClause:
    """Adds ``:count`` posts to a sync's ``column`` (``rate_limited`` or ``failed``), in total
    and for ``:platform``, and their errors (the list is capped)."""
    return text(f"""
UPDATE {SCHEMA}.syncs s
SET {column} = s.{column} + CAST(:count AS int),
    by_platform = s.by_platform || jsonb_build_object(CAST(:platform AS text),
        coalesce(s.by_platform -> CAST(:platform AS text), '{{}}'::jsonb) || jsonb_build_object(
            '{column}',
            coalesce((s.by_platform -> CAST(:platform AS text) ->> '{column}')::int, 0)
            + CAST(:count AS int))),
    errors = CASE WHEN jsonb_array_length(s.errors) >= 100 THEN s.errors
                  ELSE s.errors || CAST(:errors AS jsonb) END
WHERE s.id = :sync_id
""")


_RATE_LIMITED = _counted("rate_limited")
_FAILED = _counted("failed")


class FetchRepository(RepositoryBase):
    # Accounts ------------------------------------------------------------------------------

    async def claim_account(self, now: datetime, closed: Sequence[str]) -> Account | None:
        """The next account whose own work is due (its backfill first, then its counters),
        locked for this transaction (another worker skips it)."""
        pending = _backfill_pending()
        stmt = (
            select(Account)
            .where(
                Account.tracking,
                Account.status == AccountStatus.ACTIVE,
                Account.platform.not_in(closed),
                _free(Account.lease_until, now),
                or_(pending, Account.next_sync_at <= now),
            )
            .order_by(pending.desc(), Account.next_sync_at)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        account: Account | None = await self.session.scalar(stmt)
        return account

    async def lease_account(self, account_id: uuid.UUID, owner: str, until: datetime) -> None:
        await self.session.execute(
            update(Account)
            .where(Account.id == account_id)
            .values(lease_owner=owner, lease_until=until)
        )

    async def finish_account(
        self,
        account_id: uuid.UUID,
        next_sync_at: datetime | None,
        *,
        lease_until: datetime | None = None,
    ) -> None:
        """Hand the account back: due again at ``next_sync_at`` (None: unchanged), its lease
        kept until ``lease_until`` (a hold) or dropped."""
        values: dict[str, object] = {
            "lease_owner": HELD if lease_until else None,
            "lease_until": lease_until,
        }
        if next_sync_at is not None:
            values |= {"next_sync_at": next_sync_at, "sync_id": None}
        await self.session.execute(update(Account).where(Account.id == account_id).values(**values))

    # Posts ---------------------------------------------------------------------------------

    async def claim_posts(
        self, now: datetime, closed: Sequence[str], batch: Mapping[str, int]
    ) -> tuple[Account, list[DuePost]] | None:
        """The oldest due post's account (not being claimed by another worker) and up to its
        platform's batch of its due posts, locked for this transaction."""
        head: uuid.UUID | None = await self.session.scalar(
            select(TrackedPost.account_id)
            .join(Account, Account.id == TrackedPost.account_id)
            .where(
                TrackedPost.status == TrackedPostStatus.ACTIVE,
                TrackedPost.next_fetch_at <= now,
                TrackedPost.platform.not_in(closed),
                _free(TrackedPost.lease_until, now),
                Account.tracking,
                Account.status == AccountStatus.ACTIVE,
            )
            .order_by(TrackedPost.next_fetch_at)
            .limit(1)
            # The account row: a worker claiming the same account waits for no one and
            # takes another account, so an account's due posts go out in full batches.
            .with_for_update(of=Account, skip_locked=True)
        )
        if head is None:
            return None
        account = await self.session.get(Account, head)
        if account is None:
            return None
        self.session.expunge(account)  # read after this transaction, as it was claimed
        rows = await self.session.execute(
            select(
                TrackedPost.id,
                TrackedPost.platform_post_id,
                TrackedPost.published_at,
                TrackedPost.sync_id,
            )
            .where(
                TrackedPost.account_id == head,
                TrackedPost.status == TrackedPostStatus.ACTIVE,
                TrackedPost.next_fetch_at <= now,
                _free(TrackedPost.lease_until, now),
            )
            # Newest first: a batch holds posts of like ages, which some platforms answer in
            # one call (X gives private metrics for its last 30 days only, in a call of their
            # own).
            .order_by(TrackedPost.published_at.desc())
            .limit(batch.get(account.platform, 1))
            .with_for_update(skip_locked=True)
        )
        return account, [DuePost(*row) for row in rows]

    async def lease_posts(self, ids: Sequence[uuid.UUID], owner: str, until: datetime) -> None:
        await self.session.execute(
            update(TrackedPost)
            .where(TrackedPost.id.in_(ids))
            .values(lease_owner=owner, lease_until=until)
        )

    async def hold_account_posts(
        self, account_id: uuid.UUID, now: datetime, until: datetime
    ) -> dict[uuid.UUID, list[uuid.UUID]]:
        """Every due post of the account waits until ``until`` (its budget is spent) and
        leaves the sync it was part of; returns those posts by sync (they are counted there
        as rate limited)."""
        rows = await self.session.execute(
            text(f"""
WITH held AS (
    SELECT id, sync_id FROM {SCHEMA}.tracked_posts
    WHERE account_id = :account AND status = :active AND next_fetch_at <= :now
          AND (lease_until IS NULL OR lease_until <= :now)
    FOR UPDATE
),
upd AS (
    UPDATE {SCHEMA}.tracked_posts t
    SET lease_owner = :held, lease_until = :until, sync_id = NULL
    FROM held WHERE t.id = held.id
)
SELECT id, sync_id FROM held WHERE sync_id IS NOT NULL"""),
            {
                "account": account_id,
                "active": TrackedPostStatus.ACTIVE,
                "now": now,
                "held": HELD,
                "until": until,
            },
        )
        by_sync: dict[uuid.UUID, list[uuid.UUID]] = {}
        for post_id, sync_id in rows:
            by_sync.setdefault(sync_id, []).append(post_id)
        return by_sync

    async def finish_posts(
        self, fetched_at: datetime, posts: Sequence[DuePost], next_fetch: Sequence[datetime]
    ) -> None:
        """Fetched: leases dropped, due again by their tier, out of the sync they answered."""
        await self.session.execute(
            _FINISH_POSTS,
            {
                "fetched_at": fetched_at,
                "ids": [p.id for p in posts],
                "next": list(next_fetch),
                "syncs": [p.sync_id for p in posts],
            },
        )

    async def release_posts(
        self, ids: Sequence[uuid.UUID], until: datetime | None, *, leave_sync: bool = False
    ) -> None:
        """Not fetched: free again at ``until`` (a hold; None: now); ``leave_sync``: they no
        longer count in their sync (it was told they were rate limited or failed)."""
        values: dict[str, object] = {
            "lease_owner": HELD if until else None,
            "lease_until": until,
        }
        if leave_sync:
            values["sync_id"] = None
        await self.session.execute(
            update(TrackedPost).where(TrackedPost.id.in_(ids)).values(**values)
        )

    async def postpone_posts(
        self, ids: Sequence[uuid.UUID], owner: str, until: datetime
    ) -> set[uuid.UUID]:
        """Not fetched (refused for good): asked again at ``until`` on their schedule, out of
        their sync, no lease (so a refresh makes them due again at once). Only the posts
        ``owner`` still holds: a call that outlived its lease changes nothing another worker
        or a new refresh has taken since. Returns the posts it changed."""
        rows = await self.session.scalars(
            update(TrackedPost)
            .where(TrackedPost.id.in_(ids), TrackedPost.lease_owner == owner)
            .values(next_fetch_at=until, lease_owner=None, lease_until=None, sync_id=None)
            .returning(TrackedPost.id)
        )
        return set(rows)

    # Syncs ---------------------------------------------------------------------------------

    async def start_syncs(self, ids: Sequence[uuid.UUID], now: datetime) -> None:
        if ids:
            await self.session.execute(
                update(Sync)
                .where(Sync.id.in_(ids), Sync.status == SyncStatus.QUEUED)
                .values(status=SyncStatus.RUNNING, started_at=now)
            )

    async def sync_traceparents(self, ids: Sequence[uuid.UUID]) -> list[str]:
        """The stored traces of the refresh requests that asked for these syncs."""
        if not ids:
            return []
        rows = await self.session.scalars(
            select(Sync.traceparent)
            .where(Sync.id.in_(ids), Sync.traceparent.is_not(None))
            .order_by(Sync.id)
        )
        return [t for t in rows if t]

    async def count_rate_limited(
        self, sync_id: uuid.UUID, platform: str, post_ids: Sequence[uuid.UUID], message: str
    ) -> None:
        """Posts of a sync the platform refused for now, or its budget holds: counted, and
        the sync finished if they were its last (no batch reaches the ingester for them)."""
        await self._count(_RATE_LIMITED, "rate_limited", sync_id, platform, post_ids, message)

    async def count_failed(
        self, sync_id: uuid.UUID, platform: str, post_ids: Sequence[uuid.UUID], message: str
    ) -> None:
        """Posts of a sync whose batch the platform refused for good: counted failed, and the
        sync finished if they were its last."""
        await self._count(_FAILED, "refused", sync_id, platform, post_ids, message)

    async def set_problem(self, account_id: uuid.UUID, problem: str | None, at: datetime) -> None:
        """Why the account's fetches are refused for good (None: they work again)."""
        await self.session.execute(
            update(Account)
            .where(Account.id == account_id)
            .values(problem=problem, problem_at=at if problem else None)
        )

    async def _count(
        self,
        statement: TextClause,
        gap: str,
        sync_id: uuid.UUID,
        platform: str,
        post_ids: Sequence[uuid.UUID],
        message: str,
    ) -> None:
        errors = [sync_error(p, platform, gap, message) for p in post_ids]
        await self.session.execute(
            statement,
            {
                "sync_id": sync_id,
                "count": len(post_ids),
                "platform": platform,
                "errors": json.dumps(errors),
            },
        )
        await finish_syncs(self.session, [sync_id])


BUDGETS = budget_tables.budgets

_OLDEST_DUE = text(f"""
SELECT least(
    (SELECT min(a.due) FROM unnest(CAST(:platforms AS text[])) AS p(platform)
     CROSS JOIN LATERAL (
        SELECT next_sync_at AS due FROM {SCHEMA}.accounts
        WHERE tracking AND platform = p.platform AND next_sync_at IS NOT NULL
              AND status = :active
        ORDER BY next_sync_at LIMIT 1) AS a),
    (SELECT min(t.due) FROM unnest(CAST(:platforms AS text[])) AS p(platform)
     CROSS JOIN LATERAL (
        SELECT tp.next_fetch_at AS due FROM {SCHEMA}.tracked_posts tp
        JOIN {SCHEMA}.accounts ac ON ac.id = tp.account_id AND ac.tracking
             AND ac.status = :active
        WHERE tp.status = :post_active AND tp.platform = p.platform
              AND tp.next_fetch_at IS NOT NULL
        ORDER BY tp.next_fetch_at LIMIT 1) AS t)
)
""")


def fetch_facts(rules: Mapping[str, Sequence[Rule]]) -> Reader:
    """``socialseed_sync_lag_seconds``: how far the oldest due fetch (an account's counters
    or a post's) is behind its planned time, from the fetchers' own due indexes per platform;
    ``socialseed_platform_budget_used`` / ``_limit`` for the app-wide read rules (an account's
    own rules would need an account label). A window that has ended reads 0 used; a rule
    counted from the platform's signals (Meta's app usage) reads its percentage of 100."""
    app_rules = [(platform, r) for platform, rs in rules.items() for r in rs if r.scope == "app"]
    budgets_sql = select(
        BUDGETS.c.bucket,
        BUDGETS.c.used,
        BUDGETS.c.limit,
        BUDGETS.c.used_percent,
        BUDGETS.c.reset_at,
    ).where(BUDGETS.c.bucket.in_([r.bucket for _, r in app_rules]))

    async def read(conn: AsyncConnection, now: datetime) -> list[Metric]:
        oldest = await conn.scalar(
            _OLDEST_DUE,
            {
                "platforms": [p.value for p in Platform],
                "active": AccountStatus.ACTIVE.value,
                "post_active": TrackedPostStatus.ACTIVE.value,
            },
        )
        lag = gauge(
            "socialseed_sync_lag_seconds",
            "How far the oldest due metrics fetch is behind its planned time (0: on plan)",
        )
        lag.add_metric([], age(now, oldest))
        rows = {r.bucket: r for r in await conn.execute(budgets_sql)} if app_rules else {}
        used = gauge(
            "socialseed_platform_budget_used",
            "Calls (or units) counted in an app-wide read rule's current window",
            ["platform", "rule"],
        )
        limit = gauge(
            "socialseed_platform_budget_limit",
            "What an app-wide read rule allows in one window",
            ["platform", "rule"],
        )
        for platform, rule in app_rules:
            row = rows.get(rule.bucket)
            current = row is not None and (row.reset_at is None or row.reset_at > now)
            if rule.window == "signals":
                spent = float(row.used_percent or 0) if current and row is not None else 0.0
                allowed = 100.0
            else:
                spent = float(row.used) if current and row is not None else 0.0
                allowed = float(row.limit if row is not None and row.limit else rule.limit)
            used.add_metric([platform, rule.bucket], spent)
            limit.add_metric([platform, rule.bucket], allowed)
        return [lag, used, limit]

    return read
