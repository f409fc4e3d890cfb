"""The webhook event types, and how each is made from SocialSeed's Kafka events.

A webhook's body is ``{"type", "timestamp", "data"}``: ``data`` is the event's payload as its
contract in ``socialseed.contracts`` defines it (ids, platform, state, public URL, reason in
words; those contracts carry no tokens or secrets), ``timestamp`` when it happened.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any, Literal

from socialseed.contracts import (
    AccountConnected,
    AccountDisconnected,
    AccountReauthRequired,
    AccountTokenExpiring,
    Event,
    PostApproved,
    PostCancelled,
    PostFailed,
    PostInDoubt,
    PostPublished,
    PostRejected,
    PostScheduled,
    SyncCompleted,
)

#: Webhook type -> (the Kafka event it comes from, the field that says when it happened).
SOURCES: dict[str, tuple[type[Event], str]] = {
    "post.scheduled": (PostScheduled, "scheduled_at"),
    "post.approved": (PostApproved, "approved_at"),
    "post.rejected": (PostRejected, "rejected_at"),
    # A post is deleted (DELETE /api/v1/posts/{id}) by cancelling it: its targets will not
    # be published. A draft, which nobody was ever told of, is deleted without an event.
    "post.deleted": (PostCancelled, "cancelled_at"),
    "post.published": (PostPublished, "published_at"),
    "post.failed": (PostFailed, "failed_at"),
    "post.in_doubt": (PostInDoubt, "in_doubt_at"),
    "account.connected": (AccountConnected, "connected_at"),
    "account.reauth_required": (AccountReauthRequired, "at"),
    "account.disconnected": (AccountDisconnected, "at"),
    "account.token_expiring": (AccountTokenExpiring, "at"),
    "sync.completed": (SyncCompleted, "finished_at"),
}
#: Made by this service: an endpoint turned off after its last attempt failed.
ENDPOINT_DISABLED = "endpoint.disabled"
#: Sent only by ``POST /api/v1/webhooks/{id}/test``, whatever the subscription.
TEST = "webhook.test"

EventType = Literal[
    "post.scheduled",
    "post.approved",
    "post.rejected",
    "post.deleted",
    "post.published",
    "post.failed",
    "post.in_doubt",
    "account.connected",
    "account.reauth_required",
    "account.disconnected",
    "account.token_expiring",
    "sync.completed",
    "endpoint.disabled",
]
SUBSCRIBABLE: tuple[str, ...] = EventType.__args__  # type: ignore[attr-defined]
assert set(SUBSCRIBABLE) == {*SOURCES, ENDPOINT_DISABLED}


def body(type_: str, timestamp: datetime, data: dict[str, Any]) -> str:
    """The JSON body every attempt of a delivery sends, byte for byte."""
    return json.dumps(
        {"type": type_, "timestamp": timestamp.isoformat(), "data": data},
        separators=(",", ":"),
        default=str,
    )


def from_event(type_: str, event: Event) -> str:
    _, when = SOURCES[type_]
    return body(type_, getattr(event, when), event.model_dump(mode="json"))


def webhook_id(source_id: uuid.UUID, endpoint_id: uuid.UUID) -> str:
    """The ``webhook-id`` of one event sent to one endpoint: the same on every attempt and on
    a redelivery, so receivers deduplicate on it; derived, so a replayed event gets it too."""
    return "msg_" + uuid.uuid5(endpoint_id, str(source_id)).hex
