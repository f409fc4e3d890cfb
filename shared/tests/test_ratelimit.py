"""The gateway's in-memory throttle: sliding-window counters on a clock the test moves."""

from __future__ import annotations

import pytest

from socialseed.errors import RateLimited
from socialseed.ratelimit import SWEEP_EVERY, SlidingWindows, Throttle


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_window_admits_the_limit_then_slides() -> None:
    clock = Clock()
    windows = SlidingWindows(clock)
    assert [windows.hit("k", 4, 60) for _ in range(4)] == [None] * 4
    refused = windows.hit("k", 4, 60)
    # The counter takes the 4 as spread over their window: in the next one they weigh
    # 4 x (1 - elapsed share), so one more fits a quarter into it.
    assert refused == pytest.approx(75)
    assert windows.hit("other", 4, 60) is None  # keys count apart
    clock.now += 60  # next window: the 4 still weigh 4 x (1 - 0) = 4
    assert windows.hit("k", 4, 60) is not None
    clock.now += 15  # a quarter in: they weigh 3, one more fits, then none
    assert windows.hit("k", 4, 60) is None
    wait = windows.hit("k", 4, 60)
    assert wait == pytest.approx(15)  # at half way the old 4 weigh 2, 2 + 1 + 1 = 4 fits
    clock.now += wait  # type: ignore[operator]
    assert windows.hit("k", 4, 60) is None


def test_refusals_are_not_counted_and_idle_keys_are_forgotten() -> None:
    clock = Clock()
    windows = SlidingWindows(clock)
    for _ in range(3):
        windows.hit("k", 3, 10)
    for _ in range(100):
        assert windows.hit("k", 3, 10) is not None
    clock.now += 20  # two periods idle: nothing of the past overlaps
    assert [windows.hit("k", 3, 10) for _ in range(4)][:3] == [None] * 3
    clock.now += SWEEP_EVERY + 20
    windows.hit("fresh", 3, 10)
    assert list(windows.windows) == ["fresh"]


async def test_throttle_raises_rate_limited_with_retry_after() -> None:
    clock = Clock()
    throttle = Throttle("test", clock=clock)
    item = Throttle.limit("2/minute")
    await throttle.hit(item, "ip", "1.2.3.4")
    await throttle.hit(item, "ip", "1.2.3.4")
    with pytest.raises(RateLimited) as refused:
        await throttle.hit(item, "ip", "1.2.3.4")
    assert refused.value.headers == {"Retry-After": "90"}  # half into the next window
    await throttle.hit(item, "ip", "5.6.7.8")  # another client
    await throttle.hit(item, "login-ip", "1.2.3.4")  # another limit
