"""The derived numbers (``analytics.queries.formulas``): each answers null rather than a guess,
and the SQL form of ``engagements`` (used to sort) agrees with the Python one on the real
PostgreSQL."""

from __future__ import annotations

import asyncpg
import pytest

from analytics.queries.formulas import (
    ENGAGEMENT_METRICS,
    audience,
    ctr,
    derived,
    engagements,
    growth,
    sql_engagements,
    viral_score,
)
from socialseed.testing import Infra


def test_engagements_add_the_reported_interactions() -> None:
    assert engagements({"likes": 10, "comments": 2, "shares": 3, "saves": 1}) == 16
    assert engagements({"likes": 10, "comments": None, "views": 900}) == 10
    assert engagements({"likes": 0}) == 0  # reported as none is not missing
    assert engagements({"views": 900, "reach": 50}) is None


def test_the_audience_is_the_first_reported_non_zero_one() -> None:
    assert audience({"reach": 200, "impressions": 500, "views": 900}) == 200
    assert audience({"reach": 0, "impressions": 500}) == 500
    assert audience({"reach": None, "impressions": None, "views": 900}) == 900
    assert audience({"likes": 5}) is None


def test_the_ratios_are_null_without_a_numerator_or_a_denominator() -> None:
    values = {"likes": 30, "shares": 10, "reach": 400, "impressions": 1000, "clicks": 25}
    assert derived(values) == {
        "engagements": 40,
        "engagement_rate": 0.1,
        "ctr": 0.025,
        "viral_score": 0.025,
    }
    assert derived({"likes": 3, "reach": 0}) == {
        "engagements": 3,
        "engagement_rate": None,
        "ctr": None,
        "viral_score": None,
    }
    assert ctr({"clicks": 5, "impressions": 0}) is None
    assert ctr({"impressions": 100}) is None
    assert viral_score({"shares": 0, "views": 100}) == 0.0


@pytest.mark.parametrize(
    ("current", "previous", "expected"),
    [(150, 100, 0.5), (50, 100, -0.5), (100, 100, 0.0), (5, 0, None), (5, None, None),
     (None, 5, None), (0, 5, -1.0)],
)  # fmt: skip
def test_growth_against_the_previous_period(
    current: int | None, previous: int | None, expected: float | None
) -> None:
    assert growth(current, previous) == expected


ROWS = [
    (None, None, None, None),
    (0, None, None, None),
    (10, 2, None, 1),
    (1, 1, 1, 1),
    (None, None, 7, None),
]


async def test_the_sql_engagements_agree_with_the_python_ones(infra: Infra) -> None:
    url = infra.service_url("analytics").replace("postgresql+asyncpg", "postgresql")
    conn = await asyncpg.connect(url)
    try:
        columns = ", ".join(ENGAGEMENT_METRICS)
        placeholders = ", ".join(
            "(" + ", ".join(f"${4 * i + j + 1}::int" for j in range(4)) + ")"
            for i in range(len(ROWS))
        )
        found = await conn.fetch(
            f"SELECT {sql_engagements('v.')} AS e FROM (VALUES {placeholders}) AS v({columns})",
            *[x for row in ROWS for x in row],
        )
    finally:
        await conn.close()
    expected = [engagements(dict(zip(ENGAGEMENT_METRICS, row, strict=True))) for row in ROWS]
    assert [r["e"] for r in found] == expected == [None, 0, 13, 4, 7]
