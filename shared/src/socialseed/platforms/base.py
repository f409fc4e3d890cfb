"""What every platform provider offers, the data it returns, and how its errors are classified.

One module per platform implements :class:`Provider` over httpx. Base URLs follow the sandbox's
path rule: with ``sandbox_url`` set, the real URL ``https://<host>/<path>`` of platform ``p`` is
served at ``<sandbox_url>/<p>/<path>``, so the same code talks to the sandbox or, with
``sandbox_url`` unset, to the real hosts.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
from pydantic import BaseModel, Field, SecretStr


class Platform(enum.StrEnum):
    TIKTOK = "tiktok"
    INSTAGRAM = "instagram"
    FACEBOOK = "facebook"
    X = "x"
    LINKEDIN = "linkedin"
    YOUTUBE = "youtube"


class ErrorKind(enum.StrEnum):
    RATE_LIMITED = "rate_limited"  # retry after `retry_after` seconds
    REAUTH_REQUIRED = "reauth_required"  # the grant is gone: the user must connect again
    BAD_REQUEST = "bad_request"  # our request is wrong for this platform; do not retry as is
    TRANSIENT = "transient"  # 5xx, timeouts, connection drops: retry with backoff
    PERMANENT = "permanent"  # the platform refuses for good (duplicate, policy, cap reached)


class PlatformError(Exception):
    """A classified platform failure. ``message`` is for users; details never hold tokens."""

    def __init__(
        self,
        kind: ErrorKind,
        message: str,
        *,
        platform: Platform,
        status: int | None = None,
        code: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.platform = platform
        self.status = status
        self.code = code
        self.retry_after = retry_after

    def __repr__(self) -> str:
        return (
            f"PlatformError({self.platform}, {self.kind}, status={self.status}, "
            f"code={self.code!r}, retry_after={self.retry_after})"
        )


@dataclass(frozen=True)
class TokenSet:
    """Tokens as the platform issued them. ``None`` expiry means it does not expire."""

    access_token: str
    expires_at: datetime | None
    refresh_token: str | None = None
    refresh_expires_at: datetime | None = None
    scopes: tuple[str, ...] = ()
    # Some platforms name the user in the token response (TikTok open_id).
    platform_user_id: str | None = None

    def __repr__(self) -> str:  # never print a token, even in a traceback
        return (
            f"TokenSet(expires_at={self.expires_at}, has_refresh={self.refresh_token is not None})"
        )


@dataclass(frozen=True)
class Profile:
    platform_user_id: str
    username: str
    display_name: str
    avatar_url: str | None = None
    followers: int | None = None
    following: int | None = None
    post_count: int | None = None


@dataclass(frozen=True)
class Connection:
    """One account a completed consent yields (Facebook: one per page, with its page token)."""

    profile: Profile
    tokens: TokenSet


@dataclass(frozen=True)
class Authorization:
    url: str
    code_verifier: str | None = field(default=None, repr=False)


class MediaKind(enum.StrEnum):
    IMAGE = "image"
    VIDEO = "video"


#: ``read(offset, length)``: that byte range of a stored media file (shorter at the end).
ReadRange = Callable[[int, int], Awaitable[bytes]]


@dataclass(frozen=True)
class PlatformMedia:
    """One media file of a post, as the publisher stored and probed it.

    Platforms that pull media (Instagram ``image_url``/``video_url``, TikTok ``PULL_FROM_URL``,
    Facebook ``url``) are given ``url``, a signed and expiring address the publisher serves;
    platforms that take bytes read them in chunks with ``read`` (never the whole file at once).
    """

    id: str
    kind: MediaKind
    mime_type: str
    size: int
    url: str
    read: ReadRange = field(repr=False, compare=False)
    width: int | None = None
    height: int | None = None
    duration_s: float | None = None
    #: Describes an image for people who cannot see it; sent where the platform takes it
    #: (X media metadata, LinkedIn ``altText``, Instagram image ``alt_text``).
    alt_text: str | None = None


@dataclass(frozen=True)
class PlatformPost:
    """What we ask a platform to publish, already validated against its rules.

    ``marker`` is our id for this publish (the target's id): providers use it where the
    platform has a place for an idempotency key or a client reference, never in visible
    text. ``options`` are the platform's validated options (YouTube ``title``, TikTok
    ``privacy_level``, X ``thread``: reply texts posted under the first one, ...).
    """

    text: str
    marker: str
    media: tuple[PlatformMedia, ...] = ()
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PublishedPost:
    id: str
    url: str | None = None
    published_at: datetime | None = None


@dataclass(frozen=True)
class Pending:
    """The platform is still working on the post (a container or upload being processed, a
    thread half posted): store ``progress`` and call ``publish`` again with it after
    ``poll_after`` seconds. Never wait inside a worker for a platform to finish."""

    progress: Mapping[str, Any]  # JSON-serialisable: the platform ids created so far
    poll_after: float
    status: str = ""  # the platform's own word for the state, shown to users


#: The standard metric names, in the order analytics stores them. A platform without such a
#: number reports ``None`` (never 0: "not measured" is not "nobody watched").
POST_METRICS = (
    "views",
    "impressions",
    "reach",
    "likes",
    "comments",
    "shares",
    "saves",
    "clicks",
    "video_views",
    "watch_time_s",
)
ACCOUNT_METRICS = ("followers", "following", "posts", "views", "impressions", "reach")


@dataclass(frozen=True)
class RateSignal:
    """What one platform response said about the budget the call was counted against, read
    from the platform's own signals: X ``x-rate-limit-*`` headers, Meta ``X-App-Usage`` /
    ``X-Business-Use-Case-Usage`` percentages. Platforms without such headers (TikTok,
    LinkedIn, YouTube) give none; their budgets are counted by the caller.

    ``bucket`` names the budget as the platform scopes it, e.g. ``"x:GET /2/tweets:user:<id>"``,
    ``"meta:app"`` or ``"meta:buc:<page-or-ig-id>"``."""

    bucket: str
    limit: int | None = None
    remaining: int | None = None
    reset_at: datetime | None = None
    #: Meta: the highest of ``call_count``, ``total_cputime``, ``total_time`` (0-100).
    used_percent: float | None = None
    #: Meta: ``estimated_time_to_regain_access`` (given in minutes), in seconds.
    regain_after_s: float | None = None


@dataclass(frozen=True)
class PostMetrics:
    """One post's metrics in the standard model (see ``POST_METRICS``); ``None`` where the
    platform has no such number. ``raw`` is the platform's own payload for this post, kept as
    it came (JSON-serialisable)."""

    post_id: str
    views: int | None = None
    impressions: int | None = None
    reach: int | None = None
    likes: int | None = None
    comments: int | None = None
    shares: int | None = None
    saves: int | None = None
    clicks: int | None = None
    video_views: int | None = None
    watch_time_s: float | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False)


class MetricsGap(enum.StrEnum):
    """Why one post of a batch has no metrics this time (the rest of the batch is fine)."""

    DELETED = "deleted"  # the post is gone (or no longer this account's): stop syncing it
    NOT_ENOUGH_VIEWERS = "not_enough_viewers"  # Instagram: too few viewers to show insights
    OUT_OF_WINDOW = "out_of_window"  # the platform no longer reports this post's metrics
    UNAVAILABLE = "unavailable"  # any other per-item refusal, in the platform's words


@dataclass(frozen=True)
class ItemFailure:
    post_id: str
    gap: MetricsGap
    message: str  # the platform's own words, for users (never a token)


@dataclass(frozen=True)
class MetricsBatch:
    """The answer to one ``fetch_post_metrics``: one entry per id asked, either in ``metrics``
    or in ``failures``. ``calls`` is how many HTTP requests it took (a Graph batch request is
    one request but Meta counts each item: see ``Provider.metrics_cost``)."""

    metrics: tuple[PostMetrics, ...]
    failures: tuple[ItemFailure, ...] = ()
    calls: int = 1
    signals: tuple[RateSignal, ...] = ()


@dataclass(frozen=True)
class AccountMetrics:
    """Account-level counters (see ``ACCOUNT_METRICS``); ``None`` where the platform has no
    such number. ``raw`` is the platform's payload."""

    followers: int | None = None
    following: int | None = None
    posts: int | None = None
    views: int | None = None
    impressions: int | None = None
    reach: int | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False)
    calls: int = 1
    signals: tuple[RateSignal, ...] = ()


