"""YouTube through Google OAuth: offline access with forced consent (so Google sends a refresh
token every time), PKCE, a refresh token that does not rotate, and ``channels.list?mine=true``
for the profile. YouTube sends its counts as strings.

Quota: 10,000 units a day reset at midnight Pacific (403 ``quotaExceeded``); short bursts answer
429 ``rateLimitExceeded``. Neither carries a header saying when to retry.

Publishing is a resumable upload: ``POST /upload/youtube/v3/videos?uploadType=resumable`` with the
video's metadata opens a session (its URI in ``Location``, valid about a week), the bytes go in
``PUT``s of 256 KiB multiples answered ``308 Resume Incomplete`` with the ``Range`` received, and
the last one creates the video, the only visible step. The session URI is progress: asked with
``Content-Range: bytes */<size>``, it says how much it has, or answers the video once complete,
so an interrupted upload resumes where YouTube stopped and a lost last answer is not a lost
video. The video is then processed (``status.uploadStatus`` ``uploaded`` -> ``processed``, or
``failed``/``rejected``).

Metrics come from the Data API, one quota unit per call whatever the parts: the channel's
videos from its uploads playlist (``channels.list?mine=true&part=contentDetails``, then
``playlistItems.list`` pages of 50; ``search.list`` would cost 100 units a page), a video's
counts from ``videos.list?part=statistics&id=`` (50 ids a call; a deleted video, or one that is
not there for this channel, is simply absent from ``items``), the channel's from
``channels.list?mine=true&part=statistics``. No response says anything about the quota left:
the caller counts the units (no rate signals).

=============  ===================================================================
standard       YouTube Data API
=============  ===================================================================
views          ``statistics.viewCount``
video_views    ``statistics.viewCount`` (every post is a video)
likes          ``statistics.likeCount`` (None when the owner hides it)
comments       ``statistics.commentCount`` (None when comments are off)
impressions    None: only YouTube Studio shows thumbnail impressions
reach          None
shares         None: only the Analytics API reports shares
saves          None: ``favoriteCount`` is deprecated and always 0
clicks         None
watch_time_s   None: only the Analytics API reports watch time
followers      ``statistics.subscriberCount`` (None when ``hiddenSubscriberCount``)
following      None: a channel follows no one in the Data API
posts          ``statistics.videoCount``
views          ``statistics.viewCount`` (account: the channel's total)
=============  ===================================================================
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import httpx

from socialseed.budgets.rules import RateLimits, Rule, publishing_cap
from socialseed.platforms.base import (
    AccountMetrics,
    ErrorKind,
    ListedPost,
    MetricsBatch,
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
    seconds_until_midnight,
)
from socialseed.platforms.provider import Call
from socialseed.platforms.publishing import posted_since, same_text

ACCOUNTS = "https://accounts.google.com"
OAUTH = "https://oauth2.googleapis.com"
API = "https://www.googleapis.com"
SCOPES = "https://www.googleapis.com/auth/"
QUOTA_REASONS = frozenset({"quotaExceeded", "dailyLimitExceeded"})
BURST_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded"})
# The channel's own daily upload allowance (400), apart from the project's unit quota.
UPLOAD_CAP_REASONS = frozenset({"uploadLimitExceeded"})
PACIFIC = "America/Los_Angeles"
RESUME_INCOMPLETE = 308
# Comment threads are read newest first; a first comment is among the newest ones.
MAX_COMMENT_PAGES = 10
# A session URI YouTube no longer knows (404) or that expired (410): start a new one.
SESSION_GONE = frozenset({404, 410})
TITLE_MAX = 100
# Processing of a short video takes seconds to minutes.
PROCESSING_POLL = 15.0
# How many of the channel's newest uploads a lookup reads.
RECENT_UPLOADS = 25
# status.failureReason / rejectionReason, in words.
FAILURES = {
    "codec": "uses a codec YouTube does not support",
    "conversion": "could not be converted by YouTube",
    "emptyFile": "is empty",
    "invalidFile": "is not a video file YouTube can read",
    "tooSmall": "is too small",
    "uploadAborted": "upload was aborted",
}
REJECTIONS = {
    "duplicate": "duplicates a video already on this channel",
    "length": "is longer than this channel may upload (verify the channel for longer videos)",
    "copyright": "was rejected for copyright infringement",
    "claim": "was rejected after a rights claim",
    "inappropriate": "was rejected as inappropriate",
    "legal": "was rejected for legal reasons",
    "termsOfUse": "was rejected for breaking YouTube's terms of use",
    "trademark": "was rejected for trademark infringement",
    "uploaderAccountClosed": "was rejected: the channel's account is closed",
    "uploaderAccountSuspended": "was rejected: the channel's account is suspended",
}


def title_of(post: PlatformPost) -> str:
    """``options.title``, else the text's first line, cut to YouTube's 100 characters."""
    title = str(post.options.get("title") or "").strip()
    if not title:
        lines = post.text.strip().splitlines()
        title = lines[0] if lines else ""
    return title[:TITLE_MAX]


def video_resource(post: PlatformPost) -> JSON:
    options = post.options
    snippet: JSON = {
        "title": title_of(post),
        "description": post.text,
        "categoryId": str(options.get("category_id") or "22"),  # 22: People & Blogs
    }
    if options.get("tags"):
        snippet["tags"] = [str(tag) for tag in options["tags"]]
    return {
        "snippet": snippet,
        "status": {
            "privacyStatus": str(options.get("privacy_status") or "public"),
            "selfDeclaredMadeForKids": bool(options.get("made_for_kids")),
        },
    }


def received(response: httpx.Response) -> int:
    """The next byte YouTube wants, from a 308's ``Range: bytes=0-<last>`` (absent: none)."""
    last = response.headers.get("range", "").rpartition("-")[2]
    return int(last) + 1 if last.isdigit() else 0


