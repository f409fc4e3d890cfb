"""Request throttling on the `limits` library, answering 429 with Retry-After.

State lives in process memory: each worker process and replica counts on its own (the gateway's
flood limits; auth counts login attempts in its database instead). Point the limiter at a
shared `limits` storage (Redis) where one count across processes matters.
"""

from __future__ import annotations

from datetime import UTC, datetime

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import MovingWindowRateLimiter

from socialseed import telemetry
from socialseed.errors import RateLimited


class Throttle:
    def __init__(self, service: str) -> None:
        self.service = service
        self.limiter = MovingWindowRateLimiter(MemoryStorage())

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
        if await self.limiter.hit(item, name, *keys):
            return
        telemetry.RATE_LIMITED.labels(self.service, name).inc()
        reset, _ = await self.limiter.get_window_stats(item, name, *keys)
        retry = max(1, int(reset - datetime.now(UTC).timestamp()))
        raise error(headers={"Retry-After": str(retry)})
