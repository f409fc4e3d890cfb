"""The platforms' rate budgets, shared by every fetch worker of every replica (``budgets``).

A fetch first *reserves* its cost in each budget it counts against, with one atomic
``UPDATE ... WHERE used + cost <= limit ... RETURNING``: two workers can never both take the
last units. The budgets come from settings (``BudgetRule``: the documented limits) and are
corrected by what every response says (``RateSignal``): X's ``x-rate-limit-remaining`` /
``reset`` replace the count; Meta's usage percentages stop a bucket above
``meta_usage_threshold`` (for ``meta_usage_cooloff``, or Meta's
``estimated_time_to_regain_access``). A 429 anyway blocks only the bucket it hit until its
``retry_after``.

Windows: ``fixed`` opens at the first call and lasts ``every``; ``calendar`` ends at the next
midnight of its timezone; ``sliding`` (any ``every`` long stretch) is counted as fixed windows
of ``every / k`` at ``limit // (k + 1)`` each: any stretch of ``every`` overlaps at most
``k + 1`` of them, so the platform's sliding count can never pass the limit, and a steady load
gets ``k / (k + 1)`` of it. ``k`` is the most, up to ``SLIDING_SLICES`` (4), whose windows
still fit the rule's ``largest_call`` (Instagram's 200 an hour with Graph batches of 50: 3,
three quarters of the limit; windows of ``every`` at half the limit, the simplest safe count
and the least ``k``, get half).

Fair shares: an app-wide budget (``scope = app``: YouTube's project units, TikTok's client,
LinkedIn's app) is shared by every tenant, so each workspace's part of it is counted too
(``budget_shares``, per window of the budget). A workspace may call while it has taken less
than its share: the limit divided among the workspaces waiting, its own and every other with
work of that platform due now (``fair``). A waiting workspace is taken to want at least its
share, so this is max-min fairness: alone, a workspace can use the whole budget; one that
asks for everything cannot starve the others; once they have nothing due, it goes on. A call
past the share is refused for that workspace only (``Refusal.share``): the budget stays open
for the others, and the workspace's work waits ``fair_share_recheck`` (or to the window's
end) before asking again. The check runs under the budget row's lock that the reservation
took, so the workers of every replica see each other's shares.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from analytics.models import SCHEMA
from analytics.settings import AnalyticsSettings, BudgetRule
from socialseed.platforms.base import RateSignal

log = logging.getLogger(__name__)

META = ("facebook", "instagram")
META_APP = "meta:app"
# No count of its own: a bucket only the platform's signals fill (Meta's percentages).
UNCOUNTED = 2**31 - 1


@dataclass(frozen=True)
class Charge:
    """``cost`` units against ``bucket``; ``limit`` as counted in a window ending at
    ``reset_at`` were one to open now."""

    bucket: str
    platform: str
    scope: str
    limit: int
    cost: int
    reset_at: datetime
    # The workspace whose work the call is for: its share of an app-wide budget is counted.
    workspace_id: uuid.UUID | None = None


@dataclass(frozen=True)
class Refusal:
    """``bucket`` cannot take the call until ``until``. ``share``: the budget has room, but
    not for this workspace while others wait (it alone waits; the budget stays open)."""

    bucket: str
    scope: str
    until: datetime
    share: bool = False


#: The most fixed windows a sliding limit's period is counted in (see the module's docstring).
SLIDING_SLICES = 4


def slices(rule: BudgetRule) -> int:
    """How many windows a sliding rule's period is counted in."""
    fitting = [
        k for k in range(2, SLIDING_SLICES + 1) if rule.limit // (k + 1) >= rule.largest_call
    ]
    return max(fitting, default=1)


def window_end(rule: BudgetRule, now: datetime) -> datetime:
    if rule.window == "calendar":
        local = now.astimezone(ZoneInfo(rule.timezone))
        midnight = datetime.combine(local.date() + timedelta(days=1), time(), local.tzinfo)
        return midnight.astimezone(now.tzinfo)
    if rule.window == "sliding":
        return now + rule.every / slices(rule)
    return now + rule.every


