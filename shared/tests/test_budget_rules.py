"""The budgets' window arithmetic (``socialseed.budgets.rules``): for any sequence of calls
(sizes, times), no window of any rule holds more than its limit; a greedy caller gets the share
each kind promises (all of a fixed or calendar window; ``k / (k + 1)`` of a sliding limit, at
least three quarters where the largest call fits a quarter of it)."""

from __future__ import annotations

import bisect
from datetime import UTC, datetime, timedelta
from itertools import accumulate
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from shared.tests.budget_model import BURSTS, START, Burst, Reserved, reserve_all, rules
from socialseed.budgets.rules import (
    Count,
    Rule,
    counted_limit,
    fair,
    refused_until,
    slices,
    take,
    window_end,
)


def greedy_calls(rule: Rule, start: datetime, span: timedelta, step: timedelta) -> list[datetime]:
    """Calls made every ``step`` whenever the count allows, windows as the budgets table keeps
    them: one opens at the first call after the previous one ended."""
    calls: list[datetime] = []
    reset_at, used, now = start, 0, start
    while now < start + span:
        if now >= reset_at:
            reset_at, used = window_end(rule, now), 0
        if used + 1 <= counted_limit(rule):
            used += 1
            calls.append(now)
        now += step
    return calls


@pytest.mark.parametrize(
    ("limit", "every"),
    [(200, timedelta(hours=1)), (600, timedelta(minutes=1)), (7, timedelta(minutes=1))],
)
def test_no_stretch_of_a_sliding_period_holds_more_than_the_limit(
    limit: int, every: timedelta
) -> None:
    rule = Rule(bucket="b", limit=limit, every=every, window="sliding")
    start = datetime(2026, 12, 2, tzinfo=UTC)
    step = every / (limit * 3)  # a caller faster than the limit allows
    calls = greedy_calls(rule, start, every * 10, step)
    worst = max(bisect.bisect_left(calls, t + every) - i for i, t in enumerate(calls))
    assert worst <= limit
    if limit >= 100:  # rounding aside, most of the limit is used
        assert len(calls) / 10 >= 0.75 * limit


def test_a_sliding_limits_windows_fit_its_largest_call() -> None:
    def rule(limit: int, largest: int) -> Rule:
        return Rule(bucket="b", limit=limit, window="sliding", largest_call=largest)

    assert slices(rule(4_800, 50)) == 4  # Facebook's pages: 960 per quarter hour
    assert slices(rule(200, 50)) == 3  # Instagram's insights: 50 per 20 minutes
    assert slices(rule(120, 50)) == 1  # half the limit per period: a batch still fits
    for limit, largest in ((4_800, 50), (200, 50), (120, 50), (600, 1)):
        assert counted_limit(rule(limit, largest)) >= largest


def test_a_workspace_calls_while_under_its_share_of_the_waiting() -> None:
    """The limit divided among the workspaces waiting; alone, the whole budget."""
    assert fair(99, 100, 0) and not fair(100, 100, 0)  # alone: everything
    assert fair(49, 100, 1) and not fair(50, 100, 1)  # one other waits: half
    assert fair(33, 100, 2) and not fair(34, 100, 2)  # two: a third each
    # A share smaller than a call still lets each workspace make its first call.
    assert fair(0, 120, 500) and not fair(1, 120, 500)


# Properties of the engine's arithmetic (hypothesis): the calls are reserved exactly as
# ``Budgets.reserve`` does (``take`` on the bucket's stored count, ``rolling_frees_at`` on the
# caller's record), with any sizes and times.


def most_in_a_stretch(taken: list[Reserved], every: timedelta, *, closed_end: bool = False) -> int:
    """The most units any ``every``-long stretch holds: ``[t, t + every)`` from each call (the
    worst begins at one), or ``(t - every, t]`` up to each (``closed_end``: a rolling record)."""
    times = [r.at for r in taken]
    sums = [0, *accumulate(r.cost for r in taken)]
    if closed_end:
        return max(
            (
                sums[i + 1] - sums[bisect.bisect_right(times, t - every)]
                for i, t in enumerate(times)
            ),
            default=0,
        )
    return max(
        (sums[bisect.bisect_left(times, t + every)] - sums[i] for i, t in enumerate(times)),
        default=0,
    )


