"""YouTube (Google OAuth, YouTube Data API v3, YouTube Analytics API v2).

Five Google hosts share ``/youtube`` without collisions:
``accounts.google.com/o/oauth2/v2/auth`` -> ``/youtube/o/oauth2/v2/auth``;
``oauth2.googleapis.com/{token,revoke}`` -> ``/youtube/token``, ``/youtube/revoke``;
``www.googleapis.com/youtube/v3/*`` -> ``/youtube/youtube/v3/*``;
``www.googleapis.com/upload/youtube/v3/videos`` -> ``/youtube/upload/youtube/v3/videos``;
``youtubeanalytics.googleapis.com/v2/reports`` -> ``/youtube/v2/reports``.
"""

from __future__ import annotations

import json
import re
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from sandbox import metrics, oauth
from sandbox.media import sniff
from sandbox.platforms.base import (
    DAY,
    PlatformSpec,
    add_person,
    iso,
    seed_history,
)
from sandbox.state import Account, Comment, Post, SandboxState, Token, TokenProblem, digits
from sandbox.web import (
    Reject,
    authenticate,
    base_url,
    form_params,
    json_body,
    json_response,
    request_record,
    sandbox,
    split_list,
)

NAME = "youtube"
router = APIRouter()
SCOPE_PREFIX = "https://www.googleapis.com/auth/"
CHUNK = 256 * 1024
MAX_IDS = 50
TAGS_MAX = 500  # snippet.tags, as YouTube counts them (see valid_tags)
SESSION_TTL = 7 * DAY
CONTENT_RANGE = re.compile(r"bytes (?:(\d+)-(\d+)|\*)/(\d+|\*)")
ANALYTICS_METRICS = (
    "views",
    "likes",
    "comments",
    "shares",
    "estimatedMinutesWatched",
    "averageViewDuration",
    "subscribersGained",
)


def google_error(
    status: int,
    reason: str,
    message: str,
    state_: str,
    domain: str = "global",
    headers: dict[str, str] | None = None,
) -> Response:
    return json_response(
        {
            "error": {
                "code": status,
                "message": message,
                "errors": [{"message": message, "domain": domain, "reason": reason}],
                "status": state_,
            }
        },
        status,
        headers,
    )


