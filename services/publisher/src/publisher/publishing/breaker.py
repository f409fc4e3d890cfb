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

from socialseed.metrics import PLATFORM_CIRCUIT
from socialseed.platforms import Platform

T = TypeVar("T")

# socialseed_platform_circuit_state's values.
CLOSED, HALF_OPEN, OPEN = 0, 1, 2
_STATES = {"closed": CLOSED, "half-opened": HALF_OPEN, "opened": OPEN}


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
    def __init__(self, threshold: int, cooldown: float, *, service: str = "publisher") -> None:
        self.factory = AsyncCircuitBreakerFactory(default_threshold=threshold, default_ttl=cooldown)
        # socialseed_platform_circuit_state, set as each platform's breaker is consulted.
        self.states = {p: PLATFORM_CIRCUIT.labels(service, p.value) for p in Platform}
        for state in self.states.values():
            state.set(CLOSED)

    async def open_until(self, platform: Platform) -> Open | None:
        """The breaker's cool-down end while it is open, else None."""
        context = (await self.factory.get_breaker(platform.value)).context
        if context.state != "opened" or context.opened_at is None:
            self.states[platform].set(HALF_OPEN if context.state == "half-opened" else CLOSED)
            return None
        until = context.opened_at + context.ttl
        if until > time.time():
            self.states[platform].set(OPEN)
            return Open(datetime.fromtimestamp(until, UTC))
        self.states[platform].set(HALF_OPEN)  # cooled down: the next step probes
        return None

    async def run(
        self, platform: Platform, step: Callable[[], Awaitable[T]], *, failed: Callable[[T], bool]
    ) -> T | Open:
        """Run one step through the platform's breaker; ``failed`` tells which results count
        as the platform failing. ``Open`` when the breaker did not let the step run."""
        breaker = await self.factory.get_breaker(platform.value)
        try:
            async with breaker:
                result = await step()
                if failed(result):
                    raise _Failed(result)
                return result
        except _Failed as exc:
            return cast(T, exc.result)
        except OpenedState as exc:
            return Open(datetime.fromtimestamp(exc.opened_at + self.factory.default_ttl, UTC))
        finally:
            self.states[platform].set(_STATES.get(breaker.context.state, CLOSED))