@given(rule=rules("sliding"), bursts=BURSTS)
def test_no_stretch_of_a_sliding_period_ever_holds_more_than_the_limit(
    rule: Rule, bursts: list[Burst]
) -> None:
    taken = reserve_all(rule, bursts, START)
    assert most_in_a_stretch(taken, rule.every) <= rule.limit


@given(rule=rules("rolling"), bursts=BURSTS)
def test_no_stretch_of_a_rolling_period_ever_holds_more_than_the_limit(
    rule: Rule, bursts: list[Burst]
) -> None:
    taken = reserve_all(rule, bursts, START)
    # The record counts the calls after ``now - every``.
    assert most_in_a_stretch(taken, rule.every, closed_end=True) <= rule.limit


@given(rule=rules("fixed"), bursts=BURSTS)
def test_no_fixed_window_ever_holds_more_than_the_limit(rule: Rule, bursts: list[Burst]) -> None:
    held: dict[datetime | None, int] = {}
    for r in reserve_all(rule, bursts, START):
        held[r.window_start] = held.get(r.window_start, 0) + r.cost
        assert r.window_start is not None and r.window_start <= r.at < r.window_start + rule.every
    assert all(units <= rule.limit for units in held.values())


@given(
    rule=rules("calendar"),
    bursts=BURSTS,
    offset=st.integers(0, 72 * 3600),
)
def test_no_calendar_day_of_the_platforms_zone_ever_holds_more_than_the_limit(
    rule: Rule, bursts: list[Burst], offset: int
) -> None:
    """Days of 23 or 25 hours included (the draws cross the DST change in most zones)."""
    rule = rule.model_copy(update={"every": timedelta(hours=16)})  # delays of up to a day
    by_day: dict[object, int] = {}
    for r in reserve_all(rule, bursts, START + timedelta(seconds=offset)):
        day = r.at.astimezone(ZoneInfo(rule.timezone)).date()
        by_day[day] = by_day.get(day, 0) + r.cost
    assert all(units <= rule.limit for units in by_day.values())


def greedy(rule: Rule, cost: int, periods: int) -> int:
    """Units a caller gets in ``periods`` periods who calls whenever the count allows, and
    waits for the window's end when it does not."""
    count, now, end, units = Count(), START, START + rule.every * periods, 0
    while now < end:
        after = take(count, counted_limit(rule), cost, now, window_end(rule, now))
        if after is None:
            now = refused_until(count, now)
            continue
        count, units = after, units + cost
    return units


@settings(deadline=None)
@given(limit=st.integers(8, 2_000), largest=st.integers(1, 500), data=st.data())
def test_a_greedy_caller_gets_k_out_of_k_plus_1_of_a_sliding_limit(
    limit: int, largest: int, data: st.DataObject
) -> None:
    """At least ``k / (k + 1)`` of the limit per period, less rounding (a call's size per
    window); three quarters wherever the largest call fits a quarter of the limit, half where
    it fits a half."""
    assume(limit // 2 >= largest)
    rule = Rule(
        bucket="b", limit=limit, every=timedelta(hours=1), window="sliding", largest_call=largest
    )
    cost = data.draw(st.integers(1, largest))
    k, periods = slices(rule), 3
    per_period = greedy(rule, cost, periods) / periods
    assert per_period >= k / (k + 1) * limit - k * cost
    if limit // 4 >= largest:
        assert k >= 3 and per_period >= 0.75 * limit - 4 * cost


@settings(deadline=None)
@given(
    limit=st.integers(1, 3_000),
    cost=st.integers(1, 50),
    window=st.sampled_from(["fixed", "calendar"]),
)
def test_a_greedy_caller_gets_all_of_a_fixed_or_calendar_window(
    limit: int, cost: int, window: str
) -> None:
    assume(cost <= limit)
    rule = Rule(bucket="b", limit=limit, every=timedelta(days=1), window=window)  # type: ignore[arg-type]
    # Every window holds as many whole calls as fit.
    assert greedy(rule, cost, 3) >= 3 * (limit // cost) * cost
