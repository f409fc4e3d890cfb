"""Request and response bodies of the webhook endpoints' API."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from webhooks.events import EventType
from webhooks.models import Delivery, Endpoint

Url = Field(min_length=1, max_length=2048, description="Where to POST the events (https)")


class EndpointIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    workspace_id: uuid.UUID = Field(description="The workspace whose events are sent")
    url: str = Url
    events: list[EventType] = Field(
        min_length=1, max_length=20, description="The event types to send"
    )
    description: str = Field(default="", max_length=500, description="For people")
    enabled: StrictBool = Field(default=True, description="False: nothing is sent")


class EndpointPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(default=None, min_length=1, max_length=2048, description="New URL")
    events: list[EventType] | None = Field(
        default=None, min_length=1, max_length=20, description="New event types"
    )
    description: str | None = Field(default=None, max_length=500, description="New words")
    enabled: StrictBool | None = Field(
        default=None, description="Turn sending on (clears a disabled reason) or off"
    )


class EndpointOut(BaseModel):
    id: uuid.UUID = Field(description="The endpoint")
    workspace_id: uuid.UUID = Field(description="Its workspace")
    url: str = Field(description="Where events are sent")
    events: list[str] = Field(description="The event types sent")
    description: str = Field(description="For people")
    enabled: bool = Field(description="Whether events are sent")
    disabled_reason: str | None = Field(
        description="Why SocialSeed turned it off (every attempt of a delivery failed)"
    )
    created_at: datetime = Field(description="When it was registered")
    updated_at: datetime = Field(description="When it last changed")

    @classmethod
    def of(cls, e: Endpoint) -> EndpointOut:
        return cls(
            id=e.id,
            workspace_id=e.workspace_id,
            url=e.url,
            events=list(e.events),
            description=e.description,
            enabled=e.enabled,
            disabled_reason=e.disabled_reason,
            created_at=e.created_at,
            updated_at=e.updated_at,
        )


class EndpointWithSecret(EndpointOut):
    secret: str = Field(
        description="The signing secret (whsec_…, Standard Webhooks). Shown this once: store it"
    )


class EndpointList(BaseModel):
    items: list[EndpointOut] = Field(description="The workspace's endpoints, oldest first")


class DeliveryOut(BaseModel):
    id: uuid.UUID = Field(description="The delivery")
    webhook_id: str = Field(description="The webhook-id header: the same on every attempt")
    event_type: str = Field(description="The event's type")
    status: str = Field(description="pending, succeeded or failed")
    attempt: int = Field(description="Attempts made so far")
    response_code: int | None = Field(description="The receiver's last HTTP status")
    response_body: str | None = Field(description="The start of its last answer")
    duration_ms: int | None = Field(description="How long the last attempt took")
    error: str | None = Field(description="Why the last attempt failed, in words")
    next_attempt_at: datetime | None = Field(description="When the next attempt is due")
    created_at: datetime = Field(description="When the event was queued")
    last_attempt_at: datetime | None = Field(description="When it was last attempted")

    @classmethod
    def of(cls, d: Delivery) -> DeliveryOut:
        return cls(
            id=d.id,
            webhook_id=d.webhook_id,
            event_type=d.event_type,
            status=d.status,
            attempt=d.attempt,
            response_code=d.response_code,
            response_body=d.response_body,
            duration_ms=d.duration_ms,
            error=d.error,
            next_attempt_at=d.next_attempt_at,
            created_at=d.created_at,
            last_attempt_at=d.last_attempt_at,
        )


class DeliveryPage(BaseModel):
    items: list[DeliveryOut] = Field(description="Newest first")
    next_cursor: str | None = Field(description="The next page's cursor; null at the end")
