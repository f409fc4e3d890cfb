"""The limits a publish must fit before any platform call, held across every worker and
replica: the publishing rules of each platform (declared by its provider, ``rate_limits
.publishes``; ``PUBLISHER_BUDGETS`` may override them) counted by the shared engine
(``socialseed.budgets``) in ``publisher.budgets`` / ``budget_shares``:

- the account is not blocked: a platform's rate-limit answer for the account blocks its bucket
  until the time the platform named, so no other worker tries it before;
- the account's rolling publishing cap (e.g. X 100 per 15 minutes) is not reached, counting
  its published targets and those being published right now (``PublishUsage``);
- the app's publishes to the platform in the current window (X 10,000 and LinkedIn 100,000 a
  day) stay under the app-wide limit, and the target's workspace is under its fair share of
  it: the limit divided among the workspaces waiting to publish to that platform. Past its
  share it waits ``app_share_recheck`` (or to the window's end); the window stays open for
  the others.

Checks for one account are serialised by the lock on its cap's bucket row (taken with an
upsert), so two replicas claiming the same account's targets at once count each other's.
A target that would break a limit is held (``waiting``) until the window frees.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from publisher.models import budgets
from publisher.publishing.usage import (
    BatchPublishUsage,
    PublishUsage,
    TargetRef,
    recent_publishes,
)
from socialseed.budgets.engine import BatchReservation, Budgets, Charge, Refusal
from socialseed.budgets.rules import Rule
from socialseed.platforms import Platform


@dataclass(frozen=True)
class Hold:
    """Why a target may not be published now, and when to try again."""

    until: datetime
    reason: str
    breaker: bool = False  # held by an open circuit breaker, not by a rate limit


def cap(rules: Sequence[Rule]) -> Rule | None:
    """A platform's per-account publishing cap among its publishing rules."""
    return next((r for r in rules if r.scope == "account" and r.window == "rolling"), None)


class PublishLimits:
    def __init__(self, rules: Mapping[str, Sequence[Rule]], recheck: timedelta) -> None:
        self.budgets = Budgets(budgets, rules, recheck=recheck)
        self.recheck = recheck

    async def batch(
        self,
        session: AsyncSession,
        targets: Sequence[TargetRef],
        now: datetime,
        pending: dict[uuid.UUID, list[datetime]],
        waiting: dict[tuple[str, uuid.UUID], int],
    ) -> BatchHolds:
        """The limits of a batch of targets claimed together, checked in a few statements for
        the whole batch (not per target): every budget row they count against locked and read
        in one (in bucket order: a batch cannot deadlock with another), the workspaces'
        shares in one, the accounts' recent publishes in one; then ``BatchHolds.hold`` per
        target in order, in memory, and ``write`` stores the counts."""
        charges = [
            self.budgets.charges(t.platform, str(t.account_id), 1, now, t.workspace_id)
            for t in targets
        ]
        reservation = BatchReservation(self.budgets, session, now)
        await reservation.lock(c for cs in charges for c in cs)
        rolling = [c.rule.every for cs in charges for c in cs if c.rule.window == "rolling"]
        recent = (
            await recent_publishes(
                session,
                {
                    t.account_id
                    for t, cs in zip(targets, charges, strict=True)
                    if any(c.rule.window == "rolling" for c in cs)
                },
                now - max(rolling),
            )
            if rolling
            else {}
        )
        usage = BatchPublishUsage(targets, self.recheck, recent, pending, waiting)
        return BatchHolds(reservation, targets, charges, usage)

    async def hold(
        self,
        session: AsyncSession,
        target: TargetRef,
        now: datetime,
        pending: Sequence[datetime] = (),
        waiting: dict[tuple[str, uuid.UUID], int] | None = None,
    ) -> Hold | None:
        """None when the target may be published now; its publish is then counted.
        ``pending``: publishes of the same account let through earlier in this transaction
        whose attempts are not written yet; ``waiting``: the other workspaces waiting, as read
        earlier in this transaction (filled as they are read)."""
        charges = self.budgets.charges(
            target.platform, str(target.account_id), 1, now, target.workspace_id
        )
        usage = PublishUsage(target, self.recheck, pending, waiting)
        refusal = await self.budgets.reserve(session, charges, now, usage)
        return None if refusal is None else Hold(refusal.until, _why(target.platform, refusal))

    async def block(
        self,
        session: AsyncSession,
        account_id: uuid.UUID,
        platform: Platform,
        until: datetime,
        reason: str | None,
    ) -> None:
        """The platform said the account is rate-limited until ``until``: every worker waits."""
        for charge in self.budgets.charges(platform.value, str(account_id), 0, until):
            if charge.scope == "account":
                await self.budgets.block(session, charge.bucket, platform.value, until, reason)
                return


class BatchHolds:
    """A batch's limits, read and locked (``PublishLimits.batch``)."""

    def __init__(
        self,
        reservation: BatchReservation,
        targets: Sequence[TargetRef],
        charges: Sequence[Sequence[Charge]],
        usage: BatchPublishUsage,
    ) -> None:
        self.reservation = reservation
        self.targets = targets
        self.charges = charges
        self.usage = usage

    async def hold(self, call: int) -> Hold | None:
        """None when the batch's ``call``-th target may be published now (its publish is then
        counted, and the caller adds it to ``pending``); else why not and until when."""
        refusal = await self.reservation.reserve(self.charges[call], call, self.usage)
        if refusal is None:
            return None
        return Hold(refusal.until, _why(self.targets[call].platform, refusal))

    async def write(self) -> None:
        await self.reservation.write()


def _why(platform: str, refusal: Refusal) -> str:
    rule, whose = refusal.charge.rule, "account" if refusal.scope == "account" else "app"
    if refusal.why == "share":
        return (
            f"this workspace's share of the app's {platform} calls is used while other "
            "workspaces wait"
        )
    if refusal.why == "blocked":
        return f"{platform} rate-limited the {whose}"
    if rule.window == "rolling":
        return f"the {whose} reached {platform}'s cap of {rule.limit} posts"
    return f"the {whose} reached {platform}'s limit of calls"
