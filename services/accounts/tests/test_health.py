"""An account's health score (``accounts.connections.health``): each reason's weight, and how they
add up, from the account's state alone."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from accounts.connections.health import EXPIRY_WARNING, Health, health
from accounts.models import Account, AccountStatus

NOW = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)


def account(**fields: object) -> Account:
    values: dict[str, object] = {
        "id": uuid.uuid4(),
        "workspace_id": uuid.uuid4(),
        "platform": "x",
        "platform_user_id": "1",
        "username": "ada",
        "display_name": "Ada",
        "status": AccountStatus.ACTIVE,
        "connected_by": uuid.uuid4(),
        "access_token_enc": b"a",
        "refresh_token_enc": b"r",
        "token_expires_at": NOW + timedelta(hours=1),
        "consecutive_failures": 0,
        "last_error": None,
        "rate_limited_until": None,
    } | fields
    return Account(**values)


def test_a_healthy_account_scores_100() -> None:
    assert health(account(), NOW) == Health(100, ())


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (AccountStatus.DISCONNECTED, "Disconnected"),
        (AccountStatus.REAUTH_REQUIRED, "connect the account again"),
    ],
)
def test_an_account_that_cannot_publish_scores_0_whatever_else(
    status: AccountStatus, reason: str
) -> None:
    [why] = health(account(status=status, consecutive_failures=9), NOW).reasons
    assert health(account(status=status), NOW).score == 0
    assert reason in why


def test_a_token_that_cannot_be_renewed_is_flagged_a_week_before_it_ends() -> None:
    renewable_soon = account(token_expires_at=NOW + timedelta(hours=1))
    assert health(renewable_soon, NOW).score == 100  # the refresher renews it
    fixed = {"refresh_token_enc": None}
    assert health(account(**fixed, token_expires_at=NOW + EXPIRY_WARNING), NOW).score == 100
    soon = health(account(**fixed, token_expires_at=NOW + timedelta(days=3, hours=2)), NOW)
    assert soon.score == 60
    assert soon.reasons[0].startswith("Access ends in 3 days")
    ended = health(account(**fixed, token_expires_at=NOW - timedelta(days=2)), NOW)
    assert (ended.score, ended.reasons[0][:22]) == (60, "Access ends in 0 days ")
    assert health(account(**fixed, token_expires_at=None), NOW).score == 100  # never ends


@pytest.mark.parametrize(("failures", "score"), [(1, 85), (2, 70), (3, 55), (4, 55), (40, 55)])
def test_failures_cost_15_each_up_to_45(failures: int, score: int) -> None:
    h = health(account(consecutive_failures=failures, last_error="HTTP 503"), NOW)
    assert h.score == score
    assert h.reasons == (f"{failures} recent call(s) to the platform failed: HTTP 503",)
    assert health(account(consecutive_failures=1), NOW).reasons[0].endswith("failed.")


def test_a_rate_limit_costs_20_while_it_lasts() -> None:
    limited = health(account(rate_limited_until=NOW + timedelta(minutes=30)), NOW)
    assert limited == Health(80, ("Rate-limited by the platform until 12:30 UTC.",))
    assert health(account(rate_limited_until=NOW), NOW).score == 100  # it just ended


def test_reasons_add_up_and_the_score_stays_at_or_above_0() -> None:
    h = health(
        account(
            refresh_token_enc=None,
            token_expires_at=NOW + timedelta(days=1),
            consecutive_failures=5,
            rate_limited_until=NOW + timedelta(hours=1),
        ),
        NOW,
    )
    assert h.score == 0  # 100 - 40 - 45 - 20, floored
    assert len(h.reasons) == 3
