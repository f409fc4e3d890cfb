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
    limit = draw(st.integers(1, 150))
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


Burst = tuple[tuple[str, float], int, int]

#: Bursts of calls: when (``after``: a fraction of the rule's period after the previous burst;
#: ``around_end``: that fraction around when the bucket next frees, its window's end, where one
#: window's calls meet the next one's), the size of each call, and how many at that instant.
ANY_BURSTS = st.lists(
    st.tuples(
        st.one_of(
            st.tuples(st.just("after"), st.one_of(st.just(0.0), st.floats(0, 1.5))),
            st.tuples(st.just("around_end"), st.floats(-0.02, 0.02)),
        ),
        st.integers(1, 60),
        st.integers(1, 40),
    ),
    max_size=30,
)


@st.composite
def edge_bursts(draw: st.DrawFn) -> list[Burst]:
    """The schedule that packs the most into a stretch: one call opens a window, the rest of it
    is taken just before it ends, each next window is filled the moment it opens."""
    early, size = draw(st.floats(1e-6, 0.02)), draw(st.integers(1, 60))
    fill = [(("around_end", 0.0), size, 200)] * draw(st.integers(1, 6))
    return [(("after", 0.0), size, 1), (("around_end", -early), size, 200), *fill]


def reserve_all(
    rule: Rule, bursts: list[Burst] | list[tuple[float, int]], start: datetime
) -> list[Reserved]:
    """Each call (a burst of ``BURSTS``, or a delay after the previous call as a fraction of
    ``every`` and a size) reserved as the engine does, sizes up to ``largest_call``; the ones
    that fit."""
    count, now, taken = Count(), start, []

    def nth_latest() -> datetime | None:
        recent = sorted((r.at for r in taken if r.at > now - rule.every), reverse=True)
        return recent[rule.limit - 1] if len(recent) >= rule.limit else None

    for burst in bursts:
        if isinstance(burst[0], tuple):
            (when, fraction), size, n = burst  # type: ignore[misc]
        else:
            (fraction, size), when, n = burst, "after", 1  # type: ignore[misc]
        if when == "after":
            now += rule.every * fraction
        else:
            rolling = rule.window == "rolling"
            end = rolling_frees_at(nth_latest(), rule, now) if rolling else count.reset_at
            if end is not None:
                now = max(now, end + rule.every * fraction)
        for _ in range(n):
            cost = min(size, rule.largest_call) if rule.window != "rolling" else 1
            if rule.window == "rolling":
                if rolling_frees_at(nth_latest(), rule, now) is None:
                    taken.append(Reserved(now, cost, None))
                continue
            after = take(count, counted_limit(rule), cost, now, window_end(rule, now))
            if after is not None:
                count = after
                taken.append(Reserved(now, cost, after.window_start))
    return taken


BURSTS = st.one_of(ANY_BURSTS, edge_bursts())