def unauthorized(_problem: TokenProblem) -> Response:
    body = {
        "error": {
            "code": 401,
            "message": "Request had invalid authentication credentials. Expected OAuth 2 access "
            "token, login cookie or other valid authentication credential.",
            "errors": [
                {
                    "message": "Invalid Credentials",
                    "domain": "global",
                    "reason": "authError",
                    "location": "Authorization",
                    "locationType": "header",
                }
            ],
            "status": "UNAUTHENTICATED",
        }
    }
    return json_response(
        body,
        401,
        {"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/", error="invalid_token"'},
    )


def insufficient_scope(scope: str) -> Response:
    return google_error(
        403,
        "insufficientPermissions",
        f"Request had insufficient authentication scopes ({scope}).",
        "PERMISSION_DENIED",
    )


def rate_limited() -> Response:
    return google_error(
        429,
        "rateLimitExceeded",
        "The request cannot be completed because you have exceeded your rate limit.",
        "RESOURCE_EXHAUSTED",
        "youtube.quota",
    )


QUOTA_REASONS = frozenset({"quotaExceeded", "dailyLimitExceeded", "userRateLimitExceeded"})


def quota_exceeded() -> Response:
    return google_error(
        403,
        "quotaExceeded",
        "The request cannot be completed because you have exceeded your quota.",
        "PERMISSION_DENIED",
        "youtube.quota",
    )


def server_error(status: int) -> Response:
    return google_error(status, "backendError", "Backend Error", "UNAVAILABLE")


def bad_request(reason: str, message: str) -> Response:
    return google_error(400, reason, message, "INVALID_ARGUMENT", "youtube.parameter")


def oauth_error(error: str, description: str, status: int = 400) -> Response:
    return json_response({"error": error, "error_description": description}, status)


def video_id(state: SandboxState, salt: str = "") -> str:
    number = state.ids.next("youtube:video")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    raw = digits(f"youtube-video:{number}:{salt}", 22)
    return "".join(alphabet[int(raw[i : i + 2]) % 64] for i in range(0, 22, 2))


def create_user(state: SandboxState, username: str) -> Account:
    raw = digits(f"youtube:{username}", 22)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    channel = "UC" + "".join(alphabet[int(raw[i % 22]) * 6 + i % 6] for i in range(22))
    account = add_person(state, NAME, username, channel)
    seed_history(
        state,
        account,
        lambda _at: video_id(state, username),
        kind="video",
        data=lambda i: {"privacyStatus": "public", "processed": True},
    )
    return account


PROFILE = oauth.OAuthProfile(
    platform=NAME,
    title="Google",
    code_ttl=lambda s: s.settings.youtube_code_ttl,
    create_user=create_user,
    denied=lambda st: [("error", "access_denied"), *([("state", st)] if st is not None else [])],
    invalid_client_page="Error 401: invalid_client. The OAuth client was not found.",
    invalid_client_status=401,
    invalid_redirect_page="Error 400: redirect_uri_mismatch",
    code_prefix="4/0A",
    success_extra=lambda code: [("scope", " ".join(code.scopes))],
)


@router.api_route("/o/oauth2/v2/auth", methods=["GET", "POST"])
async def authorize(request: Request) -> Response:
    return await oauth.authorize(request, PROFILE)


CODE_ERRORS = {
    oauth.CodeProblem.REDIRECT_MISMATCH: ("redirect_uri_mismatch", "Bad Request"),
    oauth.CodeProblem.VERIFIER_MISSING: ("invalid_grant", "Missing code verifier."),
    oauth.CodeProblem.VERIFIER_MISMATCH: ("invalid_grant", "Invalid code verifier."),
}


@router.post("/token")
async def token(request: Request) -> Response:
    state = sandbox(request)
    form = await form_params(request)
    settings = state.settings
    client = form.get("client_id") or settings.client_id
    if client != settings.client_id:
        return oauth_error("invalid_client", "The OAuth client was not found.", 401)
    if not oauth.client_auth(request, form):
        return oauth_error("invalid_client", "Unauthorized", 401)
    base: dict[str, Any] = {"expires_in": settings.youtube_access_token_ttl, "token_type": "Bearer"}
    if form.get("grant_type") == "authorization_code":
        code = oauth.redeem_code(
            state, NAME, form.get("code"), None, form.get("redirect_uri"), form.get("code_verifier")
        )
        if isinstance(code, oauth.CodeProblem):
            return oauth_error(*CODE_ERRORS.get(code, ("invalid_grant", "Bad Request")))
        refresh_ttl = (
            7 * DAY if settings.youtube_testing_app else settings.youtube_refresh_token_ttl
        )
        pair = oauth.issue_tokens(
            state,
            NAME,
            code.account_id,
            code.scopes,
            code.value,
            settings.youtube_access_token_ttl,
            refresh_ttl,
            ("ya29.", "1//0"),
            with_refresh=code.data.get("access_type") == "offline",
        )
        body = {"access_token": pair.access.value, **base, "scope": " ".join(code.scopes)}
        if pair.refresh:
            body["refresh_token"] = pair.refresh.value
        return json_response(body)
    if form.get("grant_type") == "refresh_token":
        refresh = oauth.use_refresh_token(state, NAME, form.get("refresh_token"))
        if isinstance(refresh, TokenProblem):
            return oauth_error("invalid_grant", "Token has been expired or revoked.")
        # Google does not rotate: the same refresh token keeps working.
        access = state.tokens.issue(
            NAME,
            "access",
            refresh.account_id,
            refresh.scopes,
            settings.youtube_access_token_ttl,
            refresh.grant_id,
            "ya29.",
        )
        return json_response(
            {"access_token": access.value, **base, "scope": " ".join(refresh.scopes)}
        )
    return oauth_error(
        "unsupported_grant_type", "Invalid grant_type: " + form.get("grant_type", "")
    )


@router.post("/revoke")
async def revoke(request: Request) -> Response:
    form = await form_params(request)
    if oauth.revoke_any(sandbox(request), NAME, form.get("token"), "revoked"):
        return json_response({})
    return oauth_error("invalid_token", "Token expired or revoked")


# Data API helpers --------------------------------------------------------------------------
def caller(request: Request, units: int, scope: str | None = None) -> tuple[Token, Account]:
    state = sandbox(request)
    token_ = authenticate(request, NAME, unauthorized)
    if scope is not None and not any(s in token_.scopes for s in scope.split("|")):
        raise Reject(insufficient_scope(scope))
    now = state.clock.now()
    # Bursts trip Google's per-user per-minute limit (429 rateLimitExceeded, no headers) before
    # the daily unit quota; a refused call costs no units.
    burst = state.limits.sliding(
        (NAME, "minute", token_.account_id), state.settings.youtube_calls_per_minute, 60, now
    )
    if not burst.allowed:
        raise Reject(rate_limited())
    if units:
        usage = state.limits.calendar(
            (NAME, "quota"),
            state.settings.youtube_daily_quota,
            "America/Los_Angeles",
            now,
            units,
        )
        if not usage.allowed:
            raise Reject(quota_exceeded())
    account = state.account(NAME, token_.account_id)
    assert account is not None
    return token_, account


READ = (
    SCOPE_PREFIX + "youtube.readonly|" + SCOPE_PREFIX + "youtube|" + SCOPE_PREFIX + "youtube.upload"
)


def etag() -> str:
    return secrets.token_urlsafe(20)


def list_response(
    kind: str, items: list[dict[str, Any]], total: int | None = None, next_token: str | None = None
) -> Response:
    body: dict[str, Any] = {"kind": f"youtube#{kind}ListResponse", "etag": etag()}
    if next_token:
        body["nextPageToken"] = next_token
    body["pageInfo"] = {
        "totalResults": len(items) if total is None else total,
        "resultsPerPage": len(items),
    }
    body["items"] = items
    return json_response(body)


def rounded(subscribers: int) -> int:
    """Since September 2019 the Data API gives subscriber counts above 1,000 rounded down to
    three significant figures (only YouTube Studio shows the exact number)."""
    if subscribers < 1_000:
        return subscribers
    unit = 10 ** (len(str(subscribers)) - 3)
    return subscribers // unit * unit


def uploads_playlist(account: Account) -> str:
    return "UU" + account.id[2:]


@router.get("/youtube/v3/channels")
async def channels_list(request: Request) -> Response:
    state = sandbox(request)
    _, me = caller(request, 1, READ)
    if request.query_params.get("mine") != "true" and request.query_params.get("id") != me.id:
        return list_response("channel", [])
    parts = split_list(request.query_params.get("part"))
    videos = state.posts_of(NAME, me.id)
    item: dict[str, Any] = {"kind": "youtube#channel", "etag": etag(), "id": me.id}
    if "snippet" in parts:
        item["snippet"] = {
            "title": me.name,
            "description": "",
            "customUrl": f"@{me.username}",
            "publishedAt": iso(me.created_at),
            "thumbnails": {"default": {"url": f"https://yt3.ggpht.com/{me.id}"}},
        }
    if "statistics" in parts:
        hidden = bool(me.data.get("hidden_subscriber_count"))
        item["statistics"] = {
            "viewCount": str(sum(metrics.post_counts(state, v).views for v in videos)),
            **({} if hidden else {"subscriberCount": str(rounded(metrics.followers(state, me)))}),
            "hiddenSubscriberCount": hidden,
            "videoCount": str(len(videos)),
        }
    if "contentDetails" in parts:
        item["contentDetails"] = {
            "relatedPlaylists": {"likes": "", "uploads": uploads_playlist(me)}
        }
    return list_response("channel", [item])


def processing(state: SandboxState, post: Post) -> tuple[str, str]:
    """(uploadStatus, processingStatus) at sandbox time."""
    if post.data.get("failure"):
        return "failed", "failed"
    done = post.data.get("processed") or state.clock.now() >= post.data.get("processed_at", 0)
    return ("processed", "succeeded") if done else ("uploaded", "processing")


def video_json(state: SandboxState, post: Post, parts: list[str]) -> dict[str, Any]:
    item: dict[str, Any] = {"kind": "youtube#video", "etag": etag(), "id": post.id}
    upload_status, processing_status = processing(state, post)
    if "snippet" in parts:
        item["snippet"] = {
            "publishedAt": iso(post.created_at),
            "channelId": post.account_id,
            "title": post.data.get("title", post.text[:100]),
            "description": post.data.get("description", post.text),
            "tags": post.data.get("tags", []),
            "categoryId": post.data.get("categoryId", "22"),
        }
    if "status" in parts:
        item["status"] = {
            "uploadStatus": upload_status,
            "privacyStatus": post.data.get("privacyStatus", "public"),
            "license": "youtube",
            "embeddable": True,
            "publicStatsViewable": True,
            "madeForKids": False,
        }
        if post.data.get("failure"):
            item["status"]["failureReason"] = post.data["failure"]
    if "processingDetails" in parts:
        item["processingDetails"] = {"processingStatus": processing_status}
        if processing_status == "processing":
            item["processingDetails"]["processingProgress"] = {
                "partsTotal": 100,
                "partsProcessed": 50,
                "timeLeftMs": 1000,
            }
    if "statistics" in parts:
        c = metrics.post_counts(state, post)
        # YouTube sends counts as strings.
        item["statistics"] = {
            "viewCount": str(c.views),
            "likeCount": str(c.likes),
            "favoriteCount": "0",
            "commentCount": str(c.comments),
        }
    if "contentDetails" in parts:
        item["contentDetails"] = {"duration": "PT1M", "dimension": "2d", "definition": "hd"}
    return item


@router.get("/youtube/v3/videos")
async def videos_list(request: Request) -> Response:
    state = sandbox(request)
    caller(request, 1, READ)
    ids = split_list(request.query_params.get("id"))
    if len(ids) > MAX_IDS:
        return bad_request("invalidFilters", f"At most {MAX_IDS} video ids are allowed.")
    parts = split_list(request.query_params.get("part"))
    if not parts:
        return bad_request("required", "Required parameter: part")
    found = [state.post(NAME, i) for i in ids]
    items = [video_json(state, p, parts) for p in found if p is not None]
    return list_response("video", items)


# comments ----------------------------------------------------------------------------------
# The longest top-level comment YouTube takes (snippet.topLevelComment.snippet.textOriginal).
MAX_COMMENT = 10_000
COMMENT_SCOPE = SCOPE_PREFIX + "youtube.force-ssl"


def comment_thread_json(c: Comment) -> dict[str, Any]:
    published = iso(c.created_at)
    return {
        "kind": "youtube#commentThread",
        "etag": etag(),
        "id": c.id,
        "snippet": {
            "channelId": c.author_id,
            "videoId": c.post_id,
            "topLevelComment": {
                "kind": "youtube#comment",
                "etag": etag(),
                "id": c.id,
                "snippet": {
                    "channelId": c.author_id,
                    "videoId": c.post_id,
                    "textDisplay": c.text,
                    "textOriginal": c.text,
                    "authorChannelId": {"value": c.author_id},
                    "canRate": True,
                    "viewerRating": "none",
                    "likeCount": 0,
                    "publishedAt": published,
                    "updatedAt": published,
                },
            },
            "canReply": True,
            "totalReplyCount": 0,
            "isPublic": True,
        },
    }


@router.post("/youtube/v3/commentThreads")
async def comment_threads_insert(request: Request) -> Response:
    """``commentThreads.insert`` (50 units, youtube.force-ssl): a top-level comment on a
    video, by the channel the token belongs to."""
    state = sandbox(request)
    _, me = caller(request, 50, COMMENT_SCOPE)
    if "snippet" not in split_list(request.query_params.get("part")):
        return bad_request("required", "Required parameter: part")
    body = await json_body(request, lambda m: bad_request("parseError", m))
    raw = body.get("snippet")
    snippet: dict[str, Any] = raw if isinstance(raw, dict) else {}
    video = state.post(NAME, str(snippet.get("videoId", "")))
    if not snippet.get("videoId"):
        return bad_request("channelOrVideoIdMissing", "The comment thread must have a video.")
    if video is None:
        return google_error(
            404,
            "videoNotFound",
            "The video identified by videoId could not be found.",
            "NOT_FOUND",
            "youtube.commentThread",
        )
    top = (snippet.get("topLevelComment") or {}).get("snippet") or {}
    text = top.get("textOriginal")
    if not isinstance(text, str) or not text.strip():
        return bad_request("commentTextRequired", "The comment must have text.")
    if len(text) > MAX_COMMENT:
        return bad_request(
            "commentTextTooLong",
            "The comment resource being inserted contains too many characters in the "
            "textOriginal property.",
        )
    comment = state.add_comment(
        Comment(
            platform=NAME,
            id="Ug" + digits(f"youtube-comment:{state.ids.next('youtube:comment')}", 24),
            post_id=video.id,
            author_id=me.id,
            text=text,
            created_at=state.clock.now(),
            request=request_record(request, body),
        )
    )
    return json_response(comment_thread_json(comment))


@router.get("/youtube/v3/commentThreads")
async def comment_threads_list(request: Request) -> Response:
    """``commentThreads.list?videoId=`` (1 unit): newest first with ``order=time``,
    ``maxResults`` 1 to 100 (20), ``pageToken``."""
    state = sandbox(request)
    caller(request, 1, READ + "|" + COMMENT_SCOPE)
    video = state.post(NAME, request.query_params.get("videoId", ""))
    if video is None:
        return google_error(
            404,
            "videoNotFound",
            "The video identified by videoId could not be found.",
            "NOT_FOUND",
            "youtube.commentThread",
        )
    size_text = request.query_params.get("maxResults", "20")
    if not size_text.isdigit() or not 1 <= int(size_text) <= 100:
        return bad_request("invalidParameter", "maxResults must be between 1 and 100.")
    size = int(size_text)
    token = request.query_params.get("pageToken", "0")
    start = int(token) if token.isdigit() else 0
    items = list(reversed(state.comments_on(NAME, video.id)))
    page = items[start : start + size]
    more = str(start + size) if start + size < len(items) else None
    return list_response("commentThread", [comment_thread_json(c) for c in page], len(items), more)


@router.get("/youtube/v3/playlistItems")
async def playlist_items(request: Request) -> Response:
    """The uploads playlist: how a backfill finds a channel's videos."""
    state = sandbox(request)
    _, me = caller(request, 1, READ)
    if request.query_params.get("playlistId") != uploads_playlist(me):
        return google_error(
            404,
            "playlistNotFound",
            "The playlist identified with the request's playlistId parameter cannot be found.",
            "NOT_FOUND",
            "youtube.playlistItem",
        )
    size = min(50, int(request.query_params.get("maxResults", "5")))
    start = int(request.query_params.get("pageToken", "0") or 0)
    videos = state.posts_of(NAME, me.id)
    page = videos[start : start + size]
    items = [
        {
            "kind": "youtube#playlistItem",
            "etag": etag(),
            "id": f"PI{v.id}",
            "snippet": {
                "publishedAt": iso(v.created_at),
                "title": v.data.get("title", v.text),
                "resourceId": {"kind": "youtube#video", "videoId": v.id},
            },
            "contentDetails": {"videoId": v.id, "videoPublishedAt": iso(v.created_at)},
        }
        for v in page
    ]
    more = str(start + size) if start + size < len(videos) else None
    return list_response("playlistItem", items, len(videos), more)


# resumable upload --------------------------------------------------------------------------
def valid_tags(tags: Any) -> bool:
    """``snippet.tags``: strings, 500 characters in all as YouTube counts them (the commas
    between tags count, and a tag with a space counts as if quoted: "Foo Baz" is 9)."""
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        return False
    length = sum(len(t) + 2 if " " in t else len(t) for t in tags) + max(len(tags) - 1, 0)
    return length <= TAGS_MAX


@router.post("/upload/youtube/v3/videos")
async def start_upload(request: Request) -> Response:
    state = sandbox(request)
    if request.query_params.get("uploadType") != "resumable":
        return bad_request("invalidUploadType", "Only uploadType=resumable is supported here.")
    _, me = caller(
        request,
        state.settings.youtube_upload_units,
        SCOPE_PREFIX + "youtube.upload|" + SCOPE_PREFIX + "youtube",
    )
    uploads = state.limits.calendar(
        (NAME, "uploads", me.id),
        state.settings.youtube_uploads_per_day,
        "America/Los_Angeles",
        state.clock.now(),
    )
    if not uploads.allowed:
        return google_error(
            400,
            "uploadLimitExceeded",
            "The user has exceeded the number of videos they may upload.",
            "INVALID_ARGUMENT",
            "youtube.video",
        )
    raw = await request.body()
    try:
        body = json.loads(raw) if raw else {}
    except ValueError:
        return bad_request("parseError", "Parse Error")
    snippet = body.get("snippet") or {}
    status = body.get("status") or {}
    title = snippet.get("title", "")
    if not title or len(title) > 100 or "<" in title or ">" in title:
        return bad_request(
            "invalidTitle", "The request metadata specifies an invalid or empty video title."
        )
    if len(snippet.get("description", "")) > 5000:
        return bad_request(
            "invalidDescription", "The request metadata specifies an invalid video description."
        )
    if not valid_tags(snippet.get("tags", [])):
        return bad_request("invalidTags", "The request metadata specifies invalid video keywords.")
    length = request.headers.get("x-upload-content-length", "")
    upload_id = secrets.token_urlsafe(24)
    state.put(
        NAME,
        "upload",
        upload_id,
        {
            "account_id": me.id,
            "snippet": snippet,
            "status": status,
            "total": int(length) if length.isdigit() else None,
            "received": 0,
            "head": b"",
            "expires_at": state.clock.now() + SESSION_TTL,
            "video_id": None,
            "request": request_record(request, body),
        },
    )
    location = (
        f"{base_url(request)}/youtube/upload/youtube/v3/videos?uploadType=resumable"
        f"&upload_id={upload_id}"
    )
    return Response(
        status_code=200, headers={"Location": location, "X-GUploader-UploadID": upload_id}
    )


def finish_upload(state: SandboxState, session: dict[str, Any]) -> Post:
    now = state.clock.now()
    found = sniff(session["head"], session["received"])
    snippet, status = session["snippet"], session["status"]
    post = state.add_post(
        Post(
            platform=NAME,
            id=video_id(state),
            account_id=session["account_id"],
            text=snippet.get("title", ""),
            media=[found.as_json()],
            created_at=now,
            kind="video",
            request=session["request"],
            data={
                "title": snippet.get("title", ""),
                "description": snippet.get("description", ""),
                "tags": snippet.get("tags", []),
                "categoryId": snippet.get("categoryId", "22"),
                "privacyStatus": status.get("privacyStatus", "private"),
                "processed_at": now + state.settings.processing_seconds,
                "failure": None if found.kind == "video" else "invalidFile",
            },
        )
    )
    session["video_id"] = post.id
    return post


def received_range(session: dict[str, Any]) -> dict[str, str]:
    received = session["received"]
    return {"Range": f"bytes=0-{received - 1}"} if received else {}


@router.put("/upload/youtube/v3/videos")
async def upload_bytes(request: Request) -> Response:
    state = sandbox(request)
    caller(request, 0)
    session = state.get(NAME, "upload", request.query_params.get("upload_id", ""))
    if session is None:
        return google_error(404, "notFound", "Upload session not found", "NOT_FOUND")
    if state.clock.now() > session["expires_at"]:
        return google_error(410, "gone", "The upload session has expired", "NOT_FOUND")
    if session["video_id"]:
        post = state.post(NAME, session["video_id"])
        assert post is not None
        return json_response(video_json(state, post, ["snippet", "status"]), 200)
    data = await request.body()
    header = request.headers.get("content-range")
    match = CONTENT_RANGE.fullmatch(header) if header else None
    if header and match is None:
        return bad_request("invalidContentRange", "Invalid Content-Range header")
    total_text = match.group(3) if match else str(len(data))
    total = int(total_text) if total_text.isdigit() else session["total"]
    if match and match.group(1) is None:  # probe: "bytes */total"
        return Response(status_code=308, headers=received_range(session))
    first = int(match.group(1)) if match else 0
    last = int(match.group(2)) if match else len(data) - 1
    if first != session["received"] or last - first + 1 != len(data):
        return Response(status_code=308, headers=received_range(session))
    is_last = total is not None and last + 1 == total
    if not is_last and len(data) % CHUNK:
        return bad_request("invalidChunkSize", "Chunks must be a multiple of 256 KiB.")
    if first == 0:
        session["head"] = data[:64]
    session["received"] += len(data)
    session["total"] = total
    if not is_last:
        return Response(status_code=308, headers=received_range(session))
    post = finish_upload(state, session)
    return json_response(video_json(state, post, ["snippet", "status"]), 200)


# Analytics ---------------------------------------------------------------------------------
def day_value(counts: dict[str, int], metric: str) -> int:
    views = counts["views"]
    return {
        "views": views,
        "likes": counts["likes"],
        "comments": counts["comments"],
        "shares": counts["shares"],
        "estimatedMinutesWatched": counts["watch_seconds"] // 60,
        "averageViewDuration": counts["watch_seconds"] // max(1, views),
        "subscribersGained": counts["follows"],
    }[metric]


@router.get("/v2/reports")
async def reports(request: Request) -> Response:
    state = sandbox(request)
    _, me = caller(request, 0, SCOPE_PREFIX + "yt-analytics.readonly")
    params = request.query_params
    if params.get("ids") not in ("channel==MINE", f"channel=={me.id}"):
        return google_error(403, "forbidden", "Forbidden", "PERMISSION_DENIED")
    names = split_list(params.get("metrics"))
    if not names or any(n not in ANALYTICS_METRICS for n in names):
        return bad_request(
            "badRequest",
            "Unknown identifier in metrics: "
            + ",".join(n for n in names if n not in ANALYTICS_METRICS),
        )
    try:
        start = datetime.strptime(params.get("startDate", ""), "%Y-%m-%d").replace(tzinfo=UTC)
        end = datetime.strptime(params.get("endDate", ""), "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        return bad_request("badRequest", "startDate and endDate (YYYY-MM-DD) are required.")
    videos = state.posts_of(NAME, me.id)
    wanted = params.get("filters", "")
    if wanted.startswith("video=="):
        ids = set(wanted.removeprefix("video==").split(","))
        videos = [v for v in videos if v.id in ids]
    days = metrics.utc_days(start.timestamp(), (end + timedelta(days=1)).timestamp())
    dimension = params.get("dimensions", "")
    rows: list[list[Any]]
    if dimension == "day":
        rows = []
        for day in days:
            counts = metrics.daily_counts(state, videos, day)
            rows.append([day.strftime("%Y-%m-%d"), *(day_value(counts, n) for n in names)])
    elif dimension == "video":
        rows = []
        for video in videos:
            total = {
                k: sum(metrics.daily_counts(state, [video], d)[k] for d in days)
                for k in ("views", "likes", "comments", "shares", "watch_seconds", "follows")
            }
            rows.append([video.id, *(day_value(total, n) for n in names)])
    elif not dimension:
        total = {
            k: sum(metrics.daily_counts(state, videos, d)[k] for d in days)
            for k in ("views", "likes", "comments", "shares", "watch_seconds", "follows")
        }
        rows = [[day_value(total, n) for n in names]]
    else:
        return bad_request("badRequest", f"Unknown identifier in dimensions: {dimension}")
    headers = (
        [{"name": dimension, "columnType": "DIMENSION", "dataType": "STRING"}] if dimension else []
    )
    headers += [{"name": n, "columnType": "METRIC", "dataType": "INTEGER"} for n in names]
    return json_response(
        {"kind": "youtubeAnalytics#resultTable", "columnHeaders": headers, "rows": rows}
    )


def truth(state: SandboxState, post: Post) -> dict[str, Any]:
    return {"statistics": video_json(state, post, ["statistics"])["statistics"]}


# control API --------------------------------------------------------------------------------
control = APIRouter(prefix="/_sandbox/youtube", tags=["control"])


class ChannelSettings(BaseModel):
    hidden_subscriber_count: bool | None = Field(
        None, description="the owner hides the channel's subscriber count"
    )


@control.put("/channels/{account}")
async def set_channel(request: Request, account: str, body: ChannelSettings) -> Response:
    """Change a channel's settings as its owner would in YouTube Studio (channel id or
    username)."""
    state = sandbox(request)
    found = state.account(NAME, account) or state.user_by_name(NAME, account)
    if found is None:
        return json_response({"error": "NotFound", "detail": "no such YouTube channel"}, 404)
    found.data.update(body.model_dump(exclude_none=True))
    return json_response({"id": found.id, **found.data})


def is_quota_error(body: bytes) -> bool:
    """403 quotaExceeded (the day's units are gone) is Google's other rate-limit answer."""
    try:
        errors = json.loads(body).get("error", {}).get("errors", [])
    except (ValueError, AttributeError):
        return False
    return any(e.get("reason") in QUOTA_REASONS for e in errors if isinstance(e, dict))


SPEC = PlatformSpec(
    NAME,
    router,
    rate_limited,
    server_error,
    truth,
    throttle_statuses=frozenset({403}),
    throttle_body=is_quota_error,
)
