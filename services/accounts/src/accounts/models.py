"""The accounts schema: connected accounts with encrypted tokens, OAuth states, outbox."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    DateTime,
    Enum,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from socialseed.db import NAMING_CONVENTION
from socialseed.membership import member_changes_table
from socialseed.outbox import inbox_table, outbox_table


class Base(DeclarativeBase):
    metadata = MetaData(schema="accounts", naming_convention=NAMING_CONVENTION)


outbox = outbox_table(Base.metadata)
inbox = inbox_table(Base.metadata)
# Auth's workspace membership changes: a token issued before one loses that workspace's powers.
member_changes = member_changes_table(Base.metadata)


class AccountStatus(StrEnum):
    """Where an account stands; the values are the wire values of the API and the column's."""

    ACTIVE = "active"
    REAUTH_REQUIRED = "reauth_required"  # the platform refused the grant: connect it again
    DISCONNECTED = "disconnected"  # removed by a user; its tokens are gone


def _values(enum: type[StrEnum]) -> list[str]:
    return [member.value for member in enum]


def _uuid() -> uuid.UUID:
    return uuid.uuid4()


class Account(Base):
    __tablename__ = "accounts"
    __table_args__ = (
        UniqueConstraint(
            "workspace_id", "platform", "platform_user_id", name="uq_account_identity"
        ),
        # socialseed_accounts{platform,status}, counted at each scrape from the index alone.
        Index("ix_accounts_platform_status", "platform", "status"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=_uuid)
    workspace_id: Mapped[uuid.UUID] = mapped_column(index=True)
    platform: Mapped[str] = mapped_column(String(16))
    platform_user_id: Mapped[str] = mapped_column(String(128))
    username: Mapped[str] = mapped_column(String(200))
    display_name: Mapped[str] = mapped_column(String(300))
    avatar_url: Mapped[str | None] = mapped_column(Text)
    # Stored as its value (a plain string column, as before), read back as the enum.
    status: Mapped[AccountStatus] = mapped_column(
        Enum(AccountStatus, native_enum=False, length=20, values_callable=_values),
        default=AccountStatus.ACTIVE,
    )
    connected_by: Mapped[uuid.UUID]
    connected_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )

    # Fernet tokens (authenticated encryption); plaintext never touches the database.
    access_token_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    refresh_token_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    scopes: Mapped[list[str]] = mapped_column(ARRAY(String), default=list)
    token_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    refresh_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    token_refreshed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The grant end (``grant_end``) ``account.token_expiring`` last warned of: once per grant.
    expiry_warned_for: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    followers: Mapped[int | None] = mapped_column(Integer)
    following: Mapped[int | None] = mapped_column(Integer)
    post_count: Mapped[int | None] = mapped_column(Integer)
    last_synced_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    # Health inputs.
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    rate_limited_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class OAuthState(Base):
    """A pending connect: bound to user, workspace, platform and PKCE verifier; single use."""

    __tablename__ = "oauth_states"

    state_hash: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    user_id: Mapped[uuid.UUID]
    workspace_id: Mapped[uuid.UUID]
    platform: Mapped[str] = mapped_column(String(16))
    code_verifier_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    callback_uri: Mapped[str] = mapped_column(Text)
    return_to: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
