from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import Field

from socialseed.contracts.base import Event


class AccountEvent(Event):
    account_id: uuid.UUID = Field(description="The connected social account")
    workspace_id: uuid.UUID = Field(description="Its workspace")
    platform: str = Field(description="tiktok, instagram, facebook, x, linkedin or youtube")


class AccountConnected(AccountEvent):
    """A social account was connected (or connected again) through the platform's OAuth."""

    topic = "account.connected"
    key_field = "account_id"

    platform_user_id: str = Field(description="The account's id at the platform")
    username: str = Field(description="Handle at the platform")
    reconnected: bool = Field(description="True when the account existed and was renewed")
    connected_at: datetime = Field(description="When (UTC)")


class AccountUpdated(AccountEvent):
    """The account's profile was synced (name, avatar, counters)."""

    topic = "account.updated"
    key_field = "account_id"

    username: str = Field(description="Handle at the platform")
    display_name: str = Field(description="Display name")
    followers: int | None = Field(description="Followers (or subscribers)")
    following: int | None = Field(description="Accounts followed")
    post_count: int | None = Field(description="Posts or videos")
    synced_at: datetime = Field(description="When (UTC)")


class AccountReauthRequired(AccountEvent):
    """The platform no longer honours the grant: a person must connect the account again."""

    topic = "account.reauth_required"
    key_field = "account_id"

    reason: str = Field(description="Why, in words")
    at: datetime = Field(description="When (UTC)")


class AccountDisconnected(AccountEvent):
    """The account was removed from the workspace and its grant revoked."""

    topic = "account.disconnected"
    key_field = "account_id"

    at: datetime = Field(description="When (UTC)")


class AccountTokenExpiring(AccountEvent):
    """The account's grant runs out soon and cannot be renewed without a person (Instagram's
    and LinkedIn's tokens end after 60 days whatever we do): reconnect it before ``expires_at``
    or its posts stop publishing. Sent once per grant, days ahead."""

    topic = "account.token_expiring"
    key_field = "account_id"

    username: str = Field(description="Handle at the platform")
    expires_at: datetime = Field(description="When the grant ends (UTC)")
    at: datetime = Field(description="When this warning was made (UTC)")
