"""The report's numbers as text: one formatting for the PDF and the CSV's header, so that both
say the same thing."""

from __future__ import annotations

from analytics.queries.schemas import Change

LABELS = {
    "posts_published": "Posts",
    "impressions": "Impressions",
    "reach": "Reach",
    "engagements": "Engagements",
    "engagement_rate": "Engagement rate",
    "followers": "Followers",
}
DASH = "\N{EN DASH}"  # a missing number; a range
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def number(value: float | int | None, metric: str = "") -> str:
    """``12,345``; a rate as ``4.2 %``; a missing number as an en dash."""
    if value is None:
        return DASH
    if metric == "engagement_rate":
        return f"{value * 100:.1f} %"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.1f}"
    return f"{int(value):,}"


def growth(value: float | None) -> str:
    """``+12.5 %`` against the previous period; empty when there is nothing to compare with."""
    return "" if value is None else f"{value * 100:+.1f} %"


def cell(metric: str, change: Change | None) -> str:
    """A value with its growth: ``12,345 (+12.5 %)``."""
    if change is None:
        return DASH
    trend = growth(change.growth)
    shown = number(change.value, metric)
    return f"{shown} ({trend})" if trend else shown
