"""The rate budgets a service's calls to the platforms count against, shared by every worker
of every replica: all state is in the service's ``budgets`` / ``budget_shares`` tables
(``socialseed.budgets.tables``), the arithmetic in ``socialseed.budgets.rules``.

A call first *reserves* its cost in every budget it counts against (``Budgets.charges``, from
the rules its platform's provider declares, as the service's settings may override them):
each bucket's row is taken with its lock (an upsert), the pure ``take`` says whether the call
fits, and the new count is written; two workers can never both take the last units. All the
charges of a call are taken, or none (a savepoint gives back those taken before a refusal).

What the platform says corrects the count (``apply``): X's ``x-rate-limit-remaining`` /
``reset`` replace it; Meta's usage percentages stop a bucket at ``SignalPolicy.threshold``
(for ``cooloff``, or Meta's ``estimated_time_to_regain_access``). A 429 anyway (``Retry-After``,
YouTube's ``quotaExceeded``) blocks the bucket it hit until then (``block``).

Fair shares: an app-wide budget (``scope = app``: YouTube's project units, TikTok's client,
LinkedIn's app, X's app-wide publishes) is shared by every tenant, so each workspace's part of
it is counted too (``budget_shares``, per window of the budget). A workspace may call while it
has taken less than its share: the limit divided among the workspaces waiting, its own and
every other with work of that platform due now (``Usage.waiting``, the service's question).
Alone, a workspace can use the whole budget; one that asks for everything cannot starve the
others; once they have nothing due, it goes on. A call past the share is refused for that
workspace only (``Refusal.share``): the budget stays open for the others, and the workspace's
work waits ``recheck`` (or to the window's end). The check runs under the budget row's lock
that the reservation took, so the workers of every replica see each other's shares.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

from sqlalchemy import Row, and_, bindparam, case, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from socialseed.budgets.rules import (
    Count,
    Rule,
    counted_limit,
    fair,
    refused_until,
    rolling_frees_at,
    take,
    window_end,
)
from socialseed.budgets.tables import BudgetTables
from socialseed.platforms.base import RateSignal

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Charge:
    """``cost`` units of a call of ``platform`` against ``bucket`` (of ``rule``); ``limit`` as
    counted in a window ending at ``reset_at`` were one to open now."""

    rule: Rule
    bucket: str
    platform: str
    limit: int
    cost: int
    reset_at: datetime
    # The workspace whose work the call is for: its share of an app-wide budget is counted.
    workspace_id: uuid.UUID | None = None

    @property
    def scope(self) -> str:
        return self.rule.scope


@dataclass(frozen=True)
class Refusal:
    """``bucket`` cannot take the call until ``until``. ``why``: ``blocked`` (a platform's
    429 or a budget found spent), ``spent`` (the window holds no more), ``share`` (the budget
    has room, but not for this workspace while others wait: it alone waits)."""

    charge: Charge
    until: datetime
    why: Literal["blocked", "spent", "share"]

    @property
    def bucket(self) -> str:
        return self.charge.bucket

    @property
    def scope(self) -> str:
        return self.charge.scope

    @property
    def share(self) -> bool:
        return self.why == "share"


class Usage(Protocol):
    """What only the service knows, asked during a reservation (in its transaction)."""

    async def waiting(
        self, session: AsyncSession, platform: str, workspace_id: uuid.UUID, now: datetime
    ) -> int:
        """How many workspaces other than ``workspace_id`` have work of ``platform`` due."""
        ...

    async def nth_latest(self, session: AsyncSession, n: int, since: datetime) -> datetime | None:
        """For a ``rolling`` rule: the ``n``-th most recent call counted after ``since``."""
        ...


@dataclass(frozen=True)
class SignalPolicy:
    """Meta's usage percentages: a bucket at ``threshold`` stops for ``cooloff`` (or the time
    Meta names, if longer)."""

    threshold: float = 80.0
    cooloff: timedelta = timedelta(minutes=10)


class Budgets:
    def __init__(
        self,
        tables: BudgetTables,
        rules: Mapping[str, Sequence[Rule]],
        *,
        recheck: timedelta,
        signals: SignalPolicy | None = None,
    ) -> None:
        self.budgets, self.shares = tables.budgets, tables.shares
        self.rules = rules
        self.recheck = recheck
        self.signals = signals or SignalPolicy()

    # what a call counts against ------------------------------------------------------------

    def charges(
        self,
        platform: str,
        user: str,
        cost: int,
        now: datetime,
        workspace_id: uuid.UUID | None = None,
    ) -> list[Charge]:
        """What a call costing ``cost`` on the account whose key is ``user`` (of
        ``workspace_id``: its share of app-wide budgets is counted) counts against, in the
        order the rules are declared. Signal-only buckets come with cost 0: only their blocks
        matter."""
        return [
            Charge(
                rule,
                rule.key(user),
                platform,
                counted_limit(rule),
                0 if rule.window == "signals" else cost,
                window_end(rule, now),
                workspace_id if rule.scope == "app" and rule.window != "signals" else None,
            )
            for rule in self.rules.get(platform, [])
        ]

    def app_buckets(self, platform: str) -> list[str]:
        return [r.bucket for r in self.rules.get(platform, []) if r.scope == "app"]

    # reservation ---------------------------------------------------------------------------

    async def reserve(
        self, session: AsyncSession, charges: Sequence[Charge], now: datetime, usage: Usage
    ) -> Refusal | None:
        """Take every charge, or none (a savepoint undoes the ones taken before a refusal):
        None, or the refusing bucket and when it frees."""
        # Only a counted window writes (a rolling rule just counts): without one, a refusal
        # has nothing to give back and the savepoint's two round trips are saved.
        writes = any(c.rule.window != "rolling" for c in charges)
        savepoint = await session.begin_nested() if writes else None
        for charge in charges:
            if charge.cost > charge.limit:  # never fits: a rule set without its largest_call
                log.warning(
                    "a call counting %d cannot fit %s's limit of %d per window; raise the "
                    "rule's largest_call",
                    charge.cost,
                    charge.bucket,
                    charge.limit,
                )
            refusal = await self._take(session, charge, now, usage)
            if refusal is not None:
                if savepoint is not None:
                    await savepoint.rollback()
                return refusal
        if savepoint is not None:
            await savepoint.commit()
        return None

    async def _take(
        self, session: AsyncSession, charge: Charge, now: datetime, usage: Usage
    ) -> Refusal | None:
        count = await self._lock(session, charge, now)
        if count.blocked_until is not None and count.blocked_until > now:
            return Refusal(charge, refused_until(count, now), "blocked")
        if charge.rule.window == "rolling":
            nth = await usage.nth_latest(session, charge.rule.limit, now - charge.rule.every)
            frees = rolling_frees_at(nth, charge.rule, now)
            return Refusal(charge, frees, "spent") if frees is not None else None
        taken = take(count, charge.limit, charge.cost, now, charge.reset_at)
        if taken is None:
            return Refusal(charge, refused_until(count, now), "spent")
        b = self.budgets.c
        await session.execute(
            update(self.budgets)
            .where(b.bucket == charge.bucket)
            .values(
                used=taken.used,
                limit=taken.limit,
                window_start=taken.window_start,
                reset_at=taken.reset_at,
                updated_at=func.now(),
            )
        )
        if charge.workspace_id is None or charge.cost <= 0:
            return None
        assert taken.window_start is not None and taken.reset_at is not None
        limit = taken.limit if taken.limit is not None else charge.limit
        if await self._within_share(session, charge, limit, taken.window_start, now, usage):
            return None
        return Refusal(charge, min(taken.reset_at, now + self.recheck), "share")

    async def _lock(self, session: AsyncSession, charge: Charge, now: datetime) -> Count:
        """The bucket's row, created if new (a window opened now) and locked until the
        transaction ends: every other worker charging it waits for this one."""
        b = self.budgets
        rolling = charge.rule.window == "rolling"
        row = insert(b).values(
            bucket=charge.bucket,
            platform=charge.platform,
            limit=charge.limit,
            used=0,
            window_start=None if rolling else now,
            reset_at=None if rolling else charge.reset_at,
        )
        locked = row.on_conflict_do_update(
            index_elements=[b.c.bucket], set_={"platform": b.c.platform}
        ).returning(b.c.used, b.c.limit, b.c.window_start, b.c.reset_at, b.c.blocked_until)
        used, limit, window_start, reset_at, blocked_until = (await session.execute(locked)).one()
        return Count(used, limit, window_start, reset_at, blocked_until)

    async def _within_share(
        self,
        session: AsyncSession,
        charge: Charge,
        limit: int,
        window_start: datetime,
        now: datetime,
        usage: Usage,
    ) -> bool:
        """Count the charge in its workspace's share of the bucket (a share of an earlier
        window starts again at this call); whether it fits (``fair``)."""
        s = self.shares
        row = insert(s).values(
            bucket=charge.bucket,
            workspace_id=charge.workspace_id,
            window_start=window_start,
            used=charge.cost,
        )
        ex = row.excluded
        counted = row.on_conflict_do_update(
            index_elements=[s.c.bucket, s.c.workspace_id],
            set_={
                "used": case(
                    (s.c.window_start == ex.window_start, s.c.used + ex.used), else_=ex.used
                ),
                "window_start": ex.window_start,
                "updated_at": func.now(),
            },
        ).returning(s.c.used)
        taken = int(await session.scalar(counted) or 0) - charge.cost
        assert charge.workspace_id is not None
        waiting = await usage.waiting(session, charge.platform, charge.workspace_id, now)
        return fair(taken, limit, waiting)

    # what happened -------------------------------------------------------------------------

    async def block(
        self, session: AsyncSession, bucket: str, platform: str, until: datetime, why: str | None
    ) -> None:
        """Nothing is charged to ``bucket`` before ``until`` (a 429, a budget found spent)."""
        b = self.budgets
        row = insert(b).values(
            bucket=bucket, platform=platform, blocked_until=until, last_signal={"why": why}
        )
        await session.execute(
            row.on_conflict_do_update(
                index_elements=[b.c.bucket],
                set_={
                    "blocked_until": func.greatest(b.c.blocked_until, row.excluded.blocked_until),
                    "last_signal": row.excluded.last_signal,
                    "updated_at": func.now(),
                },
            )
        )

    async def add(
        self, session: AsyncSession, charges: Iterable[Charge], calls: int, now: datetime
    ) -> None:
        """Count ``calls`` more (a listing's pages, known only once done) without a check."""
        b, s = self.budgets.c, self.shares.c
        for charge in charges:
            if not charge.cost or calls <= 0:
                continue
            await session.execute(
                update(self.budgets)
                .where(b.bucket == charge.bucket, b.reset_at > now)
                .values(used=b.used + calls, updated_at=func.now())
            )
            if charge.workspace_id is not None:
                await session.execute(
                    update(self.shares)
                    .where(
                        s.bucket == charge.bucket,
                        s.workspace_id == charge.workspace_id,
                        b.bucket == s.bucket,
                        b.window_start == s.window_start,
                        b.reset_at > now,
                    )
                    .values(used=s.used + calls, updated_at=func.now())
                )

    async def apply(
        self, session: AsyncSession, platform: str, signals: Iterable[RateSignal], now: datetime
    ) -> None:
        """What the platform said about its budgets: X's remaining count replaces ours (the
        platform knows); Meta's percentages are kept, and stop a bucket near its limit."""
        b = self.budgets
        for signal in signals:
            blocked = None
            if signal.used_percent is not None and signal.used_percent >= self.signals.threshold:
                regain = timedelta(seconds=signal.regain_after_s or 0)
                blocked = now + max(self.signals.cooloff, regain)
            elif signal.regain_after_s:
                blocked = now + timedelta(seconds=signal.regain_after_s)
            counted = signal.limit is not None and signal.remaining is not None
            row = insert(b).values(
                bucket=signal.bucket,
                platform=platform,
                limit=signal.limit,
                used=signal.limit - signal.remaining if counted else 0,  # type: ignore[operator]
                remaining=signal.remaining,
                used_percent=signal.used_percent,
                window_start=now,
                reset_at=signal.reset_at,
                blocked_until=blocked,
                last_signal=_said(signal),
            )
            ex = row.excluded
            await session.execute(
                row.on_conflict_do_update(
                    index_elements=[b.c.bucket],
                    set_={
                        "limit": func.coalesce(ex.limit, b.c.limit),
                        "used": case(
                            (and_(ex.remaining.is_not(None), ex.limit.is_not(None)), ex.used),
                            else_=b.c.used,
                        ),
                        "remaining": func.coalesce(ex.remaining, b.c.remaining),
                        "used_percent": func.coalesce(ex.used_percent, b.c.used_percent),
                        "reset_at": func.coalesce(ex.reset_at, b.c.reset_at),
                        "blocked_until": func.greatest(b.c.blocked_until, ex.blocked_until),
                        "last_signal": ex.last_signal,
                        "updated_at": func.now(),
                    },
                )
            )

    # reading -------------------------------------------------------------------------------

    async def closed_platforms(self, session: AsyncSession, now: datetime) -> list[str]:
        """Platforms whose app-wide budget is blocked: no claim takes their work for now."""
        return sorted(await self.closed_until(session, now))

    async def closed_until(self, session: AsyncSession, now: datetime) -> dict[str, datetime]:
        """Each closed platform (an app-wide budget blocked) and when it opens again: when
        the last of its blocked app-wide budgets frees."""
        b = self.budgets.c
        wanted = sorted({bucket for p in self.rules for bucket in self.app_buckets(p)})
        rows = await session.execute(
            select(b.bucket, b.blocked_until).where(b.bucket.in_(wanted), b.blocked_until > now)
        )
        blocked = {bucket: until for bucket, until in rows}
        closed: dict[str, datetime] = {}
        for platform in self.rules:
            untils = [blocked[k] for k in self.app_buckets(platform) if k in blocked]
            if untils:
                closed[platform] = max(untils)
        return closed

    async def read(self, session: AsyncSession, buckets: Sequence[str]) -> list[Row[Any]]:
        """The rows of ``buckets`` as stored (for a status page)."""
        b = self.budgets.c
        query = select(self.budgets).where(b.bucket.in_(buckets)).order_by(b.bucket)
        return list((await session.execute(query)).all())


def _said(signal: RateSignal) -> dict[str, Any]:
    return {
        "limit": signal.limit,
        "remaining": signal.remaining,
        "reset_at": signal.reset_at.isoformat() if signal.reset_at else None,
        "used_percent": signal.used_percent,
        "regain_after_s": signal.regain_after_s,
    }


class BatchUsage(Protocol):
    """What only the service knows, for a batch of calls (in its transaction): the same
    questions as ``Usage``, each answered for the whole batch at once where it can be."""

    async def waiting(
        self, session: AsyncSession, platform: str, workspace_id: uuid.UUID, now: datetime
    ) -> int:
        """How many workspaces other than ``workspace_id`` have work of ``platform`` due."""
        ...

    def nth_latest(self, call: int, n: int, since: datetime) -> datetime | None:
        """For a ``rolling`` rule: the ``n``-th most recent call counted after ``since``, for
        the batch's ``call``-th call (read for the whole batch before any is reserved)."""
        ...


class BatchReservation:
    """Reservations for a batch of calls in one transaction, with the statements of a batch,
    not of each call: every bucket the batch counts against is locked (in bucket order) and
    read in one statement, the workspaces' shares of them in one more; each call is then
    reserved in memory under those locks, by the same rules as ``Budgets.reserve`` (all its
    charges or none, in the order given), and ``write`` stores the new counts and shares in
    one statement each. Nothing else can charge a locked bucket meanwhile, so what is counted
    in memory is what the rows would say."""

    def __init__(self, budgets: Budgets, session: AsyncSession, now: datetime) -> None:
        self.budgets = budgets
        self.session = session
        self.now = now
        self.counts: dict[str, Count] = {}
        self.shares: dict[tuple[str, uuid.UUID], tuple[datetime, int]] = {}
        self.changed: set[str] = set()
        self.changed_shares: set[tuple[str, uuid.UUID]] = set()

    async def lock(self, charges: Iterable[Charge]) -> None:
        """Lock and read every bucket of ``charges`` (one statement), and the shares of the
        workspaces they name (one more)."""
        charges = list(charges)
        b = self.budgets.budgets
        rows: dict[str, dict[str, Any]] = {}
        for charge in charges:
            rolling = charge.rule.window == "rolling"
            rows.setdefault(
                charge.bucket,
                {
                    "bucket": charge.bucket,
                    "platform": charge.platform,
                    "limit": charge.limit,
                    "used": 0,
                    "window_start": None if rolling else self.now,
                    "reset_at": None if rolling else charge.reset_at,
                },
            )
        if not rows:
            return
        row = insert(b).values([rows[bucket] for bucket in sorted(rows)])
        locked = row.on_conflict_do_update(
            index_elements=[b.c.bucket], set_={"platform": b.c.platform}
        ).returning(
            b.c.bucket, b.c.used, b.c.limit, b.c.window_start, b.c.reset_at, b.c.blocked_until
        )
        for bucket, *count in await self.session.execute(locked):
            self.counts[bucket] = Count(*count)
        wanted = {
            (c.bucket, c.workspace_id)
            for c in charges
            if c.workspace_id is not None and c.cost > 0 and c.rule.window != "rolling"
        }
        if wanted:
            s = self.budgets.shares.c
            found = await self.session.execute(
                select(s.bucket, s.workspace_id, s.window_start, s.used).where(
                    s.bucket.in_(sorted({bucket for bucket, _ in wanted})),
                    s.workspace_id.in_(sorted({ws for _, ws in wanted if ws is not None})),
                )
            )
            for bucket, workspace_id, window_start, used in found:
                self.shares[(bucket, workspace_id)] = (window_start, used)

    async def reserve(
        self, charges: Sequence[Charge], call: int, usage: BatchUsage
    ) -> Refusal | None:
        """Take every charge of the batch's ``call``-th call, or none: None, or the refusing
        bucket and when it frees."""
        now = self.now
        counts: dict[str, Count] = {}
        shares: dict[tuple[str, uuid.UUID], tuple[datetime, int]] = {}
        for charge in charges:
            if charge.cost > charge.limit:
                log.warning(
                    "a call counting %d cannot fit %s's limit of %d per window; raise the "
                    "rule's largest_call",
                    charge.cost,
                    charge.bucket,
                    charge.limit,
                )
            count = counts.get(charge.bucket) or self.counts[charge.bucket]
            if count.blocked_until is not None and count.blocked_until > now:
                return Refusal(charge, refused_until(count, now), "blocked")
            if charge.rule.window == "rolling":
                nth = usage.nth_latest(call, charge.rule.limit, now - charge.rule.every)
                frees = rolling_frees_at(nth, charge.rule, now)
                if frees is not None:
                    return Refusal(charge, frees, "spent")
                continue
            taken = take(count, charge.limit, charge.cost, now, charge.reset_at)
            if taken is None:
                return Refusal(charge, refused_until(count, now), "spent")
            counts[charge.bucket] = taken
            if charge.workspace_id is None or charge.cost <= 0:
                continue
            assert taken.window_start is not None and taken.reset_at is not None
            limit = taken.limit if taken.limit is not None else charge.limit
            key = (charge.bucket, charge.workspace_id)
            start, used = shares.get(key) or self.shares.get(key) or (taken.window_start, 0)
            before = used if start == taken.window_start else 0
            shares[key] = (taken.window_start, before + charge.cost)
            waiting = await usage.waiting(self.session, charge.platform, charge.workspace_id, now)
            if not fair(before, limit, waiting):
                return Refusal(charge, min(taken.reset_at, now + self.budgets.recheck), "share")
        self.counts |= counts
        self.changed |= counts.keys()
        self.shares |= shares
        self.changed_shares |= shares.keys()
        return None

    async def write(self) -> None:
        """The counts and shares the reservations changed: one statement each."""
        if self.changed:
            b = self.budgets.budgets
            await self.session.execute(
                update(b)
                .where(b.c.bucket == bindparam("b_bucket"))
                .values(
                    used=bindparam("b_used"),
                    limit=bindparam("b_limit"),
                    window_start=bindparam("b_window_start"),
                    reset_at=bindparam("b_reset_at"),
                    updated_at=func.now(),
                ),
                [
                    {
                        "b_bucket": bucket,
                        "b_used": count.used,
                        "b_limit": count.limit,
                        "b_window_start": count.window_start,
                        "b_reset_at": count.reset_at,
                    }
                    for bucket in sorted(self.changed)
                    for count in (self.counts[bucket],)
                ],
            )
            self.changed = set()
        if self.changed_shares:
            s = self.budgets.shares
            row = insert(s).values(
                [
                    {
                        "bucket": bucket,
                        "workspace_id": workspace_id,
                        "window_start": self.shares[(bucket, workspace_id)][0],
                        "used": self.shares[(bucket, workspace_id)][1],
                    }
                    for bucket, workspace_id in sorted(self.changed_shares, key=str)
                ]
            )
            await self.session.execute(
                row.on_conflict_do_update(
                    index_elements=[s.c.bucket, s.c.workspace_id],
                    set_={
                        "used": row.excluded.used,
                        "window_start": row.excluded.window_start,
                        "updated_at": func.now(),
                    },
                )
            )
            self.changed_shares = set()
