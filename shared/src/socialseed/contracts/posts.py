from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from socialseed.contracts.base import Event


class PostEvent(Event):
    post_id: uuid.UUID = Field(description="The post")
    workspace_id: uuid.UUID = Field(description="Its workspace")


class PostTargetRef(BaseModel):
    """One account a post goes to (inside post events)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    target_id: uuid.UUID = Field(description="The post's copy for this account")
    account_id: uuid.UUID = Field(description="The connected account")
    platform: str = Field(description="tiktok, instagram, facebook, x, linkedin or youtube")


class PostScheduled(PostEvent):
    """A post was scheduled (created, approved, or rescheduled): it is due at ``scheduled_at``."""

    topic = "post.scheduled"
    key_field = "post_id"

    author_id: uuid.UUID = Field(description="Who wrote it")
    scheduled_at: datetime = Field(description="When it is due (UTC)")
    timezone: str = Field(description="The IANA zone it was scheduled in")
    targets: list[PostTargetRef] = Field(description="The accounts it goes to")


class PostApproved(PostEvent):
    """An admin approved an editor's post."""

    topic = "post.approved"
    key_field = "post_id"

    approved_by: uuid.UUID = Field(description="The approver")
    approved_at: datetime = Field(description="When (UTC)")


class PostRejected(PostEvent):
    """An admin rejected an editor's post, with a reason for the author."""

    topic = "post.rejected"
    key_field = "post_id"

    rejected_by: uuid.UUID = Field(description="Who rejected it")
    reason: str = Field(description="Why, in words, for the author")
    rejected_at: datetime = Field(description="When (UTC)")


class PostCancelled(PostEvent):
    """A post (or what was left of it) will not be published."""

    topic = "post.cancelled"
    key_field = "post_id"

    cancelled_by: uuid.UUID | None = Field(description="Who cancelled it; null for the system")
    reason: str = Field(description="Why, in words")
    cancelled_at: datetime = Field(description="When (UTC)")


class PostPublishRequested(PostEvent):
    """Command to the publisher's workers: publish (or go on publishing) one target now."""

    topic = "post.publish_requested"
    key_field = "account_id"

    target_id: uuid.UUID = Field(description="The post's copy for this account")
    account_id: uuid.UUID = Field(description="The connected account (the key)")
    platform: str = Field(description="The account's platform")
    attempt: int = Field(description="Which dispatch of this target this is (1 = first)")
    requested_at: datetime = Field(description="When the dispatcher claimed it (UTC)")


class PostPublished(PostEvent):
    """One target is live on its platform: analytics-sync starts tracking it from here."""

    topic = "post.published"
    key_field = "account_id"

    target_id: uuid.UUID = Field(description="The post's copy for this account")
    account_id: uuid.UUID = Field(description="The connected account (the key)")
    platform: str = Field(description="The account's platform")
    platform_post_id: str = Field(description="The post's id at the platform")
    url: str | None = Field(description="Its public address, when the platform gives one")
    published_at: datetime = Field(description="When it went live (UTC)")


class PostFailed(PostEvent):
    """One target will not be published (after retries, where retrying made sense)."""

    topic = "post.failed"
    key_field = "account_id"

    target_id: uuid.UUID = Field(description="The post's copy for this account")
    account_id: uuid.UUID = Field(description="The connected account (the key)")
    platform: str = Field(description="The account's platform")
    reason_class: Literal["reauth_required", "bad_request", "permanent", "transient", "media"] = (
        Field(description="Why, as a class a program can act on")
    )
    reason: str = Field(description="Why, in words, for people")
    failed_at: datetime = Field(description="When (UTC)")


class PostInDoubt(PostEvent):
    """One target's publish may have happened without an answer reaching us (a timeout, a
    broken connection, a 5xx): the publisher looks at the platform before trying again, so it
    ends published once or failed, never twice. Sent the first time a target is in doubt."""

    topic = "post.in_doubt"
    key_field = "account_id"

    target_id: uuid.UUID = Field(description="The post's copy for this account")
    account_id: uuid.UUID = Field(description="The connected account (the key)")
    platform: str = Field(description="The account's platform")
    reason: str = Field(description="What went unanswered, in words")
    in_doubt_at: datetime = Field(description="When (UTC)")
