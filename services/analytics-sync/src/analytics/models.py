"""The analytics schema.

- ``workspaces`` / ``accounts``: projections of auth's and accounts' events (timezone; which
  accounts are tracked, their backfill and sync state, the fetchers' leases).
- ``tracked_posts``: every post whose metrics are followed, published through SocialSeed
  (``source = publisher``, linked to the publisher's ids) or found by the backfill.
- ``post_snapshots`` / ``account_snapshots``: every fetch, one column per standard metric plus
  the platform's raw payload; range-partitioned by ``fetched_at`` into UTC days and kept
  ``raw_retention_days`` (see ``analytics.retention``). The primary key is the item and
  ``fetched_at``: a redelivered batch writes nothing.
- ``post_latest`` / ``account_latest``: the newest values, one row each.
- ``post_daily`` / ``account_daily``: the last values of each UTC day, kept forever.
- ``data_versions``: a counter per workspace bumped by every ingested batch (the read API's
  ETags).
- ``syncs``: one refresh asked for through the API and its progress (the regular fetches,
  which follow ``next_fetch_at`` / ``next_sync_at``, make none); ``budgets`` /
  ``budget_shares``: the platforms' rate budgets (counted here, corrected by the platforms'
  signals) and each workspace's use of the app-wide ones.
- outbox, inbox, member changes.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Double,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from socialseed.budgets.tables import budget_tables
from socialseed.db import NAMING_CONVENTION
from socialseed.membership import member_changes_table
from socialseed.outbox import Outbox, inbox_table, outbox_table
from socialseed.platforms.base import ACCOUNT_METRICS, POST_METRICS

SCHEMA = "analytics"


class Base(DeclarativeBase):
    metadata = MetaData(schema=SCHEMA, naming_convention=NAMING_CONVENTION)


outbox = outbox_table(Base.metadata)
#: The service's events, written in the transaction that makes them true.
OUTBOX = Outbox(outbox, source="/socialseed/analytics")
inbox = inbox_table(Base.metadata)
member_changes = member_changes_table(Base.metadata)
# The platforms' rate budgets as their signals last said, and workspaces' shares of app-wide
# ones (``socialseed.budgets``).
budgets = budget_tables(Base.metadata)

#: Metrics stored as floating point (the rest are counts, bigint).
FLOAT_METRICS = frozenset({"watch_time_s"})


def sql_type(metric: str) -> str:
    """The column type of a metric, as SQL spells it."""
    return "float8" if metric in FLOAT_METRICS else "bigint"


def _uuid() -> uuid.UUID:
    return uuid.uuid4()


def _ts(nullable: bool = True) -> Any:
    return mapped_column(DateTime(timezone=True), nullable=nullable)


def _now_column() -> Mapped[datetime]:
    return mapped_column(DateTime(timezone=True), server_default=func.now())


class AccountStatus(enum.StrEnum):
    """The connected account as accounts last said (``account.*`` events)."""

    ACTIVE = "active"
    REAUTH_REQUIRED = "reauth_required"
    DISCONNECTED = "disconnected"


class PostSource(enum.StrEnum):
    PUBLISHER = "publisher"  # published through SocialSeed (post.published)
    BACKFILL = "backfill"  # found in the platform's own post list


class TrackedPostStatus(enum.StrEnum):
    """``deleted``: the platform says the post is gone (stops syncing, says so in ``gap``);
    ``stopped``: its account is no longer tracked (disconnected). History stays either way."""

    ACTIVE = "active"
    DELETED = "deleted"
    STOPPED = "stopped"


class SyncStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    PARTIAL = "partial"  # finished, some posts failed or were rate limited
    FAILED = "failed"
    # Never stored: how a queued or running sync reads while every post it has left waits
    # for a platform's spent app-wide budget (``resumes_at`` says until when).
    WAITING = "waiting"


class WorkspaceView(Base):
    """A workspace's timezone and name (from ``workspace.updated``): local days and hours are
    read in its zone; reports carry its name (null until its first update since names were
    kept)."""

    __tablename__ = "workspaces"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    timezone: Mapped[str] = mapped_column(String(64))
    name: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class DataVersion(Base):
    """A counter per workspace that every ingested batch naming the workspace bumps: the read
    API's ETags are made of it, so a cached answer changes as soon as new metrics land."""

    __tablename__ = "data_versions"

    workspace_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = _now_column()


