"""Event payloads: the public contract of SocialSeed's Kafka topics (CloudEvents 1.0 data)."""

from socialseed.contracts.auth import UserRegistered, WorkspaceMemberChanged
from socialseed.contracts.base import Event

ALL_EVENTS: list[type[Event]] = [UserRegistered, WorkspaceMemberChanged]
TOPICS: list[str] = sorted({e.topic for e in ALL_EVENTS})

__all__ = ["ALL_EVENTS", "TOPICS", "Event", "UserRegistered", "WorkspaceMemberChanged"]
