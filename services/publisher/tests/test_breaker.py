"""The per-platform circuit breaker (``publishing.breaker``): ``threshold`` failed steps in a
row open it, an open breaker runs no step until its cool-down ends, then one probe decides."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from publisher.publishing.breaker import Open, PlatformBreakers
from socialseed.platforms import Platform

COOLDOWN = 0.5


class Step:
    """A platform step answering ``ok`` (or not), counting its calls."""

    def __init__(self) -> None:
        self.calls = 0

    def answering(self, ok: bool) -> object:
        async def step() -> bool:
            self.calls += 1
            return ok

        return step


def failed(ok: bool) -> bool:
    return not ok


async def cooled_down(breakers: PlatformBreakers, platform: Platform) -> None:
    """Until the breaker says its cool-down is over (a positive signal, with a deadline)."""
    async with asyncio.timeout(10):
        while await breakers.open_until(platform) is not None:
            await asyncio.sleep(0.05)


async def test_threshold_failures_in_a_row_open_the_breaker_for_its_cooldown() -> None:
    breakers, x = PlatformBreakers(threshold=3, cooldown=COOLDOWN), Step()
    for _ in range(2):
        assert await breakers.run(Platform.X, x.answering(False), failed=failed) is False
    assert await breakers.open_until(Platform.X) is None  # two: still closed
    before = datetime.now(UTC)
    assert await breakers.run(Platform.X, x.answering(False), failed=failed) is False
    opened = await breakers.open_until(Platform.X)
    assert isinstance(opened, Open)
    assert before < opened.until <= datetime.now(UTC) + timedelta(seconds=COOLDOWN)
    # open: the step is not run, the answer says until when
    held = await breakers.run(Platform.X, x.answering(True), failed=failed)
    assert isinstance(held, Open) and abs((held.until - opened.until).total_seconds()) < 0.01
    assert x.calls == 3
    # another platform is not held back
    linkedin = Step()
    assert await breakers.run(Platform.LINKEDIN, linkedin.answering(True), failed=failed) is True
    assert linkedin.calls == 1


async def test_a_success_between_failures_starts_the_count_again() -> None:
    breakers, x = PlatformBreakers(threshold=3, cooldown=COOLDOWN), Step()
    for ok in (False, False, True, False, False):
        await breakers.run(Platform.X, x.answering(ok), failed=failed)
    assert await breakers.open_until(Platform.X) is None
    assert await breakers.run(Platform.X, x.answering(True), failed=failed) is True


async def test_after_the_cooldown_one_probe_closes_it_or_opens_it_again() -> None:
    breakers, x = PlatformBreakers(threshold=2, cooldown=COOLDOWN), Step()
    for _ in range(2):
        await breakers.run(Platform.X, x.answering(False), failed=failed)
    await cooled_down(breakers, Platform.X)
    # the probe fails: open again at once, without a new run of failures
    assert await breakers.run(Platform.X, x.answering(False), failed=failed) is False
    assert isinstance(await breakers.open_until(Platform.X), Open)
    assert isinstance(await breakers.run(Platform.X, x.answering(True), failed=failed), Open)
    await cooled_down(breakers, Platform.X)
    # the probe succeeds: closed, and the next failure alone does not open it
    assert await breakers.run(Platform.X, x.answering(True), failed=failed) is True
    assert await breakers.run(Platform.X, x.answering(False), failed=failed) is False
    assert await breakers.open_until(Platform.X) is None
    assert x.calls == 5  # the held step never ran
