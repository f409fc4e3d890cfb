from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from analytics.models import SyncStatus
from socialseed.platforms import Platform

# A bound for the schema (so clients and fuzzers see one): the service's own cap
# (ANALYTICS_REFRESH_LIMIT_MAX, 10,000 by default) is applied after.
LIMIT_MAX = 1_000_000


class SyncRequestIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    workspace_id: uuid.UUID
    platforms: list[Platform] | None = Field(
        default=None, max_length=6, description="Only these platforms' accounts (default: all)"
    )
    limit: int | None = Field(
        default=None,
        ge=1,
        le=LIMIT_MAX,
        description="At most this many posts, the most recently published (the service caps "
        "it at its own setting)",
    )


class AccountSyncRequestIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    limit: int | None = Field(
        default=None,
        ge=1,
        le=LIMIT_MAX,
        description="At most this many posts (the service caps it at its own setting)",
    )


class SyncAccepted(BaseModel):
    sync_id: uuid.UUID
    total_posts: int
    already_running: bool = Field(
        default=False,
        description="A sync of the last few minutes that covers this refresh is still "
        "running: this is that sync (no new one was made)",
    )


class AccountProblem(BaseModel):
    account_id: uuid.UUID
    platform: str
    username: str
    reason: str = Field(description="The platform's refusal, in words")
    at: datetime


class SyncOut(BaseModel):
    id: uuid.UUID
    workspace_id: uuid.UUID
    account_id: uuid.UUID | None
    status: SyncStatus
    total_posts: int
    synced: int
    failed: int
    rate_limited: int
    by_platform: dict[str, dict[str, int]] = Field(
        description="Per platform: total, synced, failed, rate_limited"
    )
    errors: list[dict[str, Any]] = Field(description="The first per-post errors")
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    resumes_at: datetime | None = Field(
        default=None,
        description="`waiting`: when the spent budget its posts wait for frees (they are "
        "fetched then)",
    )
    waiting_reason: str | None = Field(default=None, description="`waiting`: why, in words")
    problems: list[AccountProblem] = Field(
        default_factory=list,
        description="The accounts of this sync whose fetches a platform refused for good since "
        "it began (a permission not granted, say), each with the platform's words: why a "
        "sync is `partial` or an account has no new numbers",
    )


class Waiting(BaseModel):
    until: datetime = Field(description="When the budget frees and the waiting work is fetched")
    reason: str = Field(description="What waits and for which budget, in words")


class AccountSyncStatus(BaseModel):
    account_id: uuid.UUID
    platform: str
    username: str
    status: str
    last_synced_at: datetime | None = Field(description="When its newest metrics were fetched")
    next_sync_at: datetime | None = Field(
        description="The next planned fetch of its counters or of one of its posts"
    )
    tracked_posts: int
    due_posts: int
    problem: str | None = Field(
        default=None,
        description="Why its fetches are refused for good (a permission not granted, say), "
        "until a fetch works again; null: none",
    )
    problem_at: datetime | None = None
    waiting: Waiting | None = Field(
        default=None,
        description="Work of this account held by a spent rate budget (its own, or its "
        "platform's app-wide one) and until when; null: nothing waits",
    )


class BudgetOut(BaseModel):
    bucket: str
    limit: int | None
    used: int
    used_percent: float | None
    reset_at: datetime | None
    blocked_until: datetime | None


class SyncStatusOut(BaseModel):
    workspace_id: uuid.UUID
    accounts: list[AccountSyncStatus]
    budgets: dict[str, list[BudgetOut]] = Field(
        description="Per platform, the budgets of the workspace's own accounts (e.g. an X "
        "user's window); budgets shared by every workspace (app-wide) are not shown"
    )
