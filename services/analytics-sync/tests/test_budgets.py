"""A sliding limit counted as fixed windows: a caller taking every call the count allows never
has more than the limit in any stretch of the period, and gets most of it."""

from __future__ import annotations

import bisect
from datetime import UTC, datetime, timedelta

import pytest

from analytics.settings import BudgetRule
from analytics.sync.budgets import counted_limit, fair, slices, window_end


def greedy_calls(
    rule: BudgetRule, start: datetime, span: timedelta, step: timedelta
) -> list[datetime]:
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
    rule = BudgetRule(bucket="b", limit=limit, every=every, window="sliding")
    start = datetime(2026, 12, 2, tzinfo=UTC)
    step = every / (limit * 3)  # a caller faster than the limit allows
    calls = greedy_calls(rule, start, every * 10, step)
    worst = max(bisect.bisect_left(calls, t + every) - i for i, t in enumerate(calls))
    assert worst <= limit
    if limit >= 100:  # rounding aside, most of the limit is used
        assert len(calls) / 10 >= 0.75 * limit


def test_a_sliding_limits_windows_fit_its_largest_call() -> None:
    def rule(limit: int, largest: int) -> BudgetRule:
        return BudgetRule(bucket="b", limit=limit, window="sliding", largest_call=largest)

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
