"""When a post or an account is fetched next: by the post's age (settings' ``post_schedule``
tiers, first fitting tier wins) and every ``account_every`` for an account's own counters.

A post's next fetch falls on a grid of a quarter of its tier's interval, shifted per account
by a phase of its own (``account_phase``): posts of one account and tier fetched in the same
quarter come due at the same instant and go out in one batch, where exact intervals would let
each drift to its own instant and the account's batches shrink to a post or two. A fetch is
at most a quarter of its interval later than the tiers say; the phases spread the accounts'
fetches over the interval instead of piling them on the hour."""

from __future__ import annotations

import math
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from analytics.settings import ScheduleTier

GRID_STEPS = 4
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def account_phase(account_id: uuid.UUID) -> float:
    """Where in each grid step the account's fetches fall, in [0, 1)."""
    return (account_id.int % 10_000) / 10_000


def next_fetch(
    published_at: datetime,
    fetched_at: datetime,
    tiers: Sequence[ScheduleTier],
    phase: float = 0.0,
) -> datetime:
    """The fetch after the one made at ``fetched_at`` of a post published at ``published_at``:
    the first point of the account's grid at least the tier's interval after it."""
    every = _interval(fetched_at - published_at, tiers)
    step = every / GRID_STEPS
    origin = _EPOCH + step * phase
    steps = math.ceil((fetched_at + every - origin) / step)
    return origin + step * steps


def first_fetch(published_at: datetime, after: timedelta, phase: float = 0.0) -> datetime:
    """The first fetch of a post published through SocialSeed: the first point of the
    account's grid (a quarter of ``after`` apart) at least ``after`` past its publishing, so an
    account's posts of one burst come due at one instant and go out in one batch. ``after``
    zero: at once."""
    if after <= timedelta(0):
        return published_at
    step = after / GRID_STEPS
    origin = _EPOCH + step * phase
    steps = math.ceil((published_at + after - origin) / step)
    return origin + step * steps


def _interval(age: timedelta, tiers: Sequence[ScheduleTier]) -> timedelta:
    for tier in tiers:
        if tier.younger_than is None or age < tier.younger_than:
            return tier.every
    return tiers[-1].every
