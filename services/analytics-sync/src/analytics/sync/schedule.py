"""When a post or an account is fetched next: by the post's age (settings' ``post_schedule``
tiers, first fitting tier wins) and every ``account_every`` for an account's own counters."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from analytics.settings import ScheduleTier


def next_fetch(
    published_at: datetime, fetched_at: datetime, tiers: Sequence[ScheduleTier]
) -> datetime:
    """The fetch after the one made at ``fetched_at`` of a post published at ``published_at``."""
    age = fetched_at - published_at
    for tier in tiers:
        if tier.younger_than is None or age < tier.younger_than:
            return fetched_at + tier.every
    return fetched_at + tiers[-1].every
