"""Request throttling: sliding-window counters in process memory, answering 429 with Retry-After.

State lives in process memory: each worker process and replica counts on its own (the gateway's
flood limits; auth counts login attempts in its database instead). Limits are written as the
`limits` library parses them (``"600/minute"``).

Why not `limits`' own in-memory storage: its async storage schedules an expiry task on every hit
that walks every key and hands each moving window to a thread (``asyncio.to_thread``), and its
moving window inserts at the front of a list as long as the limit — on the gateway that was a
third of the CPU a proxied request cost. A sliding-window counter (Cloudflare's, also one of
`limits`' strategies) is two integers per key: the count of this window and of the one before,
the older one weighted by how much of it still overlaps the last ``period`` seconds. A hit costs
a dictionary lookup and no await; idle keys are swept once per minute.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from limits import RateLimitItem, parse

from socialseed import telemetry
from socialseed.errors import RateLimited

SWEEP_EVERY = 60.0  # seconds between sweeps of keys idle for two of their periods


@dataclass(slots=True)
class _Window:
    start: float  # when the current window began (the key's first hit, then every period)
    period: float
    current: int = 0
    previous: int = 0

    def roll(self, now: float) -> None:
        elapsed = now - self.start
        if elapsed < self.period:
            return
        if elapsed < 2 * self.period:
            self.previous, self.current = self.current, 0
            self.start += self.period
        else:  # idle for more than a whole window: nothing of the past overlaps
            self.previous, self.current, self.start = 0, 0, now

    def weighted(self, now: float) -> float:
        overlap = 1.0 - (now - self.start) / self.period
        return self.previous * overlap + self.current

    def retry_after(self, now: float, limit: int, cost: int) -> float:
        """Seconds until ``cost`` more fits under ``limit``."""
        if cost > limit:
            return self.period  # never fits; ask again no sooner than a period
        if self.current + cost > limit:
            # Only the next window has room: there this one's count decays as the previous.
            wait = self.start + self.period - now
            return wait + max(0.0, 1.0 - (limit - cost) / self.current) * self.period
        needed = 1.0 - (limit - cost - self.current) / self.previous
        return self.start + needed * self.period - now


class SlidingWindows:
    """Sliding-window counters by key, in this process (no locks: a hit never awaits)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.windows: dict[str, _Window] = {}
        self._next_sweep = clock() + SWEEP_EVERY

    def hit(self, key: str, limit: int, period: float, cost: int = 1) -> float | None:
        """Count ``cost`` against ``limit`` per ``period`` seconds for ``key``: None if it
        fits, else the seconds until it would (nothing is counted then)."""
        now = self.clock()
        if now >= self._next_sweep:
            self._sweep(now)
        window = self.windows.get(key)
        if window is None:
            window = self.windows[key] = _Window(start=now, period=period)
        window.roll(now)
        if window.weighted(now) + cost > limit:
            return max(window.retry_after(now, limit, cost), 0.0)
        window.current += cost
        return None

    def _sweep(self, now: float) -> None:
        self._next_sweep = now + SWEEP_EVERY
        idle = [k for k, w in self.windows.items() if now - w.start >= 2 * w.period]
        for key in idle:
            del self.windows[key]


class Throttle:
    def __init__(self, service: str, clock: Callable[[], float] = time.monotonic) -> None:
        self.service = service
        self.windows = SlidingWindows(clock)

    @staticmethod
    def limit(spec: str) -> RateLimitItem:
        """``"30/minute"`` -> a limit item (parse settings once, at start-up)."""
        return parse(spec)

    async def hit(
        self,
        item: RateLimitItem,
        name: str,
        *keys: str,
        error: type[RateLimited] = RateLimited,
    ) -> None:
        """Count one request against ``item`` for ``keys``; raise ``error`` when over it."""
        key = item.key_for(name, *keys)
        wait = self.windows.hit(key, item.amount, float(item.get_expiry()))
        if wait is None:
            return
        telemetry.RATE_LIMITED.labels(self.service, name).inc()
        raise error(headers={"Retry-After": str(max(1, math.ceil(wait)))})