def watch_url(video_id: str) -> str:
    return f"https://www.youtube.com/watch?v={video_id}"


def subscribers(stats: JSON) -> int | None:
    """A channel may hide its subscriber count: then YouTube has no number to give."""
    return None if stats.get("hiddenSubscriberCount") else as_int(stats.get("subscriberCount"))


def listed_upload(item: Any) -> ListedPost | None:
    """A playlist item as a post: its video's id and publish time (the item's own
    ``publishedAt`` is when it joined the playlist)."""
    if not isinstance(item, dict):
        return None
    snippet = item.get("snippet") or {}
    details = item.get("contentDetails") or {}
    video_id = details.get("videoId") or (snippet.get("resourceId") or {}).get("videoId")
    published = parse_time(details.get("videoPublishedAt") or snippet.get("publishedAt"))
    if not video_id or published is None:
        return None
    return ListedPost(str(video_id), published, watch_url(str(video_id)), snippet.get("title"))


def video_metrics(video: JSON) -> PostMetrics:
    stats = video.get("statistics") or {}
    views = as_int(stats.get("viewCount"))
    return PostMetrics(
        post_id=str(video["id"]),
        views=views,
        video_views=views,
        likes=as_int(stats.get("likeCount")),
        comments=as_int(stats.get("commentCount")),
        raw=video,
    )


