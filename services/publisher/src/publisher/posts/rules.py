"""Each platform's rules for a post, checked before anything is stored.

``check(platform, draft)`` answers every broken rule of one target in words (none: it can be
published) and its options as stored. Text is counted as the platform counts it (X: weighted
length, URLs as 23, by twitter-text's own rules); options are validated by one schema per
platform.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    TypeAdapter,
    ValidationError,
)

from socialseed.platforms import Platform
from socialseed.platforms.base import MediaKind

with warnings.catch_warnings():  # twitter-text still imports pkg_resources
    warnings.simplefilter("ignore")
    from twitter_text import parse_tweet

MB = 1024 * 1024
INT32_MAX = 2**31 - 1  # TikTok's integer fields are int32
YOUTUBE_TAGS_MAX = 500


@dataclass(frozen=True)
class MediaFacts:
    """What the rules need to know of one stored media file."""

    kind: MediaKind
    mime_type: str
    size: int
    width: int | None = None
    height: int | None = None
    duration_s: float | None = None


@dataclass(frozen=True)
class TargetDraft:
    """One target as it would be published: its text, media and platform options."""

    text: str
    media: Sequence[MediaFacts] = ()
    options: dict[str, Any] = field(default_factory=dict)


class _Options(BaseModel):
    """One platform's options. ``platform`` names the platform they are for: it tells one
    schema from another (the OpenAPI document's discriminator) and must be the account's."""

    model_config = ConfigDict(extra="forbid", frozen=True)


PLATFORM_DOC = "The platform these options are for: the target account's platform"


def _not_blank(text: str) -> str:
    if not text.strip():
        raise ValueError("a first comment needs more than white space")
    return text


#: A first comment: a platform refuses one that is only white space.
FirstComment = Annotated[str, AfterValidator(_not_blank)]


class XOptions(_Options):
    platform: Literal["x"] = Field(description=PLATFORM_DOC)
    reply_settings: Literal["following", "mentionedUsers", "subscribers", "verified"] | None = None
    thread: list[str] = Field(
        default_factory=list, max_length=24, description="Replies posted under the first post"
    )


class TikTokOptions(_Options):
    platform: Literal["tiktok"] = Field(description=PLATFORM_DOC)
    privacy_level: Literal[
        "PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "FOLLOWER_OF_CREATOR", "SELF_ONLY"
    ]
    disable_comment: StrictBool = False
    disable_duet: StrictBool = False
    disable_stitch: StrictBool = False
    brand_content_toggle: StrictBool = False
    brand_organic_toggle: StrictBool = False
    video_cover_timestamp_ms: int | None = Field(
        default=None, ge=0, le=INT32_MAX, description="The cover frame; within the video"
    )


class InstagramOptions(_Options):
    platform: Literal["instagram"] = Field(description=PLATFORM_DOC)
    media_type: Literal["FEED", "REELS", "STORIES", "CAROUSEL"] | None = None
    first_comment: FirstComment | None = Field(
        default=None,
        min_length=1,
        max_length=2200,
        description="A comment posted as the account on its own post once it is published "
        "(Instagram takes up to 2,200 characters); not on stories",
    )


class FacebookOptions(_Options):
    platform: Literal["facebook"] = Field(description=PLATFORM_DOC)
    link: str | None = Field(default=None, max_length=2048, pattern=r"^https?://")
    first_comment: FirstComment | None = Field(
        default=None,
        min_length=1,
        max_length=8000,
        description="A comment posted as the account on its own post once it is published "
        "(Facebook takes up to 8,000 characters)",
    )


class LinkedInOptions(_Options):
    platform: Literal["linkedin"] = Field(description=PLATFORM_DOC)
    visibility: Literal["PUBLIC", "CONNECTIONS", "LOGGED_IN"] = "PUBLIC"
    first_comment: FirstComment | None = Field(
        default=None,
        min_length=1,
        max_length=1250,
        description="A comment posted as the account on its own post once it is published "
        "(LinkedIn takes up to 1,250 characters)",
    )


class YouTubeOptions(_Options):
    platform: Literal["youtube"] = Field(description=PLATFORM_DOC)
    title: str = Field(min_length=1, max_length=100)
    privacy_status: Literal["public", "unlisted", "private"] = "public"
    category_id: str = Field(default="22", pattern=r"^[0-9]{1,3}$")
    made_for_kids: StrictBool = False
    tags: list[str] = Field(
        default_factory=list,
        max_length=500,
        description="Keywords: 500 characters in all as YouTube counts them",
    )
    first_comment: FirstComment | None = Field(
        default=None,
        min_length=1,
        max_length=10000,
        description="A comment posted as the account on its own post once it is published "
        "(YouTube takes up to 10,000 characters)",
    )


OPTIONS: dict[Platform, type[_Options]] = {
    Platform.X: XOptions,
    Platform.TIKTOK: TikTokOptions,
    Platform.INSTAGRAM: InstagramOptions,
    Platform.FACEBOOK: FacebookOptions,
    Platform.LINKEDIN: LinkedInOptions,
    Platform.YOUTUBE: YouTubeOptions,
}


def x_length(text: str) -> int:
    """X's weighted length: most scripts count 1, CJK and emoji 2, every URL 23."""
    return int(parse_tweet(text).weightedLength)


def youtube_tags_length(tags: Sequence[str]) -> int:
    """Tags as YouTube counts them against its 500: a comma between two tags counts, and a
    tag with a space counts as if it were quoted ("Foo Baz" is 9, Foo-Baz 7)."""
    quoted = sum(len(t) + 2 if " " in t else len(t) for t in tags)
    return quoted + max(len(tags) - 1, 0)


def utf16_length(text: str) -> int:
    """Meta, TikTok and LinkedIn count UTF-16 code units (an emoji is 2)."""
    return len(text.encode("utf-16-le")) // 2


def _images(draft: TargetDraft) -> list[MediaFacts]:
    return [m for m in draft.media if m.kind is MediaKind.IMAGE]


def _videos(draft: TargetDraft) -> list[MediaFacts]:
    return [m for m in draft.media if m.kind is MediaKind.VIDEO]


def _images_or_one_video(
    draft: TargetDraft, post: str, max_images: int, images_word: str
) -> list[str]:
    """The rule X, Facebook and LinkedIn share: images (up to ``max_images``) or one video."""
    images, videos = _images(draft), _videos(draft)
    problems = []
    if videos and (images or len(videos) > 1):
        problems.append(f"{post} takes either {images_word} or one video, not both.")
    if len(images) > max_images:
        problems.append(f"{post} takes at most {max_images} {images_word}.")
    return problems


def _mb(size: int) -> str:
    return f"{size / MB:.1f} MB"


def _check_x(draft: TargetDraft, options: XOptions) -> list[str]:
    problems = []
    for i, text in enumerate([draft.text, *options.thread]):
        length = x_length(text)
        where = "The post" if i == 0 else f"Reply {i} of the thread"
        if length > 280:
            problems.append(f"{where} is {length} characters as X counts them; X allows 280.")
        if i > 0 and not text.strip():
            problems.append(f"{where} is empty.")
    problems += _images_or_one_video(draft, "An X post", 4, "images")
    images, videos = _images(draft), _videos(draft)
    for m in images:
        if m.mime_type not in ("image/jpeg", "image/png", "image/gif", "image/webp"):
            problems.append(f"X does not take {m.mime_type} images.")
        if m.size > 5 * MB:
            problems.append(f"X takes images up to 5 MB; one is {_mb(m.size)}.")
    for m in videos:
        if m.duration_s is not None and m.duration_s > 140:
            problems.append(f"X takes videos up to 140 s; this one is {m.duration_s:.0f} s.")
        if m.size > 512 * MB:
            problems.append(f"X takes videos up to 512 MB; this one is {_mb(m.size)}.")
    if not draft.text.strip() and not draft.media:
        problems.append("An X post needs text or media.")
    return problems


def _check_tiktok(draft: TargetDraft, options: TikTokOptions) -> list[str]:
    problems = []
    if utf16_length(draft.text) > 2200:
        problems.append("TikTok captions are at most 2,200 characters.")
    videos = _videos(draft)
    if len(videos) != 1 or len(draft.media) != 1:
        problems.append("A TikTok post is exactly one video.")
    for m in videos:
        if m.duration_s is not None and m.duration_s < 3:
            problems.append("TikTok videos are at least 3 seconds long.")
        if m.mime_type not in ("video/mp4", "video/quicktime", "video/webm"):
            problems.append(f"TikTok does not take {m.mime_type} videos.")
    if options.brand_content_toggle and options.privacy_level == "SELF_ONLY":
        problems.append("Branded content cannot be private on TikTok.")
    cover = options.video_cover_timestamp_ms
    for m in videos:
        if cover is not None and m.duration_s is not None and cover > m.duration_s * 1000:
            problems.append(
                f"The cover frame (video_cover_timestamp_ms {cover}) is after the end of the "
                f"video ({m.duration_s * 1000:.0f} ms)."
            )
    return problems


def _aspect(m: MediaFacts) -> float | None:
    return m.width / m.height if m.width and m.height else None


def _check_instagram(draft: TargetDraft, options: InstagramOptions) -> list[str]:
    problems = []
    if utf16_length(draft.text) > 2200:
        problems.append("Instagram captions are at most 2,200 characters.")
    if draft.text.count("#") > 30:
        problems.append("Instagram allows at most 30 hashtags in a caption.")
    images, videos = _images(draft), _videos(draft)
    kind = options.media_type or ("CAROUSEL" if len(draft.media) > 1 else "FEED")
    if not draft.media:
        problems.append("An Instagram post needs an image or a video.")
    if kind == "CAROUSEL" and not 2 <= len(draft.media) <= 10:
        problems.append(
            f"An Instagram carousel has 2 to 10 items; this one has {len(draft.media)}."
        )
    if kind != "CAROUSEL" and len(draft.media) > 1:
        problems.append(f"An Instagram {kind.lower()} post has one item; use CAROUSEL for more.")
    if kind == "REELS" and (len(videos) != 1 or images):
        problems.append("An Instagram reel is exactly one video.")
    if kind == "STORIES" and options.first_comment:
        problems.append("Instagram stories take no comments: remove the first comment.")
    for m in images:
        if m.mime_type != "image/jpeg":
            problems.append(f"Instagram takes only JPEG images, not {m.mime_type}.")
        if m.size > 8 * MB:
            problems.append(f"Instagram takes images up to 8 MB; one is {_mb(m.size)}.")
        ratio = _aspect(m)
        if kind in ("FEED", "CAROUSEL") and ratio is not None and not 0.8 <= ratio <= 1.91:
            problems.append(
                f"Instagram feed images are between 4:5 and 1.91:1; one is {m.width}x{m.height}."
            )
    for m in videos:
        if m.duration_s is not None and not 3 <= m.duration_s <= 15 * 60:
            problems.append("Instagram videos are 3 seconds to 15 minutes long.")
    return problems


def _check_facebook(draft: TargetDraft, options: FacebookOptions) -> list[str]:
    problems = []
    if utf16_length(draft.text) > 63206:
        problems.append("Facebook posts are at most 63,206 characters.")
    problems += _images_or_one_video(draft, "A Facebook Page post", 10, "photos")
    if options.link and draft.media:
        problems.append("A Facebook link post cannot carry media too.")
    if not draft.text.strip() and not draft.media and not options.link:
        problems.append("A Facebook post needs text, a link or media.")
    return problems


def _check_linkedin(draft: TargetDraft, options: LinkedInOptions) -> list[str]:
    problems = []
    if utf16_length(draft.text) > 3000:
        problems.append("LinkedIn posts are at most 3,000 characters.")
    # at most one image: multi-image posts are not supported by our adapter yet
    problems += _images_or_one_video(draft, "A LinkedIn post", 1, "images")
    videos = _videos(draft)
    for m in videos:
        if m.duration_s is not None and not 3 <= m.duration_s <= 30 * 60:
            problems.append("LinkedIn videos are 3 seconds to 30 minutes long.")
    if not draft.text.strip() and not draft.media:
        problems.append("A LinkedIn post needs text or media.")
    return problems


def _check_youtube(draft: TargetDraft, options: YouTubeOptions) -> list[str]:
    problems = []
    if len(draft.text.encode()) > 5000:
        problems.append("YouTube descriptions are at most 5,000 bytes.")
    if "<" in options.title or ">" in options.title:
        problems.append("YouTube titles cannot contain < or >.")
    if "<" in draft.text or ">" in draft.text:
        problems.append("YouTube descriptions cannot contain < or >.")
    if len(_videos(draft)) != 1 or len(draft.media) != 1:
        problems.append("A YouTube post is exactly one video.")
    length = youtube_tags_length(options.tags)
    if length > YOUTUBE_TAGS_MAX:
        problems.append(
            f"YouTube tags are {length} characters as YouTube counts them (commas between tags, "
            f"quotes around a tag with a space); YouTube allows {YOUTUBE_TAGS_MAX}."
        )
    if any(not t.strip() or "<" in t or ">" in t or "," in t for t in options.tags):
        problems.append("YouTube tags are not empty and contain no <, > or comma.")
    return problems


CHECKS: dict[Platform, Callable[[TargetDraft, Any], list[str]]] = {
    Platform.X: _check_x,
    Platform.TIKTOK: _check_tiktok,
    Platform.INSTAGRAM: _check_instagram,
    Platform.FACEBOOK: _check_facebook,
    Platform.LINKEDIN: _check_linkedin,
    Platform.YOUTUBE: _check_youtube,
}


@dataclass(frozen=True)
class Verdict:
    """The options as the platform's schema reads them (defaults filled in, what is stored)
    and every rule the draft breaks, in words (empty: it can be published)."""

    options: dict[str, Any]
    problems: list[str]


TargetOptions = Annotated[
    XOptions
    | TikTokOptions
    | InstagramOptions
    | FacebookOptions
    | LinkedInOptions
    | YouTubeOptions,
    Field(discriminator="platform"),
]
"""Any platform's options, told apart by their ``platform`` (the OpenAPI document's
discriminated ``oneOf``)."""

_TYPED: TypeAdapter[_Options] = TypeAdapter(TargetOptions)


def options_platform(options: dict[str, Any]) -> object:
    """The platform the options say they are for; ``None`` when they do not say (untyped
    options, as older clients send them, are read as the account's platform's)."""
    return options.get("platform")


def typed(platform: Platform, stored: dict[str, Any]) -> _Options:
    """Stored options (checked when written, stored without their ``platform``) as their
    platform's model, for the API's answers."""
    data = {**stored, "platform": platform.value}
    try:
        return _TYPED.validate_python(data)
    except ValidationError:
        # Stored before a rule tightened (or written by hand): answered as it is, never a 500 on
        # a read; publishing it still goes through the platform's checks.
        return OPTIONS[platform].model_construct(**data)


def check(platform: Platform, draft: TargetDraft) -> Verdict:
    """``draft.options`` with or without ``platform``; a ``platform`` that is not this one's is
    the caller's to refuse first (``OptionsPlatformMismatch``): here it is overwritten."""
    try:
        options = OPTIONS[platform].model_validate({**draft.options, "platform": platform.value})
    except ValidationError as exc:
        problems = [
            f"Option {'.'.join(str(p) for p in e['loc']) or 'options'}: {e['msg']}."
            for e in exc.errors(include_input=False)
        ]
        return Verdict({}, problems)
    stored = options.model_dump(exclude_none=True, exclude={"platform"})
    return Verdict(stored, CHECKS[platform](draft, options))
