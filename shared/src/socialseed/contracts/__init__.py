"""Event payloads: the public contract of SocialSeed's Kafka topics (CloudEvents 1.0 data)."""

from socialseed.contracts.accounts import (
    AccountConnected,
    AccountDisconnected,
    AccountReauthRequired,
    AccountUpdated,
)
from socialseed.contracts.auth import UserRegistered, WorkspaceMemberChanged
from socialseed.contracts.base import Event

ALL_EVENTS: list[type[Event]] = [
    UserRegistered,
    WorkspaceMemberChanged,
    AccountConnected,
    AccountUpdated,
    AccountReauthRequired,
    AccountDisconnected,
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
    "UserRegistered",
    "WorkspaceMemberChanged",
]