class YouTubeProvider(OAuth2Provider):
    platform = Platform.YOUTUBE
    name = "YouTube"
    rate_limits = RateLimits(
        # 10,000 units a day per project (``videos.list``: 1 unit), the day ending at midnight
        # Pacific time; 100 uploads a day per channel.
        reads=(
            Rule(
                bucket="youtube:project",
                limit=10_000,
                window="calendar",
                timezone="America/Los_Angeles",
            ),
        ),
        publishes=(publishing_cap("youtube", 100, timedelta(hours=24)),),
    )
    rotating_refresh = False
    default_scopes = (
        SCOPES + "youtube.upload",
        SCOPES + "youtube.readonly",
        SCOPES + "yt-analytics.readonly",
        SCOPES + "youtube.force-ssl",  # commentThreads.insert: the first comment
    )
    authorize_endpoint = (ACCOUNTS, "/o/oauth2/v2/auth")
    token_endpoint = (OAUTH, "/token")
    revoke_endpoint = (OAUTH, "/revoke")
    # Without prompt=consent Google sends a refresh token only on the first consent.
    extra_authorize_params = {"access_type": "offline", "prompt": "consent"}
    pkce = True
    revoke_with_client = False

    def revocable(self, tokens: TokenSet) -> list[tuple[str, str | None]]:
        # Revoking the refresh token ends the whole grant, and it outlives the access token.
        return [(tokens.refresh_token or tokens.access_token, None)]

    def classify(self, response: httpx.Response, call: Call) -> PlatformError | None:
        # "308 Resume Incomplete" is the upload protocol's normal answer to a chunk.
        if response.status_code == RESUME_INCOMPLETE:
            return None
        return super().classify(response, call)

    def api_error(self, response: httpx.Response, body: JSON) -> PlatformError:
        error = body.get("error") if isinstance(body.get("error"), dict) else {}
        assert isinstance(error, dict)
        reasons = {str(e.get("reason")) for e in error.get("errors") or [] if isinstance(e, dict)}
        code = next(iter(sorted(reasons)), None) or str(error.get("status") or "") or None
        message = str(error.get("message") or "") or None
        status = response.status_code
        if status == 401:
            return self.fail(
                ErrorKind.REAUTH_REQUIRED,
                response,
                detail="says this connection's access token is no longer valid",
                code=code,
            )
        if reasons & QUOTA_REASONS:
            wait = seconds_until_midnight(self.clock(), PACIFIC)
            return self.rate_limited(response, wait, detail="daily quota used up", code=code)
        if reasons & UPLOAD_CAP_REASONS:
            wait = seconds_until_midnight(self.clock(), PACIFIC)
            return self.rate_limited(
                response, wait, detail="the channel's daily upload limit is reached", code=code
            )
        if status == 429 or reasons & BURST_REASONS:
            return self.rate_limited(response, None, code=code)
        if "insufficientPermissions" in reasons:
            return self.fail(
                ErrorKind.REAUTH_REQUIRED,
                response,
                detail="says this connection lacks a permission SocialSeed needs",
                code=code,
            )
        return self.by_status(response, message, code)

    async def data_get(self, tokens: TokenSet, path: str, params: Mapping[str, str]) -> JSON:
        """A YouTube Data API read (``path`` like ``/youtube/v3/videos``)."""
        return await self.send_json(
            Call.API, "GET", self.url((API, path)), params=dict(params), headers=self.bearer(tokens)
        )

    async def my_channel(self, tokens: TokenSet, part: str) -> JSON:
        """The token's channel (``channels.list?mine=true``); a Google account without one
        cannot be used."""
        body = await self.data_get(tokens, "/youtube/v3/channels", {"mine": "true", "part": part})
        items = [c for c in body.get("items") or [] if isinstance(c, dict)]
        if not items:
            raise self.fail(
                ErrorKind.PERMANENT,
                None,
                detail="this Google account has no YouTube channel; create one, then connect it",
                code="no_channel",
            )
        return items[0]

    async def profile(self, tokens: TokenSet) -> Profile:
        channel = await self.my_channel(tokens, "snippet,statistics")
        snippet = channel.get("snippet") or {}
        stats = channel.get("statistics") or {}
        thumbnails = snippet.get("thumbnails") or {}
        avatar = (thumbnails.get("default") or {}).get("url")
        return Profile(
            platform_user_id=str(channel.get("id") or ""),
            username=str(snippet.get("customUrl") or snippet.get("title") or ""),
            display_name=str(snippet.get("title") or ""),
            avatar_url=avatar,
            followers=subscribers(stats),
            post_count=as_int(stats.get("videoCount")),
        )

    # metrics ------------------------------------------------------------------------------
    metrics_batch_size = 50
    #: Uploads per playlistItems page (YouTube takes at most 50).
    uploads_page_size = 50

    async def list_posts(self, tokens: TokenSet, since: datetime) -> PostListing:
        """The uploads playlist, newest first, page by page until a page reaches back before
        ``since``."""
        channel = await self.my_channel(tokens, "contentDetails")
        playlists = (channel.get("contentDetails") or {}).get("relatedPlaylists") or {}
        calls = 1
        if not playlists.get("uploads"):
            return PostListing((), calls)
        params = {
            "playlistId": str(playlists["uploads"]),
            "part": "snippet,contentDetails",
            "maxResults": str(self.uploads_page_size),
        }
        listed: list[ListedPost] = []
        while True:
            page = await self.data_get(tokens, "/youtube/v3/playlistItems", params)
            calls += 1
            found = [upload for upload in map(listed_upload, page.get("items") or []) if upload]
            listed += found
            next_token = page.get("nextPageToken")
            if not next_token or any(upload.published_at < since for upload in found):
                break
            params["pageToken"] = str(next_token)
        return PostListing(newest_first(listed, since), calls)

    async def fetch_post_metrics(self, tokens: TokenSet, ids: Sequence[str]) -> MetricsBatch:
        wanted = batch_of(ids, self.metrics_batch_size)
        if not wanted:
            return MetricsBatch((), calls=0)
        body = await self.data_get(
            tokens, "/youtube/v3/videos", {"id": ",".join(wanted), "part": "statistics"}
        )
        videos = by_id(body.get("items"))
        metrics = tuple(video_metrics(videos[i]) for i in wanted if i in videos)
        failures = gone(
            wanted, videos, "YouTube no longer has this video (deleted, or not this channel's)"
        )
        return MetricsBatch(metrics, tuple(failures))

    async def fetch_account_metrics(self, tokens: TokenSet) -> AccountMetrics:
        channel = await self.my_channel(tokens, "statistics")
        stats = channel.get("statistics") or {}
        return AccountMetrics(
            followers=subscribers(stats),
            posts=as_int(stats.get("videoCount")),
            views=as_int(stats.get("viewCount")),
            raw=channel,
        )

    # publishing ---------------------------------------------------------------------------
    #: Bytes per PUT (a multiple of 256 KiB) and per publish call (then progress is saved).
    chunk_bytes = 8 * 1024 * 1024
    upload_budget = 64 * 1024 * 1024

    async def publish(
        self, tokens: TokenSet, post: PlatformPost, progress: Mapping[str, Any] | None = None
    ) -> PublishedPost | Pending:
        progress = progress or {}
        if progress.get("video_id"):
            return await self.processed(tokens, progress)
        video = self.single_video(post)
        session = str(progress.get("upload_url") or "")
        if not session:
            return await self.open_session(tokens, post, video)
        state = await self.upload_state(tokens, session, video)
        if state is None:  # the session expired before the last byte: nothing was made
            return await self.open_session(tokens, post, video)
        if isinstance(state, int):
            state = await self.send_bytes(tokens, session, video, state)
        if isinstance(state, int):
            return Pending(
                {"upload_url": session, "offset": state}, 0.0, status=f"uploaded {state} bytes"
            )
        return self.outcome({"video_id": str(state["id"]), "upload_url": session}, state)

    async def find_published_post(
        self,
        tokens: TokenSet,
        post: PlatformPost,
        since: datetime,
        progress: Mapping[str, Any] | None = None,
    ) -> PublishedPost | Pending | None:
        progress = progress or {}
        if progress.get("video_id"):
            return await self.reconciled(tokens, progress)
        if progress.get("upload_url"):
            session = str(progress["upload_url"])
            state = await self.upload_state(tokens, session, self.single_video(post))
            if state is None or isinstance(state, int):
                return None  # not all bytes arrived: there is no video (publish resumes)
            return await self.reconciled(tokens, {"video_id": str(state["id"])})
        video_id = await self.find_recent(tokens, post, since)
        if video_id is None:
            return None
        return await self.reconciled(tokens, {"video_id": video_id})

    # first comment ------------------------------------------------------------------------
    #: ``commentTextTooLong`` beyond this.
    comment_limit: int | None = 10_000

    async def post_comment(self, tokens: TokenSet, post_id: str, text: str) -> str:
        """``commentThreads.insert?part=snippet`` (50 quota units): a top-level comment by
        the channel on its video."""
        channel = tokens.platform_user_id or (await self.profile(tokens)).platform_user_id
        body = {
            "snippet": {
                "channelId": channel,
                "videoId": post_id,
                "topLevelComment": {"snippet": {"textOriginal": text}},
            }
        }
        answer = await self.send_json(
            Call.API,
            "POST",
            self.url((API, "/youtube/v3/commentThreads")),
            params={"part": "snippet"},
            json=body,
            headers=self.bearer(tokens),
        )
        if not answer.get("id"):
            raise self.fail(ErrorKind.TRANSIENT, None, detail="answered without a comment id")
        return str(answer["id"])

    async def find_comment(
        self, tokens: TokenSet, post_id: str, text: str, since: datetime
    ) -> str | None:
        """``commentThreads.list?videoId=&order=time`` (newest first), by the channel."""
        channel = tokens.platform_user_id or (await self.profile(tokens)).platform_user_id
        params = {"part": "snippet", "videoId": post_id, "order": "time", "maxResults": "100"}
        for _ in range(MAX_COMMENT_PAGES):
            body = await self.data_get(tokens, "/youtube/v3/commentThreads", params)
            for thread in body.get("items") or []:
                top = ((thread.get("snippet") or {}).get("topLevelComment") or {}).get(
                    "snippet"
                ) or {}
                author = (top.get("authorChannelId") or {}).get("value")
                if (
                    author == channel
                    and posted_since(top.get("publishedAt"), since)
                    and same_text(text, top.get("textOriginal"))
                ):
                    return str(thread.get("id"))
            token = body.get("nextPageToken")
            if not token:
                return None
            params["pageToken"] = str(token)
        return None

    async def open_session(
        self, tokens: TokenSet, post: PlatformPost, video: PlatformMedia
    ) -> Pending:
        """A resumable session with the video's metadata; its URI is saved before any byte."""
        response = await self.send(
            Call.API,
            "POST",
            self.url((API, "/upload/youtube/v3/videos")),
            params={"uploadType": "resumable", "part": "snippet,status"},
            json=video_resource(post),
            headers={
                **self.bearer(tokens),
                "X-Upload-Content-Length": str(video.size),
                "X-Upload-Content-Type": video.mime_type,
            },
        )
        session = response.headers.get("location")
        if not session:
            raise self.fail(
                ErrorKind.TRANSIENT, response, detail="answered without an upload session"
            )
        return Pending({"upload_url": session, "offset": 0}, 0.0, status="uploading")

    async def upload_state(
        self, tokens: TokenSet, session: str, video: PlatformMedia
    ) -> JSON | int | None:
        """Ask the session: the next byte it wants, the video once complete, or None when the
        session is gone."""
        try:
            response = await self.put(tokens, session, b"", f"bytes */{video.size}", video)
        except PlatformError as exc:
            if exc.status in SESSION_GONE:
                return None
            raise
        return self.upload_answer(response)

    async def send_bytes(
        self, tokens: TokenSet, session: str, video: PlatformMedia, offset: int
    ) -> JSON | int:
        """PUT chunks from ``offset`` up to this call's budget: the video when the last one
        went, else the offset reached."""
        budget_end = offset + self.upload_budget
        while offset < min(video.size, budget_end):
            length = min(self.chunk_bytes, video.size - offset)
            data = await video.read(offset, length)
            content_range = f"bytes {offset}-{offset + length - 1}/{video.size}"
            state = self.upload_answer(await self.put(tokens, session, data, content_range, video))
            if not isinstance(state, int):
                return state
            offset = state
        return offset

    async def put(
        self, tokens: TokenSet, session: str, data: bytes, content_range: str, video: PlatformMedia
    ) -> httpx.Response:
        return await self.send(
            Call.API,
            "PUT",
            session,
            content=data,
            headers={
                **self.bearer(tokens),
                "Content-Type": video.mime_type,
                "Content-Range": content_range,
            },
            follow_redirects=False,
        )

    def upload_answer(self, response: httpx.Response) -> JSON | int:
        if response.status_code == RESUME_INCOMPLETE:
            return received(response)
        body = json_object(response)
        if body is None or not body.get("id"):
            raise self.fail(
                ErrorKind.TRANSIENT, response, detail="answered the upload without the video"
            )
        return body

    async def processed(
        self, tokens: TokenSet, progress: Mapping[str, Any]
    ) -> PublishedPost | Pending:
        """The uploaded video's processing: done, still going, or failed (raised with
        YouTube's reason)."""
        video = await self.fetch_video(tokens, str(progress["video_id"]))
        if video is None:
            raise self.fail(
                ErrorKind.PERMANENT, None, detail="the uploaded video was deleted", code="deleted"
            )
        return self.outcome(progress, video)

    async def reconciled(
        self, tokens: TokenSet, progress: Mapping[str, Any]
    ) -> PublishedPost | Pending | None:
        """As ``processed``, but a video that failed or is gone is no post: None."""
        video = await self.fetch_video(tokens, str(progress["video_id"]))
        if video is None:
            return None
        try:
            return self.outcome(progress, video)
        except PlatformError:
            return None

    async def fetch_video(self, tokens: TokenSet, video_id: str) -> JSON | None:
        body = await self.data_get(
            tokens, "/youtube/v3/videos", {"id": video_id, "part": "snippet,status"}
        )
        items = body.get("items") or []
        return items[0] if items and isinstance(items[0], dict) else None

    def outcome(self, progress: Mapping[str, Any], video: JSON) -> PublishedPost | Pending:
        status = video.get("status") or {}
        upload_status = str(status.get("uploadStatus") or "uploaded")
        video_id = str(video["id"])
        if upload_status == "processed":
            published_at = parse_time((video.get("snippet") or {}).get("publishedAt"))
            return PublishedPost(video_id, watch_url(video_id), published_at)
        if upload_status == "failed":
            reason = str(status.get("failureReason") or "")
            words = FAILURES.get(reason, f"could not be processed ({reason})")
            raise self.fail(ErrorKind.BAD_REQUEST, None, detail=f"the video {words}", code=reason)
        if upload_status in ("rejected", "deleted"):
            reason = str(status.get("rejectionReason") or upload_status)
            words = REJECTIONS.get(reason, f"was {upload_status} ({reason})")
            # Not our "duplicate" signal: YouTube compares with all of the channel's videos.
            raise self.fail(
                ErrorKind.PERMANENT, None, detail=f"the video {words}", code=f"rejected_{reason}"
            )
        return Pending({**progress, "video_id": video_id}, PROCESSING_POLL, status="processing")

    async def find_recent(
        self, tokens: TokenSet, post: PlatformPost, since: datetime
    ) -> str | None:
        """The video among the channel's newest uploads, by title and time (1 + 1 units)."""
        channels = await self.data_get(
            tokens, "/youtube/v3/channels", {"mine": "true", "part": "contentDetails"}
        )
        items = channels.get("items") or [{}]
        playlists = (items[0].get("contentDetails") or {}).get("relatedPlaylists") or {}
        if not playlists.get("uploads"):
            return None
        uploads = await self.data_get(
            tokens,
            "/youtube/v3/playlistItems",
            {
                "playlistId": str(playlists["uploads"]),
                "part": "snippet,contentDetails",
                "maxResults": str(RECENT_UPLOADS),
            },
        )
        title = title_of(post)
        for item in uploads.get("items") or []:
            snippet = item.get("snippet") or {}
            details = item.get("contentDetails") or {}
            published = details.get("videoPublishedAt") or snippet.get("publishedAt")
            if same_text(title, snippet.get("title")) and posted_since(published, since):
                return str(details.get("videoId") or snippet["resourceId"]["videoId"])
        return None
