"""The derived numbers of the analytics API, defined once: every endpoint, the export and the
OpenAPI descriptions use these functions and texts.

Every formula answers ``None`` rather than a guess when a number it needs is missing (a
platform that has no such metric, a post not fetched yet) or its denominator is 0."""

from __future__ import annotations

from collections.abc import Mapping

#: What counts as an engagement: the interactions a platform reports on a post.
ENGAGEMENT_METRICS = ("likes", "comments", "shares", "saves")
#: The audience an engagement rate is relative to, in order of preference: the first one the
#: platform reports (and is not 0) is used. Instagram and Facebook report reach; X and LinkedIn
#: impressions; YouTube and TikTok views only.
AUDIENCE_METRICS = ("reach", "impressions", "views")

Values = Mapping[str, float | int | None]

ENGAGEMENTS_DOC = "`engagements` = likes + comments + shares + saves (those the platform reports)"
ENGAGEMENT_RATE_DOC = (
    "`engagement_rate` = engagements / audience, where the audience is `reach`, else "
    "`impressions`, else `views` (the first one the platform reports and is not 0: reach on "
    "Instagram and Facebook, impressions on X and LinkedIn, views on YouTube and TikTok); "
    "null when there is no audience or no engagement metric. A fraction (0.05 = 5 %)."
)
CTR_DOC = "`ctr` = clicks / impressions; null when either is missing or impressions are 0."
VIRAL_SCORE_DOC = (
    "`viral_score` = shares / audience (the same audience as the engagement rate): how much "
    "of the audience passed the post on; null without shares or audience."
)
GROWTH_DOC = (
    "`growth` = (current - previous) / previous, the change against the previous period of "
    "the same length; null when the previous value is missing or 0."
)
FORMULAS_DOC = "\n\n".join(
    [ENGAGEMENTS_DOC, ENGAGEMENT_RATE_DOC, CTR_DOC, VIRAL_SCORE_DOC, GROWTH_DOC]
)


def engagements(values: Values) -> int | None:
    present = [values.get(m) for m in ENGAGEMENT_METRICS if values.get(m) is not None]
    return int(sum(present)) if present else None  # type: ignore[arg-type]


def audience(values: Values) -> float | None:
    """The engagement rate's denominator: the first audience metric reported and non-zero."""
    for name in AUDIENCE_METRICS:
        value = values.get(name)
        if value:
            return float(value)
    return None


def _ratio(numerator: float | int | None, denominator: float | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return numerator / denominator


def engagement_rate(values: Values) -> float | None:
    return _ratio(engagements(values), audience(values))


def ctr(values: Values) -> float | None:
    impressions = values.get("impressions")
    return _ratio(values.get("clicks"), float(impressions) if impressions else None)


def viral_score(values: Values) -> float | None:
    return _ratio(values.get("shares"), audience(values))


def growth(current: float | int | None, previous: float | int | None) -> float | None:
    if current is None or not previous:
        return None
    return (current - previous) / previous


def derived(values: Values) -> dict[str, float | int | None]:
    """Every derived number of one set of values (a post's, or totals)."""
    return {
        "engagements": engagements(values),
        "engagement_rate": engagement_rate(values),
        "ctr": ctr(values),
        "viral_score": viral_score(values),
    }


def sql_engagements(prefix: str = "") -> str:
    """``engagements`` as a SQL expression over metric columns (sorting, top posts): null when
    none of them is reported, like :func:`engagements`."""
    cols = ", ".join(f"{prefix}{m}" for m in ENGAGEMENT_METRICS)
    summed = " + ".join(f"coalesce({prefix}{m}, 0)" for m in ENGAGEMENT_METRICS)
    return f"(CASE WHEN coalesce({cols}) IS NULL THEN NULL ELSE {summed} END)"