@dataclass(frozen=True)
class ListedPost:
    """A post the account published (through SocialSeed or anywhere else), as the platform's
    own post list has it."""

    id: str
    published_at: datetime
    url: str | None = None
    text: str | None = None  # caption, title or text, as the platform gives it


@dataclass(frozen=True)
class PostListing:
    posts: tuple[ListedPost, ...]
    calls: int = 1
    signals: tuple[RateSignal, ...] = ()


class PlatformCredentials(BaseModel):
    client_id: str = "socialseed-local"
    client_secret: SecretStr = SecretStr("socialseed-local-secret")
    scopes: list[str] | None = Field(default=None, description="Override the default scopes")


class PlatformsConfig(BaseModel):
    """Where the platforms are and our app's credentials at each (nested in service settings,
    e.g. ``ACCOUNTS_PLATFORMS__X__CLIENT_SECRET``)."""

    sandbox_url: str | None = Field(
        default="http://127.0.0.1:8900",
        description="Talk to the local sandbox; unset (empty) to talk to the real platforms",
    )
    timeout: float = 20.0
    tiktok_verified_domains: list[str] = Field(
        default=[],
        description="Domains verified in TikTok's developer portal: media served from them is "
        "pulled by TikTok (PULL_FROM_URL); any other media is uploaded in chunks (FILE_UPLOAD)",
    )
    # A refresh whose answer never came (timeout, connection dropped) is sent again, up to
    # this many times in all, waiting refresh_retry_wait, then twice as long, between tries.
    refresh_attempts: int = Field(default=3, ge=1)
    refresh_retry_wait: float = Field(default=0.5, ge=0)
    tiktok: PlatformCredentials = PlatformCredentials()
    instagram: PlatformCredentials = PlatformCredentials()
    facebook: PlatformCredentials = PlatformCredentials()
    x: PlatformCredentials = PlatformCredentials()
    linkedin: PlatformCredentials = PlatformCredentials()
    youtube: PlatformCredentials = PlatformCredentials()

    @property
    def refresh_budget(self) -> float:
        """The longest one refresh can take, its retries included (seconds)."""
        attempts = self.refresh_attempts
        waits = sum(self.refresh_retry_wait * 2**i for i in range(attempts - 1))
        return attempts * self.timeout + waits

    def credentials(self, platform: Platform) -> PlatformCredentials:
        creds: PlatformCredentials = getattr(self, platform.value)
        return creds

    def url(self, platform: Platform, real_base: str, path: str) -> str:
        """``real_base`` like ``https://api.x.com``; ``path`` like ``/2/oauth2/token``."""
        if self.sandbox_url:
            return f"{self.sandbox_url.rstrip('/')}/{platform.value}{path}"
        return f"{real_base.rstrip('/')}{path}"


def transport_error(platform: Platform, exc: httpx.TransportError) -> PlatformError:
    return PlatformError(
        ErrorKind.TRANSIENT,
        f"{platform.value} could not be reached ({type(exc).__name__}); retrying later.",
        platform=platform,
    )
