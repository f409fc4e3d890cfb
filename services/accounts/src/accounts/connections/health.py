"""How healthy a connected account is: a 0-100 score and the reasons that lowered it.

A business rule over the account's state (token lifetime, recent failures, rate limits), kept
apart from the API schemas that only carry its result.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from accounts.models import Account, AccountStatus

#: A token the platform cannot renew is flagged when it ends within this long.
EXPIRY_WARNING = timedelta(days=7)


@dataclass(frozen=True)
class Health:
    score: int  # 100 = nothing to worry about
    reasons: tuple[str, ...]  # what lowered the score, in words


def health(account: Account, now: datetime) -> Health:
    """A 0-100 score from the token's state, recent failures and rate-limit headroom."""
    if account.status is AccountStatus.DISCONNECTED:
        return Health(0, ("Disconnected from SocialSeed.",))
    if account.status is AccountStatus.REAUTH_REQUIRED:
        return Health(0, ("The platform revoked access: connect the account again.",))
    score, reasons = 100, []
    expires = account.token_expires_at
    if expires is not None and account.refresh_token_enc is None:
        left = expires - now
        if left < EXPIRY_WARNING:
            score -= 40
            reasons.append(
                f"Access ends in {max(left.days, 0)} days and this platform cannot renew it:"
                " connect the account again soon."
            )
    if account.consecutive_failures:
        score -= min(45, 15 * account.consecutive_failures)
        reasons.append(
            f"{account.consecutive_failures} recent call(s) to the platform failed"
            + (f": {account.last_error}" if account.last_error else ".")
        )
    if account.rate_limited_until is not None and account.rate_limited_until > now:
        score -= 20
        reasons.append(
            f"Rate-limited by the platform until {account.rate_limited_until:%H:%M} UTC."
        )
    return Health(max(score, 0), tuple(reasons))
