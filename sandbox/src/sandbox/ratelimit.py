"""Counters behind every platform's rate limits and publishing caps.

The platforms count in three ways: windows that start at the first call (X's 15-minute windows),
sliding windows (TikTok's per-minute limits, rolling 24 h caps) and calendar days that reset at a
fixed hour (LinkedIn at midnight UTC, YouTube at midnight Pacific).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Usage:
    used: int
    limit: int
    reset_at: float
    allowed: bool

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.used)


class RateLimiter:
    def __init__(self) -> None:
        self._fixed: dict[tuple[str, ...], tuple[float, int]] = {}
        self._sliding: dict[tuple[str, ...], deque[float]] = {}
        self._calendar: dict[tuple[str, ...], tuple[float, int]] = {}

    def fixed(
        self, key: tuple[str, ...], limit: int, window: float, now: float, cost: int = 1
    ) -> Usage:
        """A window that opens at the first call and resets ``window`` seconds later."""
        start, used = self._fixed.get(key, (now, 0))
        if now >= start + window:
            start, used = now, 0
        allowed = used + cost <= limit
        if allowed:
            used += cost
        self._fixed[key] = (start, used)
        return Usage(used, limit, start + window, allowed)

    def sliding(
        self, key: tuple[str, ...], limit: int, window: float, now: float, cost: int = 1
    ) -> Usage:
        """At most ``limit`` calls in any ``window`` seconds."""
        hits = self._sliding.setdefault(key, deque())
        while hits and hits[0] <= now - window:
            hits.popleft()
        allowed = len(hits) + cost <= limit
        if allowed:
            hits.extend([now] * cost)
        reset_at = (hits[0] if hits else now) + window
        return Usage(len(hits), limit, reset_at, allowed)

    def peek_sliding(self, key: tuple[str, ...], window: float, now: float) -> int:
        hits = self._sliding.get(key, deque())
        return sum(1 for hit in hits if hit > now - window)

    def calendar(
        self, key: tuple[str, ...], limit: int, tz: str, now: float, cost: int = 1
    ) -> Usage:
        """A daily budget that resets at midnight in ``tz``."""
        zone = ZoneInfo(tz)
        local = datetime.fromtimestamp(now, zone)
        day_start = local.replace(hour=0, minute=0, second=0, microsecond=0)
        start = day_start.timestamp()
        reset_at = (day_start + timedelta(days=1)).timestamp()
        known_start, used = self._calendar.get(key, (start, 0))
        if known_start != start:
            used = 0
        allowed = used + cost <= limit
        if allowed:
            used += cost
        self._calendar[key] = (start, used)
        return Usage(used, limit, reset_at, allowed)
