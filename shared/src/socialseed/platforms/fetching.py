"""What the metrics fetchers share: the ids of one batch, the posts of a listing, the items a
platform left out of its answer, and the newest signal of each rate-limit bucket."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import datetime
from typing import Any

from socialseed.platforms.base import ItemFailure, ListedPost, MetricsGap, RateSignal


def batch_of(ids: Sequence[str], size: int) -> list[str]:
    """The batch's distinct ids in the order given. More than ``size`` of them is the caller's
    mistake (it splits larger sets), not something to send the platform."""
    distinct = list(dict.fromkeys(str(i) for i in ids))
    if len(distinct) > size:
        raise ValueError(f"{len(distinct)} post ids in one batch; at most {size}")
    return distinct


def by_id(items: Any) -> dict[str, dict[str, Any]]:
    """A list of objects from a platform's answer, by their ``id`` (anything else is skipped)."""
    if not isinstance(items, list):
        return {}
    return {str(i["id"]): i for i in items if isinstance(i, dict) and i.get("id")}


def gone(ids: Iterable[str], answered: Collection[str], message: str) -> list[ItemFailure]:
    """The ids the platform left out of its answer: it no longer has them for this account
    (deleted, made private, or someone else's), so they stop being synced."""
    return [ItemFailure(i, MetricsGap.DELETED, message) for i in ids if i not in answered]


def newest_first(posts: Iterable[ListedPost], since: datetime) -> tuple[ListedPost, ...]:
    """The posts published at or after ``since``, each once, newest first (pages may overlap
    when posts are published while they are read)."""
    seen: dict[str, ListedPost] = {}
    for post in posts:
        if post.published_at >= since:
            seen.setdefault(post.id, post)
    return tuple(sorted(seen.values(), key=lambda p: p.published_at, reverse=True))


def latest_signals(signals: Iterable[RateSignal | None]) -> tuple[RateSignal, ...]:
    """The last signal of each bucket: a later response says more about the budget left."""
    found: dict[str, RateSignal] = {}
    for signal in signals:
        if signal is not None:
            found[signal.bucket] = signal
    return tuple(found.values())
