"""A circuit breaker per platform, so a failing API is not hammered: after ``threshold``
publish steps in a row fail transiently (5xx, timeouts, broken connections), the platform's
breaker opens and no step calls it for ``cooldown`` seconds; the workers hold its targets
(``waiting``) until then. Once the cool-down ends the next steps probe it (half-open): a success
closes the breaker, a failure opens it again.

The state is purgatory's in-memory one, per worker process: each replica learns on its own that
a platform is down, which costs at most ``threshold`` failed calls per replica.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

from purgatory import AsyncCircuitBreakerFactory
from purgatory.domain.model import OpenedState

from socialseed.platforms import Platform

T = TypeVar("T")


@dataclass(frozen=True)
class Open:
    """The platform's breaker is open until ``until``."""

    until: datetime


class _Failed(Exception):
    """Carries a failed step's result through the breaker, which counts it as a failure."""

    def __init__(self, result: Any) -> None:
        super().__init__()
        self.result = result


class PlatformBreakers:
    def __init__(self, threshold: int, cooldown: float) -> None:
        self.factory = AsyncCircuitBreakerFactory(default_threshold=threshold, default_ttl=cooldown)

    async def open_until(self, platform: Platform) -> Open | None:
        """The breaker's cool-down end while it is open, else None."""
        context = (await self.factory.get_breaker(platform.value)).context
        if context.state != "opened" or context.opened_at is None:
            return None
        until = context.opened_at + context.ttl
        return Open(datetime.fromtimestamp(until, UTC)) if until > time.time() else None

    async def run(
        self, platform: Platform, step: Callable[[], Awaitable[T]], *, failed: Callable[[T], bool]
    ) -> T | Open:
        """Run one step through the platform's breaker; ``failed`` tells which results count
        as the platform failing. ``Open`` when the breaker did not let the step run."""
        try:
            async with await self.factory.get_breaker(platform.value):
                result = await step()
                if failed(result):
                    raise _Failed(result)
                return result
        except _Failed as exc:
            return cast(T, exc.result)
        except OpenedState as exc:
            return Open(datetime.fromtimestamp(exc.opened_at + self.factory.default_ttl, UTC))
