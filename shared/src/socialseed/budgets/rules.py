"""What a platform allows, as its provider declares it (``RateLimits``: the rules of reads and
of publishes), and the window arithmetic every budget is counted with. Pure: no I/O, so the
arithmetic is tested on its own (``shared/tests/test_budget_rules.py``) and the SQL layer
(``socialseed.budgets.engine``) only loads a row, asks these functions, and writes it back.

Kinds of window (``Rule.window``):

- ``fixed``: opens at the first call and lasts ``every`` (X's 15-minute windows).
- ``calendar``: ends at the next midnight of ``timezone`` (LinkedIn's UTC day, YouTube's
  Pacific day: 23 or 25 hours across a DST change).
- ``sliding``: any ``every``-long stretch (TikTok, Meta). Counted as fixed windows of
  ``every / k`` at ``limit // (k + 1)`` each: any stretch of ``every`` overlaps at most
  ``k + 1`` of them, so the platform's own count can never pass the limit, and a greedy caller
  gets ``k / (k + 1)`` of it (less rounding). ``k`` is the most, up to ``SLIDING_SLICES`` (4),
  whose windows still fit the rule's ``largest_call`` (Instagram's 200 an hour with Graph
  batches of 50: 3, three quarters; windows of ``every`` at half the limit, the least ``k``,
  get half).
- ``rolling``: any ``every``-long stretch, counted exactly from the caller's own record of the
  calls it made (the publisher's published targets and those in flight): no counter of ours.
- ``signals``: no count of ours at all; only the platform's answers fill it (Meta's usage
  percentages) and only their blocks matter.

``scope``: ``app`` (one budget for our app or project, shared by every tenant: each workspace's
part of it is counted, see ``fair``) or ``account`` (one per connected account). ``bucket``
names the budget as the platform's own signals do, ``{user}`` standing for the account's key
(analytics: the platform user id, so a response's headers correct the same row; the
publisher: the account id).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

Window = Literal["fixed", "sliding", "calendar", "rolling", "signals"]
Scope = Literal["app", "account"]

#: The most fixed windows a sliding limit's period is counted in (see the module's docstring).
SLIDING_SLICES = 4
#: The limit a ``signals`` bucket is counted with: none of ours.
UNCOUNTED = 2**31 - 1


class Rule(BaseModel):
    """One rate budget, as the platform documents it (see the module's docstring)."""

    model_config = ConfigDict(frozen=True)

    bucket: str
    scope: Scope = "app"
    limit: int = Field(ge=1)
    every: timedelta = timedelta(days=1)
    window: Window = "fixed"
    timezone: str = "UTC"
    # The most one call may count (a Graph batch of n items counts n): a sliding limit's
    # windows are never counted so small that such a call cannot fit.
    largest_call: int = Field(default=1, ge=1)

    def key(self, user: str) -> str:
        """The bucket of this rule for the account whose key is ``user``."""
        return self.bucket.format(user=user)


def publishing_cap(platform: str, posts: int, every: timedelta) -> Rule:
    """An account's publishing cap: at most ``posts`` published in any ``every``, counted
    exactly from the publisher's record (``rolling``)."""
    return Rule(
        bucket=f"{platform}:publish:{{user}}",
        scope="account",
        limit=posts,
        every=every,
        window="rolling",
    )


@dataclass(frozen=True)
class RateLimits:
    """A platform's limits, declared once by its provider (``BaseProvider.limits``): what its
    reads (analytics' fetches) and its publishes count against. Services take these as the
    defaults of their settings (``ANALYTICS_BUDGETS``, ``PUBLISHER_BUDGETS``)."""

    reads: tuple[Rule, ...] = ()
    publishes: tuple[Rule, ...] = ()


def slices(rule: Rule) -> int:
    """How many windows a sliding rule's period is counted in."""
    fitting = [
        k for k in range(2, SLIDING_SLICES + 1) if rule.limit // (k + 1) >= rule.largest_call
    ]
    return max(fitting, default=1)


def window_end(rule: Rule, now: datetime) -> datetime:
    """When a window of ``rule`` opened at ``now`` ends."""
    if rule.window == "calendar":
        local = now.astimezone(ZoneInfo(rule.timezone))
        midnight = datetime.combine(local.date() + timedelta(days=1), time(), local.tzinfo)
        return midnight.astimezone(now.tzinfo)
    if rule.window == "sliding":
        return now + rule.every / slices(rule)
    if rule.window == "signals":
        return now + timedelta(days=1)
    return now + rule.every


def counted_limit(rule: Rule) -> int:
    """What one of our windows of ``rule`` may hold."""
    if rule.window == "sliding":
        return max(1, rule.limit // (slices(rule) + 1))
    if rule.window == "signals":
        return UNCOUNTED
    return rule.limit


def fair(taken: int, limit: int, others_waiting: int) -> bool:
    """Whether a workspace that has ``taken`` units of an app-wide budget of ``limit`` in its
    window may make another call while ``others_waiting`` other workspaces have work for it:
    while it is under its share, the limit divided among the workspaces waiting. Alone, its
    share is the whole budget. (A call may pass the share by its own cost: a share smaller
    than one call would otherwise let no one call.)"""
    return taken < limit / (others_waiting + 1)


@dataclass(frozen=True)
class Count:
    """A counted bucket as stored: ``used`` of ``limit`` in the window from ``window_start``
    to ``reset_at``, refused until ``blocked_until`` (a 429, a spent budget)."""

    used: int = 0
    limit: int | None = None
    window_start: datetime | None = None
    reset_at: datetime | None = None
    blocked_until: datetime | None = None


def take(count: Count, limit: int, cost: int, now: datetime, next_reset: datetime) -> Count | None:
    """``count`` after a call of ``cost`` against our ``limit`` at ``now`` (``next_reset``: the
    end of a window opened now), or None if it does not fit. A window that has ended starts
    again at this call; the limit is the smaller of ours and what the platform last said
    within the window."""
    if count.blocked_until is not None and count.blocked_until > now:
        return None
    if count.reset_at is None or count.reset_at <= now:
        if cost > limit:
            return None
        return replace(count, used=cost, limit=limit, window_start=now, reset_at=next_reset)
    if count.limit is not None:
        limit = min(count.limit, limit)
    if count.used + cost > limit:
        return None
    return replace(count, used=count.used + cost, limit=limit)


def refused_until(count: Count, now: datetime) -> datetime:
    """When a bucket that refused a call may be asked again: when its block ends, if it is
    blocked (its count decides then: a Meta bucket stopped ten minutes by its usage is not
    held for the rest of its window); else when its window ends (a second on, if not ahead)."""
    if count.blocked_until is not None and count.blocked_until > now:
        return count.blocked_until
    if count.reset_at is not None and count.reset_at > now:
        return count.reset_at
    return now + timedelta(seconds=1)


def rolling_frees_at(nth_latest: datetime | None, rule: Rule, now: datetime) -> datetime | None:
    """A ``rolling`` rule: None while fewer than ``limit`` calls fall in the last ``every``
    (``nth_latest``: the ``limit``-th most recent of them, if there are that many); else when
    that call leaves the window."""
    if nth_latest is None or nth_latest <= now - rule.every:
        return None
    return nth_latest + rule.every
