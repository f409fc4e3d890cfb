from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from accounts.connections.health import Health as Judged
from accounts.models import Account, AccountStatus


class Health(BaseModel):
    score: int = Field(ge=0, le=100, description="100 = nothing to worry about")
    reasons: list[str] = Field(description="What lowered the score, in words")

    @classmethod
    def of(cls, result: Judged) -> Health:
        return cls(score=result.score, reasons=list(result.reasons))


class AccountOut(BaseModel):
    id: uuid.UUID
    workspace_id: uuid.UUID
    platform: str
    platform_user_id: str
    username: str
    display_name: str
    avatar_url: str | None
    status: AccountStatus
    token_expires_at: datetime | None
    connected_at: datetime
    last_synced_at: datetime | None
    followers: int | None
    following: int | None
    post_count: int | None
    health: Health

    @classmethod
    def of(cls, account: Account, judged: Judged) -> AccountOut:
        """The account as the API shows it, with its health as the domain judged it."""
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
            health=Health.of(judged),
        )


class TokenOut(BaseModel):
    """Internal only (token vault): never exposed through the gateway."""

    access_token: str
    expires_at: datetime | None
    platform: str
    platform_user_id: str
