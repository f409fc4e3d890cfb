"""Event payloads: the public contract of SocialSeed's Kafka topics (CloudEvents 1.0 data)."""

from socialseed.contracts.accounts import (
    AccountConnected,
    AccountDisconnected,
    AccountReauthRequired,
    AccountUpdated,
)
from socialseed.contracts.auth import UserRegistered, WorkspaceMemberChanged, WorkspaceUpdated
from socialseed.contracts.base import Event
from socialseed.contracts.metrics import (
    FetchedAccountMetrics,
    FetchedPostFailure,
    FetchedPostMetrics,
    MetricsFetched,
)
from socialseed.contracts.posts import (
    PostApproved,
    PostCancelled,
    PostFailed,
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
    PostScheduled,
    PostApproved,
    PostRejected,
    PostCancelled,
    PostPublishRequested,
    PostPublished,
    PostFailed,
    MetricsFetched,
]
TOPICS: list[str] = sorted({e.topic for e in ALL_EVENTS})

__all__ = [
    "ALL_EVENTS",
    "TOPICS",
    "AccountConnected",
    "AccountDisconnected",
    "AccountReauthRequired",
    "AccountUpdated",
    "Event",
    "FetchedAccountMetrics",
    "FetchedPostFailure",
    "FetchedPostMetrics",
    "MetricsFetched",
    "PostApproved",
    "PostCancelled",
    "PostFailed",
    "PostPublishRequested",
    "PostPublished",
    "PostRejected",
    "PostScheduled",
    "PostTargetRef",
    "UserRegistered",
    "WorkspaceMemberChanged",
    "WorkspaceUpdated",
]
