"""A model of what ``Budgets.reserve`` decides, on the pure arithmetic alone: the property tests
(``test_budget_rules.py``) check it, and the SQL layer's test (``test_budget_engine.py``) checks
the engine decides the same."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from hypothesis import strategies as st

from socialseed.budgets.rules import (
    Count,
    Rule,
    counted_limit,
    rolling_frees_at,
    take,
    window_end,
)

START = datetime(2026, 3, 6, tzinfo=UTC)  # two days before the US DST change
ZONES = ["UTC", "America/Los_Angeles", "Europe/Berlin", "Australia/Lord_Howe"]


@st.composite
def rules(draw: st.DrawFn, window: str) -> Rule:
    limit = draw(st.integers(1, 400))
    return Rule(
        bucket="b",
        limit=limit,
        every=timedelta(seconds=draw(st.integers(60, 4 * 3600))),
        window=window,  # type: ignore[arg-type]
        timezone=draw(st.sampled_from(ZONES)),
        largest_call=draw(st.integers(1, max(1, limit // 3))),
    )


@dataclass
class Reserved:
    at: datetime
    cost: int
    window_start: datetime | None


def reserve_all(rule: Rule, calls: list[tuple[float, int]], start: datetime) -> list[Reserved]:
    """Each call (its delay after the previous one, as a fraction of ``every``, and its cost
    up to ``largest_call``) reserved as the engine does; the ones that fit."""
    count, now, taken = Count(), start, []
    for delay, size in calls:
        now += rule.every * delay
        cost = min(size, rule.largest_call) if rule.window != "rolling" else 1
        if rule.window == "rolling":
            recent = sorted((r.at for r in taken if r.at > now - rule.every), reverse=True)
            nth = recent[rule.limit - 1] if len(recent) >= rule.limit else None
            if rolling_frees_at(nth, rule, now) is None:
                taken.append(Reserved(now, cost, None))
            continue
        after = take(count, counted_limit(rule), cost, now, window_end(rule, now))
        if after is not None:
            count = after
            taken.append(Reserved(now, cost, after.window_start))
    return taken