def counted_limit(rule: BudgetRule) -> int:
    if rule.window == "sliding":
        return max(1, rule.limit // (slices(rule) + 1))
    return rule.limit


def fair(taken: int, limit: int, others_waiting: int) -> bool:
    """Whether a workspace that has ``taken`` units of a budget of ``limit`` in its window may
    make another call while ``others_waiting`` other workspaces have work for it: while it is
    under its share, the limit divided among the workspaces waiting. Alone, its share is the
    whole budget. (A call may pass the share by its own cost: a share smaller than one call
    would otherwise let no one call.)"""
    return taken < limit / (others_waiting + 1)


_OPEN = text(f"""
INSERT INTO {SCHEMA}.budgets (bucket, platform, "limit", used, window_start, reset_at)
VALUES (:bucket, :platform, CAST(:limit AS int), 0, CAST(:now AS timestamptz),
        CAST(:reset_at AS timestamptz))
ON CONFLICT (bucket) DO NOTHING
""")

# ``p``: the call (its cost, our limit, now, and the end of a window opened now). A window
# that has ended starts again at this call; the limit is the smaller of ours and what the
# platform last said within the window.
_RESERVE = text(f"""
UPDATE {SCHEMA}.budgets b SET
    used = CASE WHEN p.expired THEN p.cost ELSE b.used + p.cost END,
    window_start = CASE WHEN p.expired THEN p.now ELSE b.window_start END,
    reset_at = CASE WHEN p.expired THEN p.next_reset ELSE b.reset_at END,
    "limit" = CASE WHEN p.expired THEN p.lim ELSE LEAST(b."limit", p.lim) END,
    updated_at = now()
FROM (
    SELECT x.*, (bb.reset_at IS NULL OR bb.reset_at <= x.now) AS expired
    FROM (SELECT CAST(:cost AS int) AS cost, CAST(:limit AS int) AS lim,
                 CAST(:now AS timestamptz) AS now,
                 CAST(:reset_at AS timestamptz) AS next_reset) x,
         {SCHEMA}.budgets bb
    WHERE bb.bucket = :bucket
) p
WHERE b.bucket = :bucket
  AND (b.blocked_until IS NULL OR b.blocked_until <= p.now)
  AND CASE WHEN p.expired THEN p.cost <= p.lim
           ELSE b.used + p.cost <= LEAST(b."limit", p.lim) END
RETURNING b.used, b."limit", b.window_start, b.reset_at
""")

# A workspace's part of an app-wide budget in the budget's current window (``window_start``):
# a share of an earlier window starts again at this call.
_TAKE_SHARE = text(f"""
INSERT INTO {SCHEMA}.budget_shares AS s (bucket, workspace_id, window_start, used)
VALUES (:bucket, :workspace, CAST(:window_start AS timestamptz), CAST(:cost AS int))
ON CONFLICT (bucket, workspace_id) DO UPDATE SET
    used = CASE WHEN s.window_start = EXCLUDED.window_start THEN s.used + EXCLUDED.used
                ELSE EXCLUDED.used END,
    window_start = EXCLUDED.window_start, updated_at = now()
RETURNING s.used
""")

# How many other workspaces have work of the platform due now (posts, or their accounts'
# own counters or listing; held by a budget or not): each is owed its share.
_WAITING = text(f"""
SELECT count(DISTINCT a.workspace_id)
FROM {SCHEMA}.accounts a
WHERE a.platform = :platform AND a.tracking AND a.status = 'active'
  AND a.workspace_id <> :workspace
  AND (a.next_sync_at <= CAST(:now AS timestamptz)
       OR (a.backfill_requested_at IS NOT NULL
           AND (a.backfilled_at IS NULL OR a.backfilled_at < a.backfill_requested_at))
       OR EXISTS (SELECT 1 FROM {SCHEMA}.tracked_posts t
                  WHERE t.account_id = a.id AND t.status = 'active'
                    AND t.next_fetch_at <= CAST(:now AS timestamptz)))
""")

_ADD_SHARE = text(f"""
UPDATE {SCHEMA}.budget_shares s SET used = s.used + CAST(:cost AS int), updated_at = now()
FROM {SCHEMA}.budgets b
WHERE s.bucket = :bucket AND s.workspace_id = :workspace
  AND b.bucket = s.bucket AND b.window_start = s.window_start
  AND b.reset_at > CAST(:now AS timestamptz)
""")

_REFUSED_UNTIL = text(f"""
SELECT GREATEST(CASE WHEN blocked_until > CAST(:now AS timestamptz) THEN blocked_until END,
                CASE WHEN reset_at > CAST(:now AS timestamptz) THEN reset_at END)
FROM {SCHEMA}.budgets WHERE bucket = :bucket
""")

_BLOCK = text(f"""
INSERT INTO {SCHEMA}.budgets (bucket, platform, blocked_until, last_signal)
VALUES (:bucket, :platform, CAST(:until AS timestamptz), CAST(:why AS jsonb))
ON CONFLICT (bucket) DO UPDATE SET
    blocked_until = GREATEST(budgets.blocked_until, EXCLUDED.blocked_until),
    last_signal = EXCLUDED.last_signal, updated_at = now()
""")

# X's remaining count replaces ours (the platform knows); Meta's percentages are kept.
_SIGNAL = text(f"""
INSERT INTO {SCHEMA}.budgets AS b (bucket, platform, "limit", used, remaining, used_percent,
                                   window_start, reset_at, blocked_until, last_signal)
SELECT :bucket, :platform, s.lim, COALESCE(s.lim - s.remaining, 0), s.remaining, s.percent,
       s.now, s.reset_at, s.blocked_until, CAST(:signal AS jsonb)
FROM (SELECT CAST(:limit AS int) AS lim, CAST(:remaining AS int) AS remaining,
             CAST(:percent AS float8) AS percent, CAST(:now AS timestamptz) AS now,
             CAST(:reset_at AS timestamptz) AS reset_at,
             CAST(:blocked_until AS timestamptz) AS blocked_until) s
ON CONFLICT (bucket) DO UPDATE SET
    "limit" = COALESCE(EXCLUDED."limit", b."limit"),
    used = CASE WHEN EXCLUDED.remaining IS NOT NULL AND EXCLUDED."limit" IS NOT NULL
                THEN EXCLUDED.used ELSE b.used END,
    remaining = COALESCE(EXCLUDED.remaining, b.remaining),
    used_percent = COALESCE(EXCLUDED.used_percent, b.used_percent),
    reset_at = COALESCE(EXCLUDED.reset_at, b.reset_at),
    blocked_until = GREATEST(b.blocked_until, EXCLUDED.blocked_until),
    last_signal = EXCLUDED.last_signal, updated_at = now()
""")

_CLOSED = text(f"""
SELECT DISTINCT platform FROM {SCHEMA}.budgets
WHERE bucket = ANY(CAST(:buckets AS text[])) AND blocked_until > CAST(:now AS timestamptz)
""")

_ADD = text(f"""
UPDATE {SCHEMA}.budgets SET used = used + CAST(:cost AS int), updated_at = now()
WHERE bucket = :bucket AND reset_at > CAST(:now AS timestamptz)
""")


class Budgets:
    def __init__(self, settings: AnalyticsSettings) -> None:
        self.rules = settings.budgets
        self.threshold = settings.meta_usage_threshold
        self.cooloff = settings.meta_usage_cooloff
        self.recheck = settings.fair_share_recheck

    def charges(
        self,
        platform: str,
        user: str,
        cost: int,
        now: datetime,
        workspace_id: uuid.UUID | None = None,
    ) -> list[Charge]:
        """What a call costing ``cost`` on the account of platform user ``user`` (of
        ``workspace_id``: its share of app-wide budgets is counted) counts against. Meta's
        signal-only buckets come with cost 0: only their blocks matter."""
        charges = [
            Charge(
                rule.bucket.format(user=user),
                platform,
                rule.scope,
                counted_limit(rule),
                cost,
                window_end(rule, now),
                workspace_id if rule.scope == "app" else None,
            )
            for rule in self.rules.get(platform, [])
        ]
        if platform in META:
            far = now + timedelta(days=1)
            charges += [
                Charge(META_APP, "meta", "app", UNCOUNTED, 0, far),
                Charge(f"meta:buc:{user}", "meta", "account", UNCOUNTED, 0, far),
            ]
        return charges

    def app_buckets(self, platform: str) -> list[str]:
        buckets = [r.bucket for r in self.rules.get(platform, []) if r.scope == "app"]
        return buckets + ([META_APP] if platform in META else [])

    async def reserve(
        self, session: AsyncSession, charges: Sequence[Charge], now: datetime
    ) -> Refusal | None:
        """Take every charge, or none (a savepoint undoes the ones taken before a refusal):
        None, or the refusing bucket and when it frees."""
        savepoint = await session.begin_nested()
        for charge in charges:
            params = {
                "bucket": charge.bucket,
                "platform": charge.platform,
                "limit": charge.limit,
                "cost": charge.cost,
                "now": now,
                "reset_at": charge.reset_at,
            }
            if charge.cost > charge.limit:  # never fits: a rule set without its largest_call
                log.warning(
                    "a call counting %d cannot fit %s's limit of %d per window; raise the "
                    "rule's largest_call",
                    charge.cost,
                    charge.bucket,
                    charge.limit,
                )
            await session.execute(_OPEN, params)
            taken = (await session.execute(_RESERVE, params)).first()
            if taken is None:
                until = await session.scalar(_REFUSED_UNTIL, {"bucket": charge.bucket, "now": now})
                await savepoint.rollback()
                return Refusal(charge.bucket, charge.scope, until or now + timedelta(seconds=1))
            _, limit, window_start, reset_at = taken
            shared = charge.workspace_id is not None and charge.cost > 0
            if shared and not await self._within_share(session, charge, limit, window_start, now):
                await savepoint.rollback()
                until = min(reset_at, now + self.recheck)
                return Refusal(charge.bucket, charge.scope, until, share=True)
        await savepoint.commit()
        return None

    async def _within_share(
        self,
        session: AsyncSession,
        charge: Charge,
        limit: int,
        window_start: datetime,
        now: datetime,
    ) -> bool:
        """Count the charge in its workspace's share of the bucket; whether it fits (``fair``).
        The reservation just made holds the bucket's row lock until the claim commits: every
        other worker charging this bucket waits for it, then sees this share."""
        params = {
            "bucket": charge.bucket,
            "workspace": charge.workspace_id,
            "window_start": window_start,
            "cost": charge.cost,
            "platform": charge.platform,
            "now": now,
        }
        taken = int(await session.scalar(_TAKE_SHARE, params) or 0) - charge.cost
        waiting = int(await session.scalar(_WAITING, params) or 0)
        return fair(taken, limit, waiting)

    async def block(
        self, session: AsyncSession, bucket: str, platform: str, until: datetime, why: str
    ) -> None:
        await session.execute(
            _BLOCK,
            {"bucket": bucket, "platform": platform, "until": until, "why": _json({"why": why})},
        )

    async def add(
        self, session: AsyncSession, charges: Iterable[Charge], calls: int, now: datetime
    ) -> None:
        """Count ``calls`` more (a listing's pages, known only once done) without a check."""
        for charge in charges:
            if charge.cost and calls > 0:
                params = {
                    "bucket": charge.bucket,
                    "cost": calls,
                    "now": now,
                    "workspace": charge.workspace_id,
                }
                await session.execute(_ADD, params)
                if charge.workspace_id is not None:
                    await session.execute(_ADD_SHARE, params)

    async def apply(
        self, session: AsyncSession, platform: str, signals: Iterable[RateSignal], now: datetime
    ) -> None:
        """What the platform said about its budgets: counts replaced, Meta buckets stopped
        near their limit."""
        for signal in signals:
            blocked = None
            if signal.used_percent is not None and signal.used_percent >= self.threshold:
                regain = timedelta(seconds=signal.regain_after_s or 0)
                blocked = now + max(self.cooloff, regain)
            elif signal.regain_after_s:
                blocked = now + timedelta(seconds=signal.regain_after_s)
            await session.execute(
                _SIGNAL,
                {
                    "bucket": signal.bucket,
                    "platform": "meta" if signal.bucket.startswith("meta:") else platform,
                    "limit": signal.limit,
                    "remaining": signal.remaining,
                    "percent": signal.used_percent,
                    "now": now,
                    "reset_at": signal.reset_at,
                    "blocked_until": blocked,
                    "signal": _json(
                        {
                            "limit": signal.limit,
                            "remaining": signal.remaining,
                            "reset_at": signal.reset_at.isoformat() if signal.reset_at else None,
                            "used_percent": signal.used_percent,
                            "regain_after_s": signal.regain_after_s,
                        }
                    ),
                },
            )

    async def closed_platforms(self, session: AsyncSession, now: datetime) -> list[str]:
        """Platforms whose app-wide budget is blocked: no claim takes their work for now."""
        buckets = sorted({b for p in self.rules for b in self.app_buckets(p)})
        blocked = set(await session.scalars(_CLOSED, {"buckets": buckets, "now": now}))
        return sorted(p for p in self.rules if p in blocked or (p in META and "meta" in blocked))


def _json(value: object) -> str:
    return json.dumps(value)
