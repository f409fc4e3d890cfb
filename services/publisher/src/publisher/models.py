"""The publisher schema: posts and their targets (one per account), every publish attempt,
media, the projections of workspaces and accounts it validates against, outbox and inbox, and
the publishing budgets (``budgets``: ``socialseed.budgets``)."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    Uuid,
    func,
    text,
    true,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from socialseed.budgets.tables import budget_tables
from socialseed.db import NAMING_CONVENTION
from socialseed.membership import member_changes_table
from socialseed.outbox import inbox_table, outbox_table


class Base(DeclarativeBase):
    metadata = MetaData(schema="publisher", naming_convention=NAMING_CONVENTION)


outbox = outbox_table(Base.metadata)
inbox = inbox_table(Base.metadata)
member_changes = member_changes_table(Base.metadata)
budgets = budget_tables(Base.metadata)


def _uuid() -> uuid.UUID:
    return uuid.uuid4()


def _now_column() -> Mapped[datetime]:
    return mapped_column(DateTime(timezone=True), server_default=func.now())


class CommentStatus(enum.StrEnum):
    """Where a target's first comment is. ``pending``: due once the post is published;
    ``posting``: a worker claimed it and may be at the platform until its lease ends (a claim
    found ``posting`` past its lease means that worker died: the platform is asked first);
    ``in_doubt``: the comment request left and no answer came back (asked before retrying);
    ``posted`` and ``failed`` are final."""

    PENDING = "pending"
    POSTING = "posting"
    POSTED = "posted"
    FAILED = "failed"
    IN_DOUBT = "in_doubt"


class TargetStatus(enum.StrEnum):
    """Where one account's copy of a post is. ``in_doubt``: the platform may have published it
    (the request left, no answer came back); it is reconciled before anything is retried.
    ``waiting``: held back by a rate limit or a publishing cap until ``retry_at``. ``draft``: saved,
    never due (no ``due_at``): the dispatcher never sees it until the post is scheduled."""

    DRAFT = "draft"
    SCHEDULED = "scheduled"
    PUBLISHING = "publishing"
    IN_DOUBT = "in_doubt"
    WAITING = "waiting"
    PUBLISHED = "published"
    FAILED = "failed"
    CANCELLED = "cancelled"


class PostStatus(enum.StrEnum):
    DRAFT = "draft"
    PENDING_APPROVAL = "pending_approval"
    REJECTED = "rejected"
    SCHEDULED = "scheduled"
    PUBLISHING = "publishing"
    PUBLISHED = "published"
    PARTIALLY_PUBLISHED = "partially_published"
    FAILED = "failed"
    CANCELLED = "cancelled"


class Approval(enum.StrEnum):
    NOT_REQUIRED = "not_required"
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class WorkspaceView(Base):
    """What the publisher knows of a workspace, kept from auth's events. Not read to compose a
    post: its settings are asked of auth each time (``directory.service``)."""

    __tablename__ = "workspaces"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    timezone: Mapped[str] = mapped_column(String(64))
    require_approval: Mapped[bool]
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AccountView(Base):
    """What the publisher knows of a connected account (from the ``account.*`` events, or the
    accounts API on a miss). ``updated_at`` orders the events: an older one never wins."""

    __tablename__ = "accounts"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    workspace_id: Mapped[uuid.UUID] = mapped_column(index=True)
    platform: Mapped[str] = mapped_column(String(16))
    username: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Media(Base):
    __tablename__ = "media"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=_uuid)
    workspace_id: Mapped[uuid.UUID] = mapped_column(index=True)
    uploaded_by: Mapped[uuid.UUID]
    kind: Mapped[str] = mapped_column(String(8))
    mime_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    duration_s: Mapped[float | None] = mapped_column(Float)
    codec: Mapped[str | None] = mapped_column(String(32))
    # Describes an image for people who cannot see it; sent to the platforms that take it.
    alt_text: Mapped[str | None] = mapped_column(Text)
    storage_key: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = _now_column()


class IdempotencyRecord(Base):
    """The first answer to a create sent with an ``Idempotency-Key``, per workspace, caller and
    key: written in the create's own transaction (no post or media without its record, no
    record without its object), answered again for the same request within the retention,
    purged after it (``publisher.idempotency``)."""

    __tablename__ = "idempotency_keys"

    workspace_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    caller_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    # SHA-256 of the operation and the request (body; for uploads the file's bytes and fields).
    fingerprint: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    body: Mapped[Any] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), index=True
    )


class Post(Base):
    __tablename__ = "posts"
    __table_args__ = (Index("ix_posts_calendar", "workspace_id", "scheduled_at", "id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=_uuid)
    workspace_id: Mapped[uuid.UUID]
    author_id: Mapped[uuid.UUID]
    text: Mapped[str] = mapped_column(Text)
    media_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(Uuid), default=list)
    # The instant (UTC) and the zone it was given in (wall times are kept as the user meant).
    # A draft saved without a time has ``has_time`` false: ``scheduled_at`` is then when it was
    # saved (its place in lists) and the API answers null.
    scheduled_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    has_time: Mapped[bool] = mapped_column(default=True, server_default=true())
    timezone: Mapped[str] = mapped_column(String(64))
    # Derived from the approval and the targets (posts.status.derive), kept for the calendar's
    # filters; rewritten in every transaction that changes a target.
    status: Mapped[str] = mapped_column(String(24))
    approval: Mapped[str] = mapped_column(String(16))
    reviewed_by: Mapped[uuid.UUID | None]
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    rejection_reason: Mapped[str | None] = mapped_column(Text)
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = _now_column()
    updated_at: Mapped[datetime] = _now_column()

    targets: Mapped[list[Target]] = relationship(
        back_populates="post",
        order_by="Target.position",
        lazy="raise",
        cascade="all, delete-orphan",
    )


class Target(Base):
    """One account's copy of a post: what is published there, and how far it got."""

    __tablename__ = "targets"
    __table_args__ = (
        # The dispatcher's question: which targets are due (partial: only the open ones,
        # leases of ``publishing`` ones included).
        Index(
            "ix_targets_due",
            "due_at",
            postgresql_where=text("status IN ('scheduled', 'waiting', 'in_doubt', 'publishing')"),
        ),
        Index("ix_targets_account_published", "account_id", "published_at"),
        Index("ix_targets_post", "post_id"),  # a post's targets
        # The comment runner's question: which first comments are due.
        Index(
            "ix_targets_comment_due",
            "comment_due_at",
            postgresql_where=text("comment_status IN ('pending', 'posting', 'in_doubt')"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=_uuid)
    post_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)  # its place in the post's list
    workspace_id: Mapped[uuid.UUID] = mapped_column(index=True)
    account_id: Mapped[uuid.UUID]
    platform: Mapped[str] = mapped_column(String(16))
    text: Mapped[str | None] = mapped_column(Text)  # None: the post's text
    media_ids: Mapped[list[uuid.UUID] | None] = mapped_column(ARRAY(Uuid))
    options: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    status: Mapped[str] = mapped_column(String(16))
    # When the dispatcher should next look at it: the schedule, a retry, a poll, a lease end.
    # None while it waits for approval.
    due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The platform ids a multi-step publish created so far (containers, uploads, thread).
    progress: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # How many times the dispatcher handed it to the workers: a command whose number is not
    # the latest is stale (its lease ran out and the target was handed on) and is dropped.
    dispatches: Mapped[int] = mapped_column(Integer, default=0)
    platform_post_id: Mapped[str | None] = mapped_column(String(200))
    url: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    error_class: Mapped[str | None] = mapped_column(String(32))
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The first comment (``options.first_comment``) on the published post: ``CommentStatus``
    # or None (none asked), its platform id, what went wrong in words; when the comment runner
    # should look at it next (due, a retry, a claim's lease end); claims so far; the first
    # claim's time (a comment found on the platform must be this recent to be ours).
    comment_status: Mapped[str | None] = mapped_column(String(16))
    comment_id: Mapped[str | None] = mapped_column(String(200))
    comment_error: Mapped[str | None] = mapped_column(Text)
    comment_due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    comment_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    comment_started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The W3C traceparent of the request that last scheduled it: the dispatcher's command
    # continues that trace, so one trace runs from the request to the platform's answer.
    traceparent: Mapped[str | None] = mapped_column(String(55))
    created_at: Mapped[datetime] = _now_column()
    updated_at: Mapped[datetime] = _now_column()

    post: Mapped[Post] = relationship(back_populates="targets", lazy="raise")


class Attempt(Base):
    """One try at publishing a target, with the platform's answer in words."""

    __tablename__ = "attempts"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=_uuid)
    target_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("targets.id", ondelete="CASCADE"), index=True
    )
    workspace_id: Mapped[uuid.UUID]
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    outcome: Mapped[str | None] = mapped_column(String(16))
    platform_status: Mapped[int | None] = mapped_column(Integer)
    platform_code: Mapped[str | None] = mapped_column(String(64))
    message: Mapped[str | None] = mapped_column(Text)
    # The worker process that made it ("host/pid"): whose log to read about it.
    worker: Mapped[str | None] = mapped_column(String(200))