class Account(Base):
    """A connected account as analytics tracks it. ``updated_at`` orders the events (an older
    one never wins). ``backfill_requested_at`` later than ``backfilled_at`` (or with it null)
    means its history should be listed; the fetchers claim an account by setting
    ``lease_owner``/``lease_until`` and move ``next_sync_at`` on."""

    __tablename__ = "accounts"
    __table_args__ = (
        Index("ix_accounts_workspace", "workspace_id"),
        # The fetchers' questions: whose counters are due, whose history is not listed yet.
        Index("ix_accounts_due", "platform", "next_sync_at", postgresql_where=text("tracking")),
        Index(
            "ix_accounts_backfill",
            "backfill_requested_at",
            postgresql_where=text(
                "tracking AND backfill_requested_at IS NOT NULL AND "
                "(backfilled_at IS NULL OR backfilled_at < backfill_requested_at)"
            ),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    workspace_id: Mapped[uuid.UUID]
    platform: Mapped[str] = mapped_column(String(16))
    platform_user_id: Mapped[str] = mapped_column(String(200))
    username: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20))
    tracking: Mapped[bool] = mapped_column(Boolean)
    stopped_at: Mapped[datetime | None] = _ts()
    connected_at: Mapped[datetime | None] = _ts()
    backfill_requested_at: Mapped[datetime | None] = _ts()
    backfilled_at: Mapped[datetime | None] = _ts()
    last_synced_at: Mapped[datetime | None] = _ts()
    next_sync_at: Mapped[datetime | None] = _ts()
    lease_owner: Mapped[str | None] = mapped_column(String(200))
    lease_until: Mapped[datetime | None] = _ts()
    # The refresh (``syncs``) its next fetch answers to; cleared by that fetch.
    sync_id: Mapped[uuid.UUID | None]
    # Why its last fetch was refused for good (a permission not granted, ...), in the
    # platform error's words, and when; cleared by a fetch of it that works.
    problem: Mapped[str | None] = mapped_column(Text)
    problem_at: Mapped[datetime | None] = _ts()
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class TrackedPost(Base):
    __tablename__ = "tracked_posts"
    __table_args__ = (
        UniqueConstraint("account_id", "platform_post_id"),
        # The fetchers' questions: what is due, per platform and per account (active only).
        Index(
            "ix_tracked_posts_due_platform",
            "platform",
            "next_fetch_at",
            postgresql_where=text("status = 'active'"),
        ),
        Index(
            "ix_tracked_posts_due_account",
            "account_id",
            "next_fetch_at",
            postgresql_where=text("status = 'active'"),
        ),
        Index("ix_tracked_posts_workspace_published", "workspace_id", "published_at"),
        # The read API: an account's posts by publication (keyset pages), a publisher post.
        Index("ix_tracked_posts_account_published", "account_id", "published_at", "id"),
        Index(
            "ix_tracked_posts_publisher_post",
            "publisher_post_id",
            postgresql_where=text("publisher_post_id IS NOT NULL"),
        ),
        # The posts with a gap (the ingester clears it on their next good fetch).
        Index("ix_tracked_posts_gap", "id", postgresql_where=text("gap IS NOT NULL")),
        Index(
            "ix_tracked_posts_publisher_target",
            "publisher_target_id",
            unique=True,
            postgresql_where=text("publisher_target_id IS NOT NULL"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=_uuid)
    account_id: Mapped[uuid.UUID]
    workspace_id: Mapped[uuid.UUID]
    platform: Mapped[str] = mapped_column(String(16))
    platform_post_id: Mapped[str] = mapped_column(String(200))
    publisher_post_id: Mapped[uuid.UUID | None]
    publisher_target_id: Mapped[uuid.UUID | None]
    published_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    url: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[str | None] = mapped_column(String(32))  # video, image, text... when known
    source: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    # Why the last fetch had no metrics for it (a MetricsGap value), in the platform's words.
    gap: Mapped[str | None] = mapped_column(String(32))
    gap_message: Mapped[str | None] = mapped_column(Text)
    # Kept by the fetchers with ``next_fetch_at`` when they hand a post back (the ingester
    # does not rewrite the row per snapshot: ``post_latest.fetched_at`` is the newest data).
    last_fetched_at: Mapped[datetime | None] = _ts()
    next_fetch_at: Mapped[datetime | None] = _ts()
    lease_owner: Mapped[str | None] = mapped_column(String(200))
    lease_until: Mapped[datetime | None] = _ts()
    # The refresh (``syncs``) its next fetch answers to; cleared by that fetch.
    sync_id: Mapped[uuid.UUID | None]
    created_at: Mapped[datetime] = _now_column()
    updated_at: Mapped[datetime] = _now_column()


def _metric_column(name: str) -> Mapped[Any]:
    return mapped_column(Double if name in FLOAT_METRICS else BigInteger, nullable=True)


# The metric columns are declared from the shared lists so that the tables, the contract and
# the ingester cannot disagree on a name.
def _with_metrics(names: tuple[str, ...]) -> dict[str, Any]:
    return {name: _metric_column(name) for name in names}


class PostSnapshot(Base):
    __tablename__ = "post_snapshots"
    __table_args__ = {"postgresql_partition_by": "RANGE (fetched_at)"}

    tracked_post_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    fetched_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    account_id: Mapped[uuid.UUID]
    locals().update(_with_metrics(POST_METRICS))
    raw: Mapped[dict[str, Any]] = mapped_column(JSONB)


class AccountSnapshot(Base):
    __tablename__ = "account_snapshots"
    __table_args__ = {"postgresql_partition_by": "RANGE (fetched_at)"}

    account_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    fetched_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    locals().update(_with_metrics(ACCOUNT_METRICS))
    raw: Mapped[dict[str, Any]] = mapped_column(JSONB)


class PostLatest(Base):
    __tablename__ = "post_latest"
    __table_args__ = (Index("ix_post_latest_account", "account_id"),)

    tracked_post_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    account_id: Mapped[uuid.UUID]
    workspace_id: Mapped[uuid.UUID]
    fetched_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    locals().update(_with_metrics(POST_METRICS))


class AccountLatest(Base):
    __tablename__ = "account_latest"
    __table_args__ = (Index("ix_account_latest_workspace", "workspace_id"),)

    account_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    workspace_id: Mapped[uuid.UUID]
    fetched_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    locals().update(_with_metrics(ACCOUNT_METRICS))


class PostDaily(Base):
    """The last values of each UTC day a post was fetched on (``fetched_at``: which fetch)."""

    __tablename__ = "post_daily"
    __table_args__ = (Index("ix_post_daily_account_day", "account_id", "day"),)

    tracked_post_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    account_id: Mapped[uuid.UUID]
    workspace_id: Mapped[uuid.UUID]
    fetched_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    locals().update(_with_metrics(POST_METRICS))


class AccountDaily(Base):
    __tablename__ = "account_daily"
    __table_args__ = (Index("ix_account_daily_workspace_day", "workspace_id", "day"),)

    account_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    workspace_id: Mapped[uuid.UUID]
    fetched_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    locals().update(_with_metrics(ACCOUNT_METRICS))


class Sync(Base):
    """One refresh asked for through the API (a workspace, or one account): the posts it made
    due name it (``sync_id``); the ingester adds up ``synced``/``failed`` from the batches
    that name it, the fetchers ``rate_limited``."""

    __tablename__ = "syncs"
    __table_args__ = (Index("ix_syncs_workspace_created", "workspace_id", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=_uuid)
    workspace_id: Mapped[uuid.UUID]
    account_id: Mapped[uuid.UUID | None]
    requested_by: Mapped[uuid.UUID | None]
    platforms: Mapped[list[str] | None] = mapped_column(ARRAY(String(16)))
    post_limit: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    total_posts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    synced: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    failed: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    rate_limited: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # {"x": {"total": .., "synced": .., "failed": .., "rate_limited": ..}, ...}
    by_platform: Mapped[dict[str, Any]] = mapped_column(
        JSONB, default=dict, server_default=text("'{}'")
    )
    # [sync_error(...), ...] (capped)
    errors: Mapped[list[Any]] = mapped_column(JSONB, default=list, server_default=text("'[]'"))
    created_at: Mapped[datetime] = _now_column()
    started_at: Mapped[datetime | None] = _ts()
    finished_at: Mapped[datetime | None] = _ts()
    # The W3C traceparent of the refresh request: the fetches of its posts continue that trace.
    traceparent: Mapped[str | None] = mapped_column(String(55), default=None)


def sync_error(tracked_post_id: uuid.UUID, platform: str, gap: str, message: str) -> dict[str, str]:
    """One entry of ``Sync.errors``: a post the sync could not fetch, and why."""
    return {
        "tracked_post_id": str(tracked_post_id),
        "platform": platform,
        "gap": gap,
        "message": message,
    }
