"""Event payloads: the public contract of SocialSeed's Kafka topics (CloudEvents 1.0 data)."""

from socialseed.contracts.accounts import (
    AccountConnected,
    AccountDisconnected,
    AccountReauthRequired,
    AccountTokenExpiring,
    AccountUpdated,
)
from socialseed.contracts.auth import UserRegistered, WorkspaceMemberChanged, WorkspaceUpdated
from socialseed.contracts.base import Event
from socialseed.contracts.metrics import (
    FetchedAccountMetrics,
    FetchedPostFailure,
    FetchedPostMetrics,
    MetricsFetched,
    SyncCompleted,
)
from socialseed.contracts.posts import (
    PostApproved,
    PostCancelled,
    PostFailed,
    PostInDoubt,
    PostPublished,
    PostPublishRequested,
    PostRejected,
    PostScheduled,
    PostTargetRef,
)

ALL_EVENTS: list[type[Event]] = [
    UserRegistered,
    WorkspaceMemberChanged,
    WorkspaceUpdated,
    AccountConnected,
    AccountUpdated,
    AccountReauthRequired,
    AccountDisconnected,
    AccountTokenExpiring,
    PostScheduled,
    PostApproved,
    PostRejected,
    PostCancelled,
    PostPublishRequested,
    PostPublished,
    PostFailed,
    PostInDoubt,
    MetricsFetched,
    SyncCompleted,
]
TOPICS: list[str] = sorted({e.topic for e in ALL_EVENTS})

__all__ = [
    "ALL_EVENTS",
    "TOPICS",
    "AccountConnected",
    "AccountDisconnected",
    "AccountReauthRequired",
    "AccountTokenExpiring",
    "AccountUpdated",
    "Event",
    "FetchedAccountMetrics",
    "FetchedPostFailure",
    "FetchedPostMetrics",
    "MetricsFetched",
    "PostApproved",
    "PostCancelled",
    "PostFailed",
    "PostInDoubt",
    "PostPublishRequested",
    "PostPublished",
    "PostRejected",
    "PostScheduled",
    "PostTargetRef",
    "SyncCompleted",
    "UserRegistered",
    "WorkspaceMemberChanged",
    "WorkspaceUpdated",
]
