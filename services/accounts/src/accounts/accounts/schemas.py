from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Literal

from pydantic import BaseModel, Field

from accounts.models import Account

Status = Literal["active", "reauth_required", "disconnected"]


class Health(BaseModel):
    score: int = Field(ge=0, le=100, description="100 = nothing to worry about")
    reasons: list[str] = Field(description="What lowered the score, in words")


class AccountOut(BaseModel):
    id: uuid.UUID
    workspace_id: uuid.UUID
    platform: str
    platform_user_id: str
    username: str
    display_name: str
    avatar_url: str | None
    status: Status
    token_expires_at: datetime | None
    connected_at: datetime
    last_synced_at: datetime | None
    followers: int | None
    following: int | None
    post_count: int | None
    health: Health

    @classmethod
    def of(cls, account: Account, now: datetime | None = None) -> AccountOut:
        return cls(
            id=account.id,
            workspace_id=account.workspace_id,
            platform=account.platform,
            platform_user_id=account.platform_user_id,
            username=account.username,
            display_name=account.display_name,
            avatar_url=account.avatar_url,
            status=account.status,
            token_expires_at=account.token_expires_at,
            connected_at=account.connected_at,
            last_synced_at=account.last_synced_at,
            followers=account.followers,
            following=account.following,
            post_count=account.post_count,
            health=health(account, now or datetime.now(UTC)),
        )


def health(account: Account, now: datetime) -> Health:
    """A 0-100 score from the token's state, recent failures and rate-limit headroom."""
    if account.status == "disconnected":
        return Health(score=0, reasons=["Disconnected from SocialSeed."])
    if account.status == "reauth_required":
        return Health(score=0, reasons=["The platform revoked access: connect the account again."])
    score, reasons = 100, []
    expires = account.token_expires_at
    if expires is not None and account.refresh_token_enc is None:
        left = expires - now
        if left < timedelta(days=7):
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
    return Health(score=max(score, 0), reasons=reasons)


class TokenOut(BaseModel):
    """Internal only (token vault): never exposed through the gateway."""

    access_token: str
    expires_at: datetime | None
    platform: str
    platform_user_id: str
