from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal, cast

from pydantic import BaseModel, ConfigDict, Field, PlainValidator, StrictBool

from publisher.models import Post, Target
from publisher.posts.rules import TargetOptions, typed
from socialseed.inputs import RANGE_TEXT, Instant
from socialseed.platforms import Platform

TEXT_MAX = 63206  # the most any platform takes (Facebook); each platform's own rule is checked


def _an_object(value: object) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValueError("options is an object")
    return value


# Read as a plain object and checked target by target (``rules.check``), so that every target's
# problems come back together in one ``InvalidTargets`` (the composer shows each next to its
# account) rather than as one 422 for the whole body; documented as the per-platform schemas.
OptionsIn = Annotated[
    dict[str, Any], PlainValidator(_an_object, json_schema_input_type=TargetOptions)
]


class TargetIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    account_id: uuid.UUID
    text: str | None = Field(
        default=None, max_length=TEXT_MAX, description="This account's text (default: the post's)"
    )
    media_ids: list[uuid.UUID] | None = Field(
        default=None, max_length=20, description="This account's media (default: the post's)"
    )
    options: OptionsIn = Field(
        default_factory=dict,
        description="The account's platform options, one schema per platform told apart by "
        "`platform`, which must be the account's platform (else the target is refused with "
        "`OptionsPlatformMismatch`). Options without `platform` (as clients written before it "
        "existed send them) are read as the account's platform's. Absent: the platform's "
        "defaults (TikTok needs `privacy_level`, YouTube a `title`). Each option is checked "
        "with the target, so a wrong one is that target's `PlatformRules` problem.",
    )


class PostIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    workspace_id: uuid.UUID
    text: str = Field(default="", max_length=TEXT_MAX)
    media_ids: list[uuid.UUID] = Field(default_factory=list, max_length=20)
    targets: list[TargetIn] = Field(min_length=1, max_length=50)
    scheduled_at: Instant | None = Field(
        default=None,
        description="With an offset: that instant. Without: wall time in `timezone`. "
        f"Absent or null: publish now. From {RANGE_TEXT} (else 400 InstantOutOfRange).",
    )
    timezone: str | None = Field(
        default=None, max_length=64, description="IANA zone (default: the workspace's)"
    )
    draft: StrictBool = Field(
        default=False,
        description="Save as a draft: never published, `scheduled_at` optional and not checked "
        "against now (a draft may have no time). Schedule it later with PATCH "
        '`{"draft": false}`.',
    )


class PostPatch(BaseModel):
    """What an edit may change; absent fields stay as they are."""

    model_config = ConfigDict(extra="forbid")

    text: str | None = Field(default=None, max_length=TEXT_MAX)
    media_ids: list[uuid.UUID] | None = Field(default=None, max_length=20)
    targets: list[TargetIn] | None = Field(default=None, min_length=1, max_length=50)
    scheduled_at: Instant | None = Field(
        default=None,
        description="With an offset: that instant. Without: wall time in `timezone`. "
        "Absent: unchanged (if only `timezone` changes, the post keeps its wall time: 09:00 in "
        "the old zone becomes 09:00 in the new one). null: publish now, as on create. "
        f"From {RANGE_TEXT} (else 400 InstantOutOfRange).",
    )
    timezone: str | None = Field(
        default=None,
        max_length=64,
        description="IANA zone. Changed alone, the wall time stays and the instant moves; a "
        "wall time the new zone skips is refused (NonexistentLocalTime), one it repeats is "
        "the earlier instant.",
    )
    draft: StrictBool | None = Field(
        default=None,
        description="On a draft: false schedules it (at `scheduled_at`; absent: the draft's "
        "time, or now if it has none; null: now), and the workspace's approval rule applies "
        "then; absent or true keeps it a draft (`scheduled_at` null then clears its time). "
        "true on a post that is not a draft: 409 AlreadySubmitted.",
    )


class RejectIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=2000)


class TargetOut(BaseModel):
    id: uuid.UUID
    account_id: uuid.UUID
    platform: str
    status: str
    text: str
    media_ids: list[uuid.UUID]
    options: TargetOptions
    platform_post_id: str | None
    url: str | None
    error: str | None
    attempts: int
    retry_at: datetime | None = Field(description="When a waiting target is tried again")
    published_at: datetime | None
    comment_status: Literal["pending", "posting", "posted", "failed", "in_doubt"] | None = Field(
        description="The first comment's state (null: the target asks for none): pending "
        "(posted once the post is published), posting, posted, failed (comment_error says "
        "why), in_doubt (its answer was lost: the platform is checked before trying again)"
    )
    comment_id: str | None = Field(description="The first comment's id on the platform")
    comment_error: str | None = Field(description="What went wrong with the first comment")


class PostOut(BaseModel):
    id: uuid.UUID
    workspace_id: uuid.UUID
    status: str
    text: str
    media_ids: list[uuid.UUID]
    scheduled_at: datetime | None = Field(description="null: a draft saved without a time")
    timezone: str
    author_id: uuid.UUID
    approval: str = Field(description="not_required, pending, approved or rejected")
    rejection_reason: str | None
    created_at: datetime
    targets: list[TargetOut]


class PostPage(BaseModel):
    items: list[PostOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null: done")


CHIP_TEXT = 100  # characters of a post's text the calendar shows


class CalendarEntry(BaseModel):
    """What the calendar draws of a post (a chip): no targets, no media, the text cut short."""

    id: uuid.UUID
    status: str
    scheduled_at: datetime
    timezone: str
    text: str = Field(description=f"The first {CHIP_TEXT} characters of the post's text")
    platforms: list[str] = Field(description="Its accounts' platforms, each once, sorted")


class CalendarPage(BaseModel):
    items: list[CalendarEntry]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null: done")


class ValidationOut(BaseModel):
    """``POST /posts/validate``: what creating this post would say, nothing stored."""

    valid: bool
    scheduled_at: datetime
    targets: list[dict[str, str]] = Field(description="[{account_id, error, detail}] refused")


def target_out(target: Target, post: Post) -> TargetOut:
    return TargetOut(
        id=target.id,
        account_id=target.account_id,
        platform=target.platform,
        status=target.status,
        text=target.text if target.text is not None else post.text,
        media_ids=target.media_ids if target.media_ids is not None else post.media_ids,
        options=typed(Platform(target.platform), target.options),
        platform_post_id=target.platform_post_id,
        url=target.url,
        error=target.error,
        attempts=target.attempts,
        retry_at=target.due_at if target.status == "waiting" else None,
        published_at=target.published_at,
        comment_status=cast(Any, _comment_status(target)),
        comment_id=target.comment_id,
        comment_error=target.comment_error,
    )


def _comment_status(target: Target) -> str | None:
    """The column once the post is published; before, ``pending`` for a target that asks for
    a first comment and may still be published (null for one that failed or was cancelled)."""
    if target.comment_status is not None:
        return target.comment_status
    if target.options.get("first_comment") and target.status not in ("failed", "cancelled"):
        return "pending"
    return None


def post_out(post: Post, status: str) -> PostOut:
    return PostOut(
        id=post.id,
        workspace_id=post.workspace_id,
        status=status,
        text=post.text,
        media_ids=post.media_ids,
        scheduled_at=post.scheduled_at if post.has_time else None,
        timezone=post.timezone,
        author_id=post.author_id,
        approval=post.approval,
        rejection_reason=post.rejection_reason,
        created_at=post.created_at,
        targets=[target_out(t, post) for t in post.targets],
    )
