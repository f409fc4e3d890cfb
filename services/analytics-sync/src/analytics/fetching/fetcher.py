"""The fetch workers: ``fetch_concurrency`` loops in every replica, each taking one unit of
due work at a time, in three steps of which only the middle one crosses the network:

1. *claim* (short transaction): an account whose backfill or counters are due, else the
   oldest due post's account with up to its platform's ``metrics_batch_size`` due posts
   (``FOR UPDATE SKIP LOCKED``: another worker takes other rows); the cost is reserved in
   every budget the call counts against (``budgets``), then the rows are leased. A budget that
   cannot take it holds the work (leased to ``budget``) until it frees: no call is made that
   the platform would refuse.
2. *platform* (no transaction open): the token from the vault (refreshed once if the platform
   refuses it), then the call.
3. *record* (one transaction): one ``metrics.fetched`` per batch (per sync it answers) into
   the outbox, the posts due again by their age, leases dropped, the response's rate signals
   applied to the budgets.

A crash between 2 and 3 loses nothing: the lease runs out and the batch is fetched again (a
fetch is a read, and a snapshot is written once per ``fetched_at``). A 429 anyway blocks that
bucket until the platform's ``retry_after`` and holds the batch as long; other platforms and
accounts go on.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from analytics.context import AnalyticsContext
from analytics.fetching.repository import DuePost, FetchRepository
from analytics.fetching.schedule import account_phase, next_fetch
from analytics.fetching.usage import FetchUsage, fetch_budgets
from analytics.models import Account
from analytics.tracking.repository import TrackingRepository
from socialseed import tracing
from socialseed.budgets.engine import Charge, Refusal
from socialseed.contracts import (
    FetchedAccountMetrics,
    FetchedPostFailure,
    FetchedPostMetrics,
    MetricsFetched,
)
from socialseed.platforms import Platform
from socialseed.platforms.base import (
    ACCOUNT_METRICS,
    POST_METRICS,
    AccountMetrics,
    ErrorKind,
    MetricsBatch,
    PlatformError,
)
from socialseed.vault import AccountUnusable, VaultUnavailable

log = logging.getLogger(__name__)


# A platform's 429 without a Retry-After of its own.
DEFAULT_RETRY_AFTER = timedelta(seconds=60)


@dataclass(frozen=True)
class PostWork:
    account: Account
    posts: list[DuePost]
    charges: list[Charge]
    # The traces of the refresh requests whose syncs these posts are fetched for.
    traceparents: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class AccountWork:
    account: Account
    backfill: bool
    charges: list[Charge]
    # The trace of the refresh request whose sync made the account due, if one did.
    traceparents: list[str] = field(default_factory=list)


class FetchWorkers:
    def __init__(self, ctx: AnalyticsContext, name: str | None = None) -> None:
        self.ctx = ctx
        self.settings = ctx.settings
        self.budgets = fetch_budgets(ctx.settings)
        self.usage = FetchUsage()
        self.owner = name or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.batch = {p.value: prov.metrics_batch_size for p, prov in ctx.providers.items()}
        self.tracer = tracing.job_tracer(ctx.settings, ctx.runtime.tracer_provider)

    async def run(self) -> None:
        """The loops of this process (a background job of the app)."""
        await asyncio.gather(*(self._loop() for _ in range(self.settings.fetch_concurrency)))

    async def _loop(self) -> None:
        while True:
            try:
                worked = await self.turn()
            except asyncio.CancelledError:
                raise
            except Exception:  # a lease hands the work on; log and carry on
                log.exception("fetch turn failed")
                worked = False
            if not worked:
                await asyncio.sleep(self.settings.fetch_idle_wait)

    async def turn(self) -> bool:
        """One unit of work (account work first); False when nothing was due."""
        account = await self._claim_account()
        if account is not None:
            if isinstance(account, AccountWork):
                # One trace per unit of work found (none for an idle turn): the platform
                # call, the writes and the ``metrics.fetched`` events it publishes; a sync's
                # work continues the trace of the request that asked for the sync.
                with tracing.job(
                    self.tracer,
                    "fetch account metrics",
                    traceparents=account.traceparents,
                    **{"socialseed.platform": account.account.platform},
                ):
                    await self._account(account)
            return True
        work = await self._claim_posts()
        if work is None:
            return False
        if isinstance(work, PostWork):
            # A sync's posts continue the trace of the request that asked for it (a batch of
            # several syncs' posts: its own trace, linked to each).
            with tracing.job(
                self.tracer,
                "fetch post metrics",
                traceparents=work.traceparents,
                **{
                    "socialseed.platform": work.account.platform,
                    "socialseed.posts": len(work.posts),
                },
            ):
                await self._posts(work)
        return True

    async def drain(self) -> int:
        """Turns until nothing is due that another transaction does not hold (tests and
        benches drive the workers with it). Claims skip locked rows, so work that the ingester
        or a tracking consumer holds at that moment is left to a later drain, as running
        workers would pick it up on their next turn: a caller waiting for an outcome drains
        again while it waits."""
        turns = 0
        while await self.turn():
            turns += 1
        return turns

    # claims --------------------------------------------------------------------------------

    async def _claim_account(self) -> AccountWork | object | None:
        now = self.ctx.clock()
        async with self.ctx.db.transaction() as session:
            repo = FetchRepository(session)
            closed = await self.budgets.closed_platforms(session, now)
            account = await repo.claim_account(now, closed)
            if account is None:
                return None
            session.expunge(account)  # read after this transaction, as it was claimed
            backfill = account.backfill_requested_at is not None and (
                account.backfilled_at is None
                or account.backfilled_at < account.backfill_requested_at
            )
            # One call for the counters and one at least for the listing (its pages are
            # counted once known).
            charges = self.budgets.charges(
                account.platform,
                account.platform_user_id,
                1 + int(backfill),
                now,
                account.workspace_id,
            )
            refusal = await self.budgets.reserve(session, charges, now, self.usage)
            if refusal is not None:
                await self._refused(session, account, refusal, now, account_work=True)
                return _REFUSED
            await repo.lease_account(account.id, self.owner, now + self.settings.fetch_lease)
            traceparents = await repo.sync_traceparents(
                [account.sync_id] if account.sync_id else []
            )
            return AccountWork(account, backfill, charges, traceparents)

    async def _claim_posts(self) -> PostWork | object | None:
        now = self.ctx.clock()
        async with self.ctx.db.transaction() as session:
            repo = FetchRepository(session)
            closed = await self.budgets.closed_platforms(session, now)
            claimed = await repo.claim_posts(now, closed, self.batch)
            if claimed is None:
                return None
            account, posts = claimed
            provider = self.ctx.providers[Platform(account.platform)]
            charges = self.budgets.charges(
                account.platform,
                account.platform_user_id,
                provider.metrics_cost(
                    [p.platform_post_id for p in posts], account.platform_user_id
                ),
                now,
                account.workspace_id,
            )
            refusal = await self.budgets.reserve(session, charges, now, self.usage)
            if refusal is not None:
                await self._refused(session, account, refusal, now, posts=posts)
                return _REFUSED
            await repo.lease_posts(
                [p.id for p in posts], self.owner, now + self.settings.fetch_lease
            )
            syncs = sorted({p.sync_id for p in posts if p.sync_id})
            await repo.start_syncs(syncs, now)
            return PostWork(account, posts, charges, await repo.sync_traceparents(syncs))

    async def _refused(
        self,
        session: AsyncSession,
        account: Account,
        refusal: Refusal,
        now: datetime,
        *,
        posts: list[DuePost] | None = None,
        account_work: bool = False,
    ) -> None:
        """A budget cannot take the call: it is blocked until it frees, and the work waits as
        long (an account's whole due work when the budget is the account's own). Posts a sync
        asked for are counted in it as rate limited, so the sync finishes rather than stay
        running until the budget's reset; they are fetched then on their schedule.

        Refused the workspace's fair share of an app-wide budget (others wait), the budget
        stays open for the other workspaces: only this account's due work waits, until the
        share is looked at again."""
        repo = FetchRepository(session)
        if not refusal.share:
            await self.budgets.block(
                session, refusal.bucket, account.platform, refusal.until, "budget spent"
            )
        held: dict[uuid.UUID, list[uuid.UUID]] = {}
        if account_work:
            await repo.finish_account(account.id, None, lease_until=refusal.until)
        elif refusal.scope == "account" or refusal.share:
            held = await repo.hold_account_posts(account.id, now, refusal.until)
        elif posts:
            await repo.release_posts([p.id for p in posts], refusal.until, leave_sync=True)
            held = {s: [p.id for p in of_sync] for s, of_sync in _by_sync(posts).items()}
        name = self.ctx.providers[Platform(account.platform)].name
        limit = f"this workspace's share of {name}'s" if refusal.share else f"{name}'s"
        message = (
            f"Waiting for {limit} rate limit until {refusal.until:%Y-%m-%d %H:%M} UTC; "
            "fetched then."
        )
        await repo.start_syncs(sorted(held), now)
        for sync_id, ids in held.items():
            await repo.count_rate_limited(sync_id, account.platform, ids, message)

    # platform calls ------------------------------------------------------------------------

    async def _account(self, work: AccountWork) -> None:
        account, provider = work.account, self.ctx.providers[Platform(work.account.platform)]
        now = self.ctx.clock()
        try:
            listed = 0
            if work.backfill:
                since = now - timedelta(days=self.settings.backfill_days)
                listing = await self.ctx.vault.call(
                    account.id, lambda t: provider.list_posts(t, since)
                )
                async with self.ctx.db.transaction() as session:
                    listed = await TrackingRepository(session).record_listing(
                        account, listing.posts, now=now
                    )
                    await TrackingRepository(session).mark_backfilled(
                        account.id, max(now, account.backfill_requested_at or now)
                    )
                    await self.budgets.add(session, work.charges, listing.calls - 1, now)
                    await self.budgets.apply(session, account.platform, listing.signals, now)
            metrics = await self.ctx.vault.call(account.id, provider.fetch_account_metrics)
        except (AccountUnusable, VaultUnavailable) as exc:
            log.info("account %s skipped: %s", account.id, exc)
            return  # its lease runs out; accounts' events say what became of it
        except PlatformError as exc:
            await self._account_failed(account, exc, now)
            return
        fetched_at = self.ctx.clock()
        async with self.ctx.db.transaction() as session:
            await self.ctx.outbox.add(
                session,
                self._event(account, fetched_at, account.sync_id, account_metrics=metrics),
                key=str(account.id),
            )
            await FetchRepository(session).finish_account(
                account.id, fetched_at + self.settings.account_every
            )
            if account.problem is not None:  # it works again
                await FetchRepository(session).set_problem(account.id, None, fetched_at)
            # One call was reserved for the counters; some platforms take more (Meta: the
            # node and its insights).
            await self.budgets.add(session, work.charges, metrics.calls - 1, fetched_at)
            await self.budgets.apply(session, account.platform, metrics.signals, fetched_at)
        log.info("account %s: %d posts newly tracked", account.id, listed)

    async def _account_failed(self, account: Account, exc: PlatformError, now: datetime) -> None:
        log.warning("account %s counters not fetched: %r %s", account.id, exc, exc.message)
        async with self.ctx.db.transaction() as session:
            if exc.kind is ErrorKind.RATE_LIMITED:
                until = await self._blocked(session, account, exc, now)
                await FetchRepository(session).finish_account(account.id, None, lease_until=until)
            elif exc.kind is ErrorKind.REAUTH_REQUIRED:
                return  # left alone until connected again (the lease runs out meanwhile)
            elif exc.kind is ErrorKind.TRANSIENT:  # try again after a lease's time
                await FetchRepository(session).finish_account(
                    account.id, None, lease_until=now + self.settings.fetch_lease
                )
            else:  # refused (a scope not granted, say): asked again on its next turn only
                await FetchRepository(session).finish_account(
                    account.id, now + self.settings.account_every
                )
                await FetchRepository(session).set_problem(account.id, exc.message, now)

    async def _posts(self, work: PostWork) -> None:
        account, provider = work.account, self.ctx.providers[Platform(work.account.platform)]
        ids = [p.platform_post_id for p in work.posts]
        now = self.ctx.clock()
        try:
            batch = await self.ctx.vault.call(
                account.id, lambda t: provider.fetch_post_metrics(t, ids)
            )
        except (AccountUnusable, VaultUnavailable) as exc:
            log.info("account %s skipped: %s", account.id, exc)
            return
        except PlatformError as exc:
            await self._posts_failed(work, exc, now)
            return
        fetched_at = self.ctx.clock()
        await self._record(work, batch, fetched_at)

    async def _record(self, work: PostWork, batch: MetricsBatch, fetched_at: datetime) -> None:
        account = work.account
        by_sync: dict[uuid.UUID | None, list[DuePost]] = defaultdict(list)
        for post in work.posts:
            by_sync[post.sync_id].append(post)
        events = [
            (self._event(account, fetched_at, sync_id, posts=posts, batch=batch), str(account.id))
            for sync_id, posts in by_sync.items()
        ]
        tiers, phase = self.settings.post_schedule, account_phase(account.id)
        async with self.ctx.db.transaction() as session:
            await self.ctx.outbox.add_many(session, events)
            if account.problem is not None:  # it works again
                await FetchRepository(session).set_problem(account.id, None, fetched_at)
            await FetchRepository(session).finish_posts(
                fetched_at,
                work.posts,
                [next_fetch(p.published_at, fetched_at, tiers, phase) for p in work.posts],
            )

            # A call more than reserved (X asks again without private metrics for the posts
            # it refused them for) is counted too; the platform's signals then correct it.
            reserved = max((c.cost for c in work.charges), default=0)
            await self.budgets.add(session, work.charges, batch.calls - reserved, fetched_at)
            await self.budgets.apply(session, account.platform, batch.signals, fetched_at)

    async def _posts_failed(self, work: PostWork, exc: PlatformError, now: datetime) -> None:
        account, posts = work.account, work.posts
        async with self.ctx.db.transaction() as session:
            repo = FetchRepository(session)
            if exc.kind is ErrorKind.REAUTH_REQUIRED:
                return  # left alone; the leases run out
            if exc.kind is ErrorKind.RATE_LIMITED:
                until = await self._blocked(session, account, exc, now)
                await repo.release_posts([p.id for p in posts], until, leave_sync=True)
                for sync_id, of_sync in _by_sync(posts).items():
                    await repo.count_rate_limited(
                        sync_id, account.platform, [p.id for p in of_sync], exc.message
                    )
                return
            if exc.kind in (ErrorKind.PERMANENT, ErrorKind.BAD_REQUEST):
                # Refused for good (a permission not granted, say): counted failed in their
                # syncs with the platform's words, the account's problem until a fetch works,
                # asked again on the account's next turn (or a refresh) rather than every lease.
                held = await repo.postpone_posts(
                    [p.id for p in posts], self.owner, now + self.settings.account_every
                )
                if not held:  # the lease ran out meanwhile: what was taken since stands
                    return
                mine = [p for p in posts if p.id in held]
                for sync_id, of_sync in _by_sync(mine).items():
                    await repo.count_failed(
                        sync_id, account.platform, [p.id for p in of_sync], exc.message
                    )
                await repo.set_problem(account.id, exc.message, now)
                return
            # transient (5xx, timeouts): the same batch again after a lease's time
            await repo.release_posts([p.id for p in posts], now + self.settings.fetch_lease)

    async def _blocked(
        self, session: AsyncSession, account: Account, exc: PlatformError, now: datetime
    ) -> datetime:
        """The bucket a 429 hit (the account's own where the platform counts per account,
        else the app's) is blocked until the platform's ``retry_after``."""
        wait = timedelta(seconds=exc.retry_after) if exc.retry_after else DEFAULT_RETRY_AFTER
        until = now + wait
        charges = self.budgets.charges(account.platform, account.platform_user_id, 0, now)
        counted = [c for c in charges if c.rule.window != "signals"] or charges
        own = [c for c in counted if c.scope == "account"] or counted
        for charge in own[:1]:
            await self.budgets.block(
                session,
                charge.bucket,
                account.platform,
                until,
                f"{exc.status or 429}: {exc.message}",
            )
        return until

    # events --------------------------------------------------------------------------------

    def _event(
        self,
        account: Account,
        fetched_at: datetime,
        sync_id: uuid.UUID | None,
        *,
        posts: list[DuePost] | None = None,
        batch: MetricsBatch | None = None,
        account_metrics: AccountMetrics | None = None,
    ) -> MetricsFetched:
        tracked = {p.platform_post_id: p.id for p in posts or []}
        items = [m for m in batch.metrics if m.post_id in tracked] if batch else []
        failures = [f for f in batch.failures if f.post_id in tracked] if batch else []
        return MetricsFetched(
            account_id=account.id,
            workspace_id=account.workspace_id,
            platform=account.platform,
            fetched_at=fetched_at,
            sync_id=sync_id,
            posts=[
                FetchedPostMetrics(
                    tracked_post_id=tracked[m.post_id],
                    platform_post_id=m.post_id,
                    raw=dict(m.raw),
                    **{k: getattr(m, k) for k in POST_METRICS},
                )
                for m in items
            ],
            failures=[
                FetchedPostFailure(
                    tracked_post_id=tracked[f.post_id],
                    platform_post_id=f.post_id,
                    gap=f.gap.value,
                    message=f.message,
                )
                for f in failures
            ],
            account=FetchedAccountMetrics(
                raw=dict(account_metrics.raw),
                **{k: getattr(account_metrics, k) for k in ACCOUNT_METRICS},
            )
            if account_metrics is not None
            else None,
        )


def _by_sync(posts: list[DuePost]) -> dict[uuid.UUID, list[DuePost]]:
    grouped: dict[uuid.UUID, list[DuePost]] = defaultdict(list)
    for post in posts:
        if post.sync_id is not None:
            grouped[post.sync_id].append(post)
    return grouped


# A claim the budgets refused (work was held): a turn that did something, with no call made.
_REFUSED = object()
