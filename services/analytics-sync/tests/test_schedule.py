"""The fetch grid: an account's posts of one tier come due together."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from analytics.fetching.schedule import account_phase, first_fetch, next_fetch
from analytics.settings import default_post_schedule

TIERS = default_post_schedule()
NOON = datetime(2026, 12, 2, 12, tzinfo=UTC)


def test_posts_fetched_within_a_quarter_interval_come_due_together() -> None:
    phase = 0.0  # quarters starting on the hour
    published = NOON - timedelta(hours=3)  # hourly tier
    fetches = [NOON + timedelta(minutes=m) for m in range(1, 61)]
    nexts = [next_fetch(published, at, TIERS, phase) for at in fetches]
    for at, due in zip(fetches, nexts, strict=True):
        assert at + timedelta(hours=1) <= due < at + timedelta(hours=1, minutes=15)
    # Sixty fetch times, four instants: one per quarter of the hour.
    assert len(set(nexts)) == 4


def test_each_tier_keeps_its_interval_and_accounts_have_phases_of_their_own() -> None:
    fetched = NOON + timedelta(minutes=7)
    for age, every in (
        (timedelta(days=3), timedelta(hours=6)),
        (timedelta(days=200), timedelta(days=7)),
    ):
        due = next_fetch(fetched - age, fetched, TIERS, 0.5)
        assert fetched + every <= due < fetched + every * 1.25
    phases = {account_phase(uuid.uuid4()) for _ in range(50)}
    assert len(phases) > 40 and all(0 <= p < 1 for p in phases)
    young = NOON - timedelta(hours=1)
    assert next_fetch(young, NOON, TIERS, 0.1) != next_fetch(young, NOON, TIERS, 0.6)


def test_a_published_post_is_first_fetched_later_and_an_accounts_burst_together() -> None:
    after = timedelta(minutes=15)
    phase = account_phase(uuid.uuid4())
    # A burst: the account's posts go out over three minutes.
    burst = [NOON + timedelta(seconds=s) for s in range(0, 180, 7)]
    firsts = [first_fetch(at, after, phase) for at in burst]
    for at, due in zip(burst, firsts, strict=True):
        assert at + after <= due < at + after * 1.25
    assert len(set(firsts)) <= 2  # one batch, or two when the burst straddles a grid point
    assert first_fetch(NOON, timedelta(0), phase) == NOON  # zero: at once
