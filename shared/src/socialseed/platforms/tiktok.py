"""TikTok: Login Kit v2 (``client_key``, comma-separated scopes, rotating refresh tokens) and the
Display API's ``user/info`` for the profile.

TikTok wraps every API answer in ``{"data": ..., "error": {"code", "message", "log_id"}}`` and a
failure may come with HTTP 200 and a non-``ok`` code, so success is decided by ``error.code``.

Publishing is the Content Posting API's direct post: ``creator_info/query`` (the privacy levels,
interaction switches and maximum duration this creator allows right now), ``video/init`` with
the post's settings, the video's bytes (``FILE_UPLOAD``: chunks PUT to ``upload_url``; or
``PULL_FROM_URL`` from a domain verified for our app), then ``status/fetch`` until
``PUBLISH_COMPLETE`` or ``FAILED``. TikTok has no idempotency key: an init whose media arrives is
a post. The ``publish_id`` is therefore returned as progress *before* any byte is sent, and every
later call and any reconciliation asks its status instead of starting again.

Metrics come from the Display API (scope ``video.list``): ``POST /v2/video/list/`` pages the
creator's public videos newest first (``max_count`` up to 20, ``cursor``, ``has_more``),
``POST /v2/video/query/`` reads up to 20 videos by ``filters.video_ids`` (a video deleted, made
private or not this creator's is absent from ``videos``), and ``user/info`` has the account's
counters (scope ``user.info.stats``). TikTok's limits are per minute and no response tells what
is left of them: no rate signals, the caller counts.

=============  ===================================================================
standard       TikTok Display API
=============  ===================================================================
views          ``view_count``
video_views    ``view_count`` (every post is a video)
likes          ``like_count``
comments       ``comment_count``
shares         ``share_count``
impressions    None: not in the Display API
reach          None
saves          None
clicks         None
watch_time_s   None
followers      ``follower_count`` (account)
following      ``following_count`` (account)
posts          ``video_count`` (account; ``likes_count`` stays in ``raw``)
=============  ===================================================================
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx

from socialseed.budgets.rules import RateLimits, Rule, publishing_cap
from socialseed.platforms.base import (
    AccountMetrics,
    ErrorKind,
    ItemFailure,
    ListedPost,
    MetricsBatch,
    MetricsGap,
    Pending,
    Platform,
    PlatformError,
    PlatformMedia,
    PlatformPost,
    PostListing,
    PostMetrics,
    Profile,
    PublishedPost,
    TokenSet,
)
from socialseed.platforms.fetching import batch_of, by_id, gone, newest_first
from socialseed.platforms.oauth2 import OAuth2Provider
from socialseed.platforms.parsing import (
    JSON,
    as_int,
    json_object,
    parse_time,
)
from socialseed.platforms.provider import Call
from socialseed.platforms.publishing import posted_since, same_text

WWW = "https://www.tiktok.com"
API = "https://open.tiktokapis.com"

# user/info fields, by the scope that unlocks them (asking for a field whose scope was not
# granted fails the whole call with scope_not_authorized).
BASIC_FIELDS = ("open_id", "union_id", "avatar_url", "display_name")
SCOPED_FIELDS = {
    "user.info.profile": ("username",),
    "user.info.stats": ("follower_count", "following_count", "likes_count", "video_count"),
}
REAUTH_CODES = {
    "access_token_invalid": "says the access token is no longer valid (expired or revoked)",
    "scope_not_authorized": "says this connection lacks a permission SocialSeed needs",
}
# Publishing caps that free up over a rolling day: worth retrying, but not soon.
DAILY_CAP_CODES = ("spam_risk_too_many_posts", "spam_risk_too_many_pending_share")
DAILY_CAP_RETRY = 3600.0

# FILE_UPLOAD chunks: 5 to 64 MB each, the remainder riding in the last one (up to 128 MB);
# a video under 5 MB goes whole. Ours are 10 MiB, so the last one stays under 20 MiB.
CHUNK = 10 * 1024 * 1024
# Processing takes well under a minute for most videos; moderation of a public post usually
# under a minute, sometimes hours.
PROCESSING_POLL, MODERATION_POLL = 10.0, 30.0
COUNT_FIELDS = ("view_count", "like_count", "comment_count", "share_count")
LIST_FIELDS = ",".join(("id", "create_time", "title", "share_url", *COUNT_FIELDS))
QUERY_FIELDS = ",".join(("id", "create_time", *COUNT_FIELDS))
ACCOUNT_FIELDS = "open_id,follower_count,following_count,likes_count,video_count"
#: A safety stop for a listing: 500 pages of 20 videos.
MAX_LIST_PAGES = 500
# Switches the creator may turn on in post_info (each defaults to off).
POST_SWITCHES = (
    "disable_comment",
    "disable_duet",
    "disable_stitch",
    "brand_content_toggle",
    "brand_organic_toggle",
    "is_aigc",
)
# creator_info flags that force a switch on: the creator turned the interaction off in the app.
CREATOR_LOCKS = {
    "comment_disabled": "disable_comment",
    "duet_disabled": "disable_duet",
    "stitch_disabled": "disable_stitch",
}
# status/fetch fail_reason: who can fix it, in words for users.
FAIL_REASONS: dict[str, tuple[ErrorKind, str]] = {
    "file_format_check_failed": (
        ErrorKind.BAD_REQUEST,
        "the video's format is not supported (MP4, MOV or WebM with H.264)",
    ),
    "duration_check_failed": (
        ErrorKind.BAD_REQUEST,
        "the video is shorter or longer than this creator may post",
    ),
    "frame_rate_check_failed": (
        ErrorKind.BAD_REQUEST,
        "the video's frame rate is not supported (23 to 60 fps)",
    ),
    "picture_size_check_failed": (
        ErrorKind.BAD_REQUEST,
        "the video's dimensions are not supported (360 to 4096 pixels a side)",
    ),
    "video_pull_failed": (ErrorKind.TRANSIENT, "TikTok could not download the video"),
    "internal": (ErrorKind.TRANSIENT, "TikTok failed to process the video"),
    "publish_cancelled": (ErrorKind.PERMANENT, "the post was cancelled in TikTok"),
    "auth_removed": (
        ErrorKind.REAUTH_REQUIRED,
        "says the creator removed SocialSeed's access during the upload",
    ),
    "spam_risk_too_many_posts": (
        ErrorKind.RATE_LIMITED,
        "the creator reached TikTok's daily post limit",
    ),
    "spam_risk_user_banned_from_posting": (
        ErrorKind.PERMANENT,
        "the creator is banned from posting",
    ),
    "spam_risk_text": (ErrorKind.PERMANENT, "TikTok flagged the caption as spam"),
    "spam_risk": (ErrorKind.PERMANENT, "TikTok flagged the post as spam"),
}


def chunking(size: int) -> tuple[int, int]:
    """(chunk_size, total_chunk_count) for a FILE_UPLOAD of ``size`` bytes."""
    if size <= CHUNK:
        return size, 1
    return CHUNK, size // CHUNK


def chunk_range(offset: int, size: int, chunk: int) -> tuple[int, int]:
    """(first, last) byte of the chunk starting at ``offset``; the last chunk takes the rest."""
    last_start = chunk * (size // chunk - 1) if size > chunk else 0
    end = size if offset >= last_start else offset + chunk
    return offset, end - 1


def resume_offset(progress: Mapping[str, Any], status: JSON) -> int | None:
    """Where a FILE_UPLOAD that is missing bytes resumes (TikTok's ``uploaded_bytes``); None
    when nothing is missing."""
    uploaded = as_int(status.get("uploaded_bytes")) or 0
    if status.get("status") == "PROCESSING_UPLOAD" and uploaded < int(
        progress.get("video_size") or 0
    ):
        return uploaded
    return None


def listed_video(video: Any) -> ListedPost | None:
    if not isinstance(video, dict) or not video.get("id"):
        return None
    published = parse_time(video.get("create_time"))  # epoch seconds
    if published is None:
        return None
    return ListedPost(str(video["id"]), published, video.get("share_url"), video.get("title"))


def is_video_id(ident: str) -> bool:
    """A TikTok video's public id is a number; a ``publish_id`` (``v_pub_file~v2-1.…``) is
    what a private post is known by instead."""
    return ident.isdigit()


def video_metrics(video: JSON) -> PostMetrics:
    views = as_int(video.get("view_count"))
    return PostMetrics(
        post_id=str(video["id"]),
        views=views,
        video_views=views,
        likes=as_int(video.get("like_count")),
        comments=as_int(video.get("comment_count")),
        shares=as_int(video.get("share_count")),
        raw=video,
    )


def envelope_error(body: JSON) -> JSON:
    error = body.get("error")
    return error if isinstance(error, dict) else {}


class TikTokProvider(OAuth2Provider):
    platform = Platform.TIKTOK
    name = "TikTok"
    rotating_refresh = True
    default_scopes = (
        "user.info.basic",
        "user.info.profile",
        "user.info.stats",
        "video.list",
        "video.publish",
        "video.upload",
    )
    # Its limits are per minute (sliding) and its 429 names no reset time.
    default_retry_after = 60.0
    rate_limits = RateLimits(
        # 600 requests per minute per client (sliding); 15 posts a day per creator.
        reads=(
            Rule(bucket="tiktok:client", limit=600, every=timedelta(minutes=1), window="sliding"),
        ),
        publishes=(publishing_cap("tiktok", 15, timedelta(hours=24)),),
    )
    authorize_endpoint = (WWW, "/v2/auth/authorize/")
    token_endpoint = (API, "/v2/oauth/token/")
    revoke_endpoint = (API, "/v2/oauth/revoke/")
    scope_separator = ","
    client_id_param = "client_key"
    # PKCE is only for TikTok's mobile and desktop SDKs; a web app authenticates with its secret.
    pkce = False

    def token_set(
        self,
        body: JSON,
        *,
        previous: TokenSet | None = None,
        platform_user_id: str | None = None,
    ) -> TokenSet:
        # The token response names the user (open_id).
        open_id = body.get("open_id")
        user_id = platform_user_id or (str(open_id) if open_id else None)
        return super().token_set(body, previous=previous, platform_user_id=user_id)

    def classify(self, response: httpx.Response, call: Call) -> PlatformError | None:
        if call is not Call.API:
            return super().classify(response, call)
        body = json_object(response) or {}
        if response.is_success and envelope_error(body).get("code", "ok") == "ok":
            return None
        return self.api_error(response, body)

    def api_error(self, response: httpx.Response, body: JSON) -> PlatformError:
        error = envelope_error(body)
        code = str(error.get("code") or "") or None
        message = str(error.get("message") or "") or None
        if code in REAUTH_CODES:
            return self.fail(
                ErrorKind.REAUTH_REQUIRED, response, detail=REAUTH_CODES[code], code=code
            )
        if code == "rate_limit_exceeded":
            return self.rate_limited(response, None, code=code)
        if code in DAILY_CAP_CODES:
            return self.rate_limited(response, DAILY_CAP_RETRY, detail=message, code=code)
        if code == "reached_active_user_cap":
            return self.fail(ErrorKind.PERMANENT, response, detail=message, code=code)
        if code == "internal_error":
            return self.fail(ErrorKind.TRANSIENT, response, code=code)
        if response.is_success:  # HTTP 200 carrying a non-ok code
            return self.fail(ErrorKind.BAD_REQUEST, response, detail=message, code=code)
        return self.by_status(response, message, code)

    async def profile(self, tokens: TokenSet) -> Profile:
        fields = list(BASIC_FIELDS)
        for scope, scoped in SCOPED_FIELDS.items():
            # Unknown scopes (not stored): ask for everything and let TikTok say what is missing.
            if not tokens.scopes or scope in tokens.scopes:
                fields += scoped
        body = await self.send_json(
            Call.API,
            "GET",
            self.url((API, "/v2/user/info/")),
            params={"fields": ",".join(fields)},
            headers=self.bearer(tokens),
        )
        user = body.get("data", {}).get("user", {})
        display_name = str(user.get("display_name") or "")
        return Profile(
            platform_user_id=str(user.get("open_id") or tokens.platform_user_id or ""),
            username=str(user.get("username") or display_name),
            display_name=display_name,
            avatar_url=user.get("avatar_url"),
            followers=as_int(user.get("follower_count")),
            following=as_int(user.get("following_count")),
            post_count=as_int(user.get("video_count")),
        )

    # metrics ------------------------------------------------------------------------------
    metrics_batch_size = 20
    #: Videos per video/list page (TikTok takes at most 20).
    list_page_size = 20

    async def list_posts(self, tokens: TokenSet, since: datetime) -> PostListing:
        """video/list from the newest video back, page by page, until a page reaches back
        before ``since`` or TikTok has no more."""
        body: JSON = {"max_count": self.list_page_size}
        listed: list[ListedPost] = []
        calls = 0
        for _ in range(MAX_LIST_PAGES):
            page = await self.api_post(tokens, "/v2/video/list/", body, fields=LIST_FIELDS)
            calls += 1
            found = [video for video in map(listed_video, page.get("videos") or []) if video]
            listed += found
            if not page.get("has_more") or any(v.published_at < since for v in found):
                break
            body = {**body, "cursor": page.get("cursor")}
        return PostListing(newest_first(listed, since), calls)

    def metrics_cost(self, ids: Sequence[str], platform_user_id: str | None = None) -> int:
        """``video/query`` calls for the videos with a public id (20 a call); none for the
        others (see ``fetch_post_metrics``)."""
        public = sum(1 for i in ids if is_video_id(i))
        return -(-public // self.metrics_batch_size)

    async def fetch_post_metrics(self, tokens: TokenSet, ids: Sequence[str]) -> MetricsBatch:
        """``video/query`` for the videos with a public id. A post published privately
        (``SELF_ONLY``) has none, only its ``publish_id``: TikTok holds it, but its numbers
        cannot be read through the API, which is what its failure says (never ``deleted``);
        no call is made for it."""
        batch = batch_of(ids, self.metrics_batch_size)
        private = [
            ItemFailure(
                i,
                MetricsGap.UNAVAILABLE,
                "TikTok gives a private (only me) video no public id, so its numbers cannot "
                "be read through TikTok's API; TikTok still has the video",
            )
            for i in batch
            if not is_video_id(i)
        ]
        wanted = [i for i in batch if is_video_id(i)]
        if not wanted:
            return MetricsBatch((), tuple(private), calls=0)
        page = await self.api_post(
            tokens, "/v2/video/query/", {"filters": {"video_ids": wanted}}, fields=QUERY_FIELDS
        )
        videos = by_id(page.get("videos"))
        metrics = tuple(video_metrics(videos[i]) for i in wanted if i in videos)
        failures = gone(
            wanted,
            videos,
            "TikTok no longer lists this video (deleted, made private or not this account's)",
        )
        return MetricsBatch(metrics, tuple(private + failures))

    async def fetch_account_metrics(self, tokens: TokenSet) -> AccountMetrics:
        body = await self.send_json(
            Call.API,
            "GET",
            self.url((API, "/v2/user/info/")),
            params={"fields": ACCOUNT_FIELDS},
            headers=self.bearer(tokens),
        )
        user = (body.get("data") or {}).get("user") or {}
        return AccountMetrics(
            followers=as_int(user.get("follower_count")),
            following=as_int(user.get("following_count")),
            posts=as_int(user.get("video_count")),
            raw=user,
        )

    # publishing ---------------------------------------------------------------------------
    async def api_post(
        self, tokens: TokenSet, path: str, body: JSON, *, fields: str | None = None
    ) -> JSON:
        """A Display or Content Posting API call's ``data`` (the Display API's reads name
        the ``fields`` they return in the query)."""
        answer = await self.send_json(
            Call.API,
            "POST",
            self.url((API, path)),
            params={"fields": fields} if fields else None,
            json=body,
            headers=self.bearer(tokens),
        )
        data = answer.get("data")
        return data if isinstance(data, dict) else {}

    async def publish(
        self, tokens: TokenSet, post: PlatformPost, progress: Mapping[str, Any] | None = None
    ) -> PublishedPost | Pending:
        if not progress or not progress.get("publish_id"):
            return await self.init_post(tokens, post)
        status = await self.post_status(tokens, progress)
        uploaded = resume_offset(progress, status)
        if uploaded is not None:  # resume where TikTok stopped
            await self.upload(self.single_video(post), progress, uploaded)
            return Pending(progress, PROCESSING_POLL, status="PROCESSING_UPLOAD")
        if status.get("status") == "FAILED":
            raise self.post_failed(str(status.get("fail_reason") or ""))
        return self.outcome(progress, status)

    async def find_published_post(
        self,
        tokens: TokenSet,
        post: PlatformPost,
        since: datetime,
        progress: Mapping[str, Any] | None = None,
    ) -> PublishedPost | Pending | None:
        if not progress or not progress.get("publish_id"):
            return await self.find_recent(tokens, post, since)
        status = await self.post_status(tokens, progress)
        if status.get("status") == "FAILED":
            return None
        if resume_offset(progress, status) is not None:
            return None  # the video is not all there: no post until publish sends the rest
        return self.outcome(progress, status)

    async def init_post(self, tokens: TokenSet, post: PlatformPost) -> Pending:
        """creator_info, then init: the publish_id comes back before any byte is sent."""
        video = self.single_video(post)
        creator = await self.api_post(tokens, "/v2/post/publish/creator_info/query/", {})
        post_info = self.post_info(post, creator, video)
        pull = self.pullable(video.url)
        if pull:
            source: JSON = {"source": "PULL_FROM_URL", "video_url": video.url}
        else:
            chunk, count = chunking(video.size)
            source = {
                "source": "FILE_UPLOAD",
                "video_size": video.size,
                "chunk_size": chunk,
                "total_chunk_count": count,
            }
        data = await self.api_post(
            tokens, "/v2/post/publish/video/init/", {"post_info": post_info, "source_info": source}
        )
        progress: dict[str, Any] = {
            "publish_id": str(data["publish_id"]),
            "privacy_level": post_info["privacy_level"],
            "username": str(creator.get("creator_username") or ""),
        }
        if pull:
            return Pending(progress, PROCESSING_POLL, status="PROCESSING_DOWNLOAD")
        progress.update(
            upload_url=str(data["upload_url"]),
            video_size=video.size,
            chunk_size=source["chunk_size"],
        )
        return Pending(progress, 0.0, status="PROCESSING_UPLOAD")

    def post_info(self, post: PlatformPost, creator: JSON, video: PlatformMedia) -> JSON:
        """The post's settings, checked against what the creator allows right now."""
        options = post.options
        allowed = [str(level) for level in creator.get("privacy_level_options") or []]
        privacy = options.get("privacy_level") or (allowed[0] if len(allowed) == 1 else None)
        if privacy not in allowed:
            raise self.fail(
                ErrorKind.BAD_REQUEST,
                None,
                detail="choose who can see the video (privacy_level): this creator allows "
                + ", ".join(allowed),
                code="privacy_level_option_mismatch",
            )
        longest = as_int(creator.get("max_video_post_duration_sec"))
        if longest and video.duration_s and video.duration_s > longest:
            raise self.fail(
                ErrorKind.BAD_REQUEST,
                None,
                detail=f"this creator can post videos of up to {longest} s; this one lasts "
                f"{round(video.duration_s)} s",
                code="duration_check_failed",
            )
        info: JSON = {"title": post.text, "privacy_level": privacy}
        info |= {switch: bool(options.get(switch)) for switch in POST_SWITCHES}
        for flag, switch in CREATOR_LOCKS.items():
            info[switch] = info[switch] or bool(creator.get(flag))
        cover = as_int(options.get("video_cover_timestamp_ms"))
        if cover is not None:
            info["video_cover_timestamp_ms"] = cover
        return info

    def pullable(self, url: str) -> bool:
        host = urlsplit(url).hostname or ""
        return any(
            host == domain or host.endswith("." + domain)
            for domain in self.config.tiktok_verified_domains
        )

    async def upload(self, video: PlatformMedia, progress: Mapping[str, Any], offset: int) -> None:
        """PUT the chunks from ``offset`` (what TikTok already has) in order; the last one
        completes the upload, and TikTok makes the post from it."""
        size, chunk = int(progress["video_size"]), int(progress["chunk_size"])
        while offset < size:
            first, last = chunk_range(offset, size, chunk)
            data = await video.read(first, last - first + 1)
            await self.send(
                Call.API,
                "PUT",
                str(progress["upload_url"]),
                content=data,
                headers={
                    "Content-Type": video.mime_type,
                    "Content-Range": f"bytes {first}-{last}/{size}",
                },
            )
            offset = last + 1

    async def post_status(self, tokens: TokenSet, progress: Mapping[str, Any]) -> JSON:
        return await self.api_post(
            tokens, "/v2/post/publish/status/fetch/", {"publish_id": progress["publish_id"]}
        )

    def outcome(self, progress: Mapping[str, Any], status: JSON) -> PublishedPost | Pending:
        """PUBLISH_COMPLETE with the public id is the post; before that, still pending."""
        state = str(status.get("status") or "")
        if state != "PUBLISH_COMPLETE":
            return Pending(progress, PROCESSING_POLL, status=state)
        # (sic) TikTok's field name. Private (SELF_ONLY) posts never get a public id.
        ids = status.get("publicaly_available_post_id") or []
        if ids:
            post_id = str(ids[0])
            username = progress.get("username")
            url = f"https://www.tiktok.com/@{username}/video/{post_id}" if username else None
            return PublishedPost(post_id, url)
        if progress.get("privacy_level") == "SELF_ONLY":
            return PublishedPost(str(progress["publish_id"]))
        return Pending(progress, MODERATION_POLL, status="PUBLISH_COMPLETE")  # in moderation

    def post_failed(self, reason: str) -> PlatformError:
        kind, words = FAIL_REASONS.get(
            reason, (ErrorKind.PERMANENT, f"TikTok could not publish the video ({reason})")
        )
        if kind is ErrorKind.RATE_LIMITED:
            return self.fail(kind, None, detail=words, code=reason, retry_after=DAILY_CAP_RETRY)
        return self.fail(kind, None, detail=words, code=reason or "failed")

    async def find_recent(
        self, tokens: TokenSet, post: PlatformPost, since: datetime
    ) -> PublishedPost | None:
        """Without a publish_id: the creator's newest public videos, by caption and time.
        Only a PULL_FROM_URL init whose answer was lost can have made one (an upload sends no
        byte before its publish_id is saved). Private and still-moderated videos are not
        listed, and without ``video.list`` nothing can be (None rather than a reconnect)."""
        if tokens.scopes and "video.list" not in tokens.scopes:
            return None
        body = await self.send_json(
            Call.API,
            "POST",
            self.url((API, "/v2/video/list/")),
            params={"fields": "id,title,create_time,share_url"},
            json={"max_count": 20},
            headers=self.bearer(tokens),
        )
        for video in (body.get("data") or {}).get("videos") or []:
            if same_text(post.text, video.get("title")) and posted_since(
                video.get("create_time"), since
            ):
                return PublishedPost(
                    str(video["id"]), video.get("share_url"), parse_time(video.get("create_time"))
                )
        return None
