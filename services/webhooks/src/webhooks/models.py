"""The webhooks schema: endpoints (with their encrypted signing secrets) and deliveries."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from socialseed.db import NAMING_CONVENTION
from socialseed.membership import member_changes_table
from socialseed.outbox import inbox_table, outbox_table


class Base(DeclarativeBase):
    metadata = MetaData(schema="webhooks", naming_convention=NAMING_CONVENTION)


outbox = outbox_table(Base.metadata)
inbox = inbox_table(Base.metadata)
member_changes = member_changes_table(Base.metadata)

TS = DateTime(timezone=True)


class Endpoint(Base):
    """A receiver a workspace registered: where to send which events, signed with its secret."""

    __tablename__ = "endpoints"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    workspace_id: Mapped[uuid.UUID] = mapped_column(index=True)
    url: Mapped[str] = mapped_column(String(2048))
    description: Mapped[str] = mapped_column(String(500), default="")
    events: Mapped[list[str]] = mapped_column(ARRAY(String(64)))
    enabled: Mapped[bool] = mapped_column(default=True)
    # Why it was turned off by us (its deliveries kept failing), in words; null otherwise.
    disabled_reason: Mapped[str | None] = mapped_column(Text, default=None)
    # The signing secret (``whsec_...``), Fernet-encrypted; shown once, on create and rotate.
    secret: Mapped[bytes] = mapped_column(LargeBinary)
    created_by: Mapped[uuid.UUID]
    created_at: Mapped[datetime] = mapped_column(TS, server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(TS, server_default=func.now())
    # One attempt at a time per endpoint: the sender holding it, until this instant.
    busy_until: Mapped[datetime | None] = mapped_column(TS, default=None)


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # due at next_attempt_at
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # every attempt failed (or the endpoint went away)


class Delivery(Base):
    """One message to one endpoint and its attempts so far: the body is fixed when the event
    arrives, each attempt signs it afresh under the same ``webhook_id``."""

    __tablename__ = "deliveries"
    __table_args__ = (
        Index("ix_deliveries_endpoint_created", "endpoint_id", "created_at", "id"),
        Index(
            "ix_deliveries_due",
            "next_attempt_at",
            postgresql_where="status = 'pending'",
        ),
        # The retention purge: finished deliveries, oldest first.
        Index(
            "ix_deliveries_finished_created",
            "created_at",
            postgresql_where="status <> 'pending'",
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    endpoint_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("endpoints.id", ondelete="CASCADE"))
    workspace_id: Mapped[uuid.UUID]
    webhook_id: Mapped[str] = mapped_column(String(64))
    event_type: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=DeliveryStatus.PENDING)
    attempt: Mapped[int] = mapped_column(Integer, default=0)  # attempts made so far
    next_attempt_at: Mapped[datetime | None] = mapped_column(TS)
    response_code: Mapped[int | None] = mapped_column(Integer, default=None)
    response_body: Mapped[str | None] = mapped_column(Text, default=None)
    duration_ms: Mapped[int | None] = mapped_column(Integer, default=None)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(TS)
    last_attempt_at: Mapped[datetime | None] = mapped_column(TS, default=None)
