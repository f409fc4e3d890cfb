"""X (Twitter) API v2: OAuth 2.0 with mandatory PKCE, users/me, media upload v2, tweets, metrics.

Hosts: ``x.com`` (authorize) and ``api.x.com`` (everything else) share ``/x`` without collisions:
``/x/i/oauth2/authorize`` vs ``/x/2/...``.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from sandbox import metrics, oauth
from sandbox.media import MB, sniff
from sandbox.platforms.base import (
    DAY,
    PlatformSpec,
    add_person,
    iso,
    seed_history,
)
from sandbox.ratelimit import Usage
from sandbox.settings import SandboxSettings
from sandbox.state import Account, Post, SandboxState, Token, TokenProblem, digits
from sandbox.textcount import MAX_WEIGHTED_LENGTH, weighted_length
from sandbox.web import (
    Reject,
    authenticate,
    form_params,
    json_body,
    json_response,
    request_record,
    sandbox,
    split_list,
)

NAME = "x"
WINDOW = 15 * 60
PRIVATE_METRICS_DAYS = 30
# X's ids are Snowflakes: milliseconds since 2010-11-04T01:42:54.657Z, shifted 22 bits left.
SNOWFLAKE_EPOCH_MS = 1_288_834_974_657
SNOWFLAKE_TIME_SHIFT = 22
MEDIA_LIMITS = {"tweet_image": 5 * MB, "tweet_gif": 15 * MB, "tweet_video": 512 * MB}
# Alt text of an image or GIF (POST /2/media/metadata), in characters.
MAX_ALT_TEXT = 1_000
router = APIRouter()


# error bodies ------------------------------------------------------------------------------
def problem(status: int, title: str, detail: str, kind: str = "about:blank") -> JSONResponse:
    return json_response({"title": title, "type": kind, "status": status, "detail": detail}, status)


def unauthorized(_problem: TokenProblem) -> Response:
    # X answers every bad token (missing, expired, revoked, unknown) with the same problem JSON.
    return problem(401, "Unauthorized", "Unauthorized")


def forbidden(_scope: str) -> Response:
    return problem(403, "Forbidden", "Forbidden")


def invalid_request(message: str, parameter: str | None = None) -> Response:
    error: dict[str, Any] = {"message": message}
    if parameter:
        error["parameters"] = {parameter: [message]}
    return json_response(
        {
            "errors": [error],
            "title": "Invalid Request",
            "detail": "One or more parameters to your request was invalid.",
            "type": "https://api.twitter.com/2/problems/invalid-request",
        },
        400,
    )


def oauth_error(error: str, description: str, status: int = 400) -> Response:
    return json_response({"error": error, "error_description": description}, status)


def rate_headers(usage: Usage) -> dict[str, str]:
    return {
        "x-rate-limit-limit": str(usage.limit),
        "x-rate-limit-remaining": str(usage.remaining),
        "x-rate-limit-reset": str(int(usage.reset_at)),
    }


def too_many(headers: dict[str, str] | None = None) -> Response:
    body = {"title": "Too Many Requests", "detail": "Too Many Requests", "type": "about:blank"}
    return json_response({**body, "status": 429}, 429, headers)


def rate_limited() -> Response:
    return too_many({"x-rate-limit-limit": "0", "x-rate-limit-remaining": "0"})


# The 15-minute buckets X counts per user: name -> limit. ``caller`` counts real calls in them and
# an injected 429 burst reports the same numbers, since every X response, a 429 included, carries
# x-rate-limit-limit/remaining/reset (and never Retry-After).
BUCKETS: dict[str, Callable[[SandboxSettings], int]] = {
    "users/me": lambda s: s.x_me_limit_15min,
    "media/upload": lambda s: 500,
    "media/upload/status": lambda s: 1_000,
    "media/metadata": lambda s: 500,
    "POST tweets": lambda s: s.x_tweets_per_15min,
    "DELETE tweets": lambda s: 50,
    "GET tweets": lambda s: s.x_read_limit_15min,
    "GET tweets/:id": lambda s: 900,
    "GET users/:id/tweets": lambda s: 900,
}
# (method, glob on the path below /x, bucket), most specific first.
ROUTES = (
    ("GET", "/2/users/me", "users/me"),
    ("GET", "/2/media/upload", "media/upload/status"),
    ("POST", "/2/media/upload*", "media/upload"),
    ("POST", "/2/media/metadata", "media/metadata"),
    ("POST", "/2/tweets", "POST tweets"),
    ("DELETE", "/2/tweets/*", "DELETE tweets"),
    ("GET", "/2/tweets", "GET tweets"),
    ("GET", "/2/tweets/*", "GET tweets/:id"),
    ("GET", "/2/users/*/tweets", "GET users/:id/tweets"),
)


def fault_rate_limited(state: SandboxState, method: str, subpath: str) -> Response:
    """An injected 429 with the headers of the bucket the request would have been counted in."""
    bucket = next(
        (b for m, glob, b in ROUTES if m == method and fnmatch.fnmatchcase(subpath, glob)), None
    )
    limit = BUCKETS[bucket](state.settings) if bucket else 0
    usage = Usage(limit, limit, state.clock.now() + WINDOW, allowed=False)
    return too_many(rate_headers(usage))


def server_error(status: int) -> Response:
    return problem(status, "Service Unavailable", "Service Unavailable")


# accounts and auth -------------------------------------------------------------------------
def tweet_id(state: SandboxState, created_at: float) -> str:
    """A Snowflake, as X mints them: the creation time in milliseconds since X's epoch in the
    high bits, then 22 bits of machine and sequence (here a counter)."""
    millis = int(created_at * 1000) - SNOWFLAKE_EPOCH_MS
    return str((millis << SNOWFLAKE_TIME_SHIFT) | (state.ids.next("x:tweet") % 4_096))


def create_user(state: SandboxState, username: str) -> Account:
    account = add_person(state, NAME, username, "1" + digits(f"x:{username}", 18))
    seed_history(state, account, lambda at: tweet_id(state, at))
    return account


PROFILE = oauth.OAuthProfile(
    platform=NAME,
    title="X",
    code_ttl=lambda s: s.settings.x_code_ttl,
    create_user=create_user,
    denied=lambda st: [("error", "access_denied"), *([("state", st)] if st is not None else [])],
    pkce_required=True,
    invalid_client_page="Something went wrong. You weren't able to give access to the App.",
    invalid_redirect_page="Something went wrong. You weren't able to give access to the App.",
)


@dataclass(frozen=True)
class Caller:
    token: Token
    account: Account
    headers: dict[str, str]


def caller(request: Request, bucket: str, scope: str | None = None) -> Caller:
    """Authenticate, then count the call in the user's 15-minute window ``bucket``."""
    state = sandbox(request)
    token = authenticate(request, NAME, unauthorized, scope=scope, on_scope=forbidden)
    limit = BUCKETS[bucket](state.settings)
    usage = state.limits.fixed((NAME, bucket, token.account_id), limit, WINDOW, state.clock.now())
    headers = rate_headers(usage)
    if not usage.allowed:
        raise Reject(too_many(headers))
    account = state.account(NAME, token.account_id)
    assert account is not None
    return Caller(token, account, headers)


# OAuth ------------------------------------------------------------------------------------
@router.api_route("/i/oauth2/authorize", methods=["GET", "POST"])
async def authorize(request: Request) -> Response:
    return await oauth.authorize(request, PROFILE)


@router.post("/2/oauth2/token")
async def token(request: Request) -> Response:
    state = sandbox(request)
    form = await form_params(request)
    # Our app is a confidential client: X wants its credentials in a Basic header.
    if not request.headers.get("authorization", "").lower().startswith("basic"):
        return oauth_error("unauthorized_client", "Missing valid authorization header", 401)
    if not oauth.client_auth(request, form):
        return oauth_error("unauthorized_client", "Missing valid authorization header", 401)
    settings = state.settings
    grant_type = form.get("grant_type")
    if grant_type == "authorization_code":
        code = oauth.redeem_code(
            state,
            NAME,
            form.get("code"),
            None,
            form.get("redirect_uri"),
            form.get("code_verifier"),
        )
        if isinstance(code, oauth.CodeProblem):
            return oauth_error(
                "invalid_request", "Value passed for the authorization code was invalid."
            )
        scopes, account_id, grant = code.scopes, code.account_id, code.value
    elif grant_type == "refresh_token":
        old = oauth.use_refresh_token(state, NAME, form.get("refresh_token"))
        if isinstance(old, TokenProblem):
            return oauth_error("invalid_request", "Value passed for the token was invalid.")
        old.used = True  # single-use, rotating
        scopes, account_id, grant = old.scopes, old.account_id, old.grant_id
    else:
        return oauth_error("invalid_request", "Missing required parameter [grant_type].")
    pair = oauth.issue_tokens(
        state,
        NAME,
        account_id,
        scopes,
        grant,
        settings.x_access_token_ttl,
        settings.x_refresh_token_ttl,
        ("", ""),
        with_refresh="offline.access" in scopes,
    )
    body: dict[str, Any] = {
        "token_type": "bearer",
        "expires_in": settings.x_access_token_ttl,
        "access_token": pair.access.value,
        "scope": " ".join(scopes),
    }
    if pair.refresh:
        body["refresh_token"] = pair.refresh.value
    return json_response(body)


@router.post("/2/oauth2/revoke")
async def revoke(request: Request) -> Response:
    form = await form_params(request)
    if not oauth.client_auth(request, form):
        return oauth_error("unauthorized_client", "Missing valid authorization header", 401)
    oauth.revoke_any(sandbox(request), NAME, form.get("token"), "revoked")
    return json_response({"revoked": True})


# users ------------------------------------------------------------------------------------
def user_json(state: SandboxState, account: Account, fields: list[str]) -> dict[str, Any]:
    user: dict[str, Any] = {"id": account.id, "name": account.name, "username": account.username}
    extra: dict[str, Any] = {
        "created_at": iso(account.created_at, ms=True),
        "description": f"{account.name} on the SocialSeed sandbox",
        "profile_image_url": f"https://pbs.twimg.com/profile_images/{account.id}/avatar_normal.jpg",
        "verified": False,
        "protected": False,
        "public_metrics": {
            "followers_count": metrics.followers(state, account),
            "following_count": metrics.following(state, account),
            "tweet_count": len(state.posts_of(NAME, account.id)),
            "listed_count": 0,
            "like_count": 0,
        },
    }
    user.update({f: extra[f] for f in fields if f in extra})
    return user


@router.get("/2/users/me")
async def users_me(request: Request) -> Response:
    state = sandbox(request)
    who = caller(request, "users/me", "users.read")
    fields = split_list(request.query_params.get("user.fields"))
    return json_response({"data": user_json(state, who.account, fields)}, headers=who.headers)


# media upload v2 --------------------------------------------------------------------------
def media_category(media_type: str, category: str | None) -> str:
    if category:
        return category
    if media_type == "image/gif":
        return "tweet_gif"
    return "tweet_video" if media_type.startswith("video/") else "tweet_image"


# What a failed processing reports (a ``fail_processing`` fault on the finalize call).
PROCESSING_ERROR = {
    "code": 1,
    "name": "InvalidMedia",
    "message": "Invalid or Unsupported media, Reason: UnsupportedMedia.",
}


def processing_info(state: SandboxState, media: dict[str, Any]) -> dict[str, Any] | None:
    if media.get("failed"):
        return {"state": "failed", "progress_percent": 100, "error": media["failed"]}
    if media["category"] == "tweet_image":
        return None  # images need no processing
    left = media["finalized_at"] + state.settings.processing_seconds - state.clock.now()
    if left <= 0:
        return {"state": "succeeded", "progress_percent": 100}
    elapsed = state.settings.processing_seconds - left
    percent = int(100 * elapsed / max(1, state.settings.processing_seconds))
    return {
        "state": "in_progress" if percent else "pending",
        "check_after_secs": max(1, int(left)),
        "progress_percent": percent,
    }


def media_json(state: SandboxState, media: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": media["id"],
        "media_key": media["media_key"],
        "size": media["received"],
        "expires_after_secs": max(0, int(media["expires_at"] - state.clock.now())),
    }
    info = processing_info(state, media) if media.get("finalized_at") else None
    if info:
        body["processing_info"] = info
    return body


def owned_media(request: Request, who: Caller, media_id: str) -> dict[str, Any]:
    media = sandbox(request).get(NAME, "media", media_id)
    if media is None or media["account_id"] != who.account.id:
        raise Reject(invalid_request(f"Invalid media id {media_id}", "media_id"))
    return media


def new_media(
    state: SandboxState, who: Caller, media_type: str, total: int, category: str | None
) -> dict[str, Any]:
    category = media_category(media_type, category)
    if category not in MEDIA_LIMITS:
        raise Reject(invalid_request("Invalid media_category", "media_category"))
    if total <= 0 or total > MEDIA_LIMITS[category]:
        raise Reject(invalid_request("File size exceeds the limit for this media", "total_bytes"))
    number = state.ids.next("x:media")
    media_id = str(1_950_000_000_000_000_000 + number)
    prefix = {"tweet_image": "3", "tweet_gif": "16", "tweet_video": "7"}[category]
    return state.put(
        NAME,
        "media",
        media_id,
        {
            "id": media_id,
            "media_key": f"{prefix}_{media_id}",
            "media_type": media_type,
            "category": category,
            "total_bytes": total,
            "received": 0,
            "segments": {},
            "head": b"",
            "account_id": who.account.id,
            "expires_at": state.clock.now() + DAY,
            "finalized_at": None,
        },
    )


def finalize_media(request: Request, media: dict[str, Any]) -> None:
    state = sandbox(request)
    if media["received"] != media["total_bytes"]:
        raise Reject(invalid_request("File size does not match total_bytes", "media_id"))
    found = sniff(media["head"], media["received"])
    expected = "video" if media["category"] == "tweet_video" else "image"
    if found.kind != expected or (media["category"] == "tweet_gif") != (found.format == "gif"):
        raise Reject(invalid_request("Media type unrecognized.", "media_id"))
    media["format"] = found.format
    media["finalized_at"] = state.clock.now()
    if request.scope.get("sandbox.fail_processing"):
        media["failed"] = PROCESSING_ERROR


async def media_upload_form(request: Request) -> tuple[dict[str, str], bytes | None]:
    form = await request.form()
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    upload = form.get("media")
    data = None if upload is None or isinstance(upload, str) else await upload.read()
    return fields, data


@router.post("/2/media/upload/initialize")
async def media_initialize(request: Request) -> Response:
    state = sandbox(request)
    who = caller(request, "media/upload", "media.write")
    body = await json_body(request, invalid_request)
    total = body.get("total_bytes")
    if not isinstance(total, int) or not isinstance(body.get("media_type"), str):
        return invalid_request("media_type and total_bytes are required", "total_bytes")
    media = new_media(state, who, body["media_type"], total, body.get("media_category"))
    return json_response({"data": media_json(state, media)}, headers=who.headers)


@router.post("/2/media/upload/{media_id}/append")
async def media_append(request: Request, media_id: str) -> Response:
    who = caller(request, "media/upload", "media.write")
    media = owned_media(request, who, media_id)
    fields, data = await media_upload_form(request)
    index = fields.get("segment_index", "")
    if data is None or not index.isdigit():
        return invalid_request("media and segment_index are required", "segment_index")
    if media["finalized_at"]:
        return invalid_request("Media already finalized", "media_id")
    previous = media["segments"].get(int(index), 0)
    media["segments"][int(index)] = len(data)
    media["received"] += len(data) - previous
    if int(index) == 0:
        media["head"] = data[:64]
    return json_response({"data": {"expires_at": int(media["expires_at"])}}, headers=who.headers)


@router.post("/2/media/upload/{media_id}/finalize")
async def media_finalize(request: Request, media_id: str) -> Response:
    state = sandbox(request)
    who = caller(request, "media/upload", "media.write")
    media = owned_media(request, who, media_id)
    finalize_media(request, media)
    return json_response({"data": media_json(state, media)}, headers=who.headers)


@router.get("/2/media/upload")
async def media_status(request: Request) -> Response:
    state = sandbox(request)
    who = caller(request, "media/upload/status", "media.write")
    if request.query_params.get("command", "STATUS") != "STATUS":
        return invalid_request("command must be STATUS", "command")
    media = owned_media(request, who, request.query_params.get("media_id", ""))
    return json_response({"data": media_json(state, media)}, headers=who.headers)


@router.post("/2/media/upload")
async def media_simple_upload(request: Request) -> Response:
    """One-shot upload (images): multipart ``media`` + ``media_category``."""
    state = sandbox(request)
    who = caller(request, "media/upload", "media.write")
    fields, data = await media_upload_form(request)
    if data is None:
        return invalid_request("media is required", "media")
    found = sniff(data)
    media = new_media(state, who, fields.get("media_type", found.mime), len(data), None)
    media["received"], media["head"] = len(data), data[:64]
    finalize_media(request, media)
    return json_response({"data": media_json(state, media)}, headers=who.headers)


@router.post("/2/media/metadata")
async def media_metadata(request: Request) -> Response:
    """Alt text of an image or GIF (``{"id", "metadata": {"alt_text": {"text"}}}``), at most
    1,000 characters; the tweets that use the media carry it."""
    who = caller(request, "media/metadata", "media.write")
    body = await json_body(request, invalid_request)
    media = owned_media(request, who, str(body.get("id") or ""))
    alt = ((body.get("metadata") or {}).get("alt_text") or {}).get("text")
    if not isinstance(alt, str) or not alt:
        return invalid_request("metadata.alt_text.text is required", "metadata.alt_text.text")
    if len(alt) > MAX_ALT_TEXT:
        return invalid_request(
            f"alt_text must be at most {MAX_ALT_TEXT} characters", "metadata.alt_text.text"
        )
    if media["category"] == "tweet_video":
        return invalid_request("Alt text is supported on images and GIFs", "id")
    media["alt_text"] = alt
    data = {"id": media["id"], "associated_metadata": {"alt_text": {"text": alt}}}
    return json_response({"data": data}, headers=who.headers)


# tweets -----------------------------------------------------------------------------------
def check_media_ids(state: SandboxState, who: Caller, media_ids: list[Any]) -> list[dict[str, Any]]:
    if len(media_ids) > 4:
        raise Reject(invalid_request("Up to 4 media ids are allowed", "media.media_ids"))
    found = []
    for media_id in media_ids:
        media = state.get(NAME, "media", str(media_id))
        if media is None or media["account_id"] != who.account.id:
            raise Reject(invalid_request(f"Media id {media_id} not found", "media.media_ids"))
        info = processing_info(state, media) if media["finalized_at"] else {"state": "pending"}
        if info is not None and info["state"] != "succeeded":
            raise Reject(invalid_request(f"Media id {media_id} is not ready", "media.media_ids"))
        found.append(media)
    categories = {m["category"] for m in found}
    if len(found) > 1 and categories != {"tweet_image"}:
        raise Reject(invalid_request("4 photos, or 1 GIF, or 1 video per post", "media.media_ids"))
    return found


def daily_caps(state: SandboxState, account_id: str) -> tuple[Usage, Usage]:
    now, settings = state.clock.now(), state.settings
    user = state.limits.sliding(
        (NAME, "tweets-24h", account_id), settings.x_tweets_per_day_user, DAY, now
    )
    if not user.allowed:
        return user, Usage(0, settings.x_tweets_per_day_app, now + DAY, True)
    app = state.limits.sliding((NAME, "tweets-24h-app"), settings.x_tweets_per_day_app, DAY, now)
    return user, app


def thread_data(parent: Post | None, new_id: str) -> dict[str, Any]:
    """A reply joins its parent's conversation; any other tweet starts its own."""
    if parent is None:
        return {"reply_to": None, "conversation_id": new_id}
    return {
        "reply_to": parent.id,
        "reply_to_user": parent.account_id,
        "conversation_id": parent.data.get("conversation_id", parent.id),
    }


@router.post("/2/tweets")
async def create_tweet(request: Request) -> Response:
    state = sandbox(request)
    who = caller(request, "POST tweets", "tweet.write")
    body = await json_body(request, invalid_request)
    text = body.get("text") or ""
    media_ids = (body.get("media") or {}).get("media_ids") or []
    if not isinstance(text, str) or weighted_length(text) > MAX_WEIGHTED_LENGTH:
        return invalid_request("Your Tweet text is too long.", "text")
    if not text and not media_ids:
        return invalid_request("Either text or media is required.", "text")
    media = check_media_ids(state, who, media_ids)
    reply_to = (body.get("reply") or {}).get("in_reply_to_tweet_id")
    parent = state.post(NAME, str(reply_to)) if reply_to else None
    if reply_to and parent is None:
        return problem(
            403, "Forbidden", "You attempted to reply to a Tweet that is deleted or not visible."
        )
    since = state.clock.now() - state.settings.x_duplicate_window
    if text and state.same_text_since(NAME, who.account.id, text, since):
        return problem(
            403, "Forbidden", "You are not allowed to create a Tweet with duplicate content."
        )
    user_day, app_day = daily_caps(state, who.account.id)
    headers = {
        **who.headers,
        "x-user-limit-24hour-limit": str(user_day.limit),
        "x-user-limit-24hour-remaining": str(user_day.remaining),
        "x-user-limit-24hour-reset": str(int(user_day.reset_at)),
        "x-app-limit-24hour-limit": str(app_day.limit),
        "x-app-limit-24hour-remaining": str(app_day.remaining),
        "x-app-limit-24hour-reset": str(int(app_day.reset_at)),
    }
    if not (user_day.allowed and app_day.allowed):
        return too_many(headers)
    new_id = tweet_id(state, state.clock.now())
    post = state.add_post(
        Post(
            platform=NAME,
            id=new_id,
            account_id=who.account.id,
            text=text,
            media=[
                {
                    "media_id": m["id"],
                    "media_key": m["media_key"],
                    "kind": m["category"],
                    "format": m.get("format"),
                    "size": m["total_bytes"],
                    **({"alt_text": m["alt_text"]} if m.get("alt_text") else {}),
                }
                for m in media
            ],
            created_at=state.clock.now(),
            request=request_record(request, body),
            data=thread_data(parent, new_id),
        )
    )
    data = {"id": post.id, "text": post.text, "edit_history_tweet_ids": [post.id]}
    return json_response({"data": data}, 201, headers)


@router.delete("/2/tweets/{tweet_id}")
async def delete_tweet(request: Request, tweet_id: str) -> Response:
    state = sandbox(request)
    who = caller(request, "DELETE tweets", "tweet.write")
    post = state.post(NAME, tweet_id)
    if post is None or post.account_id != who.account.id:
        return problem(403, "Forbidden", "You are not allowed to delete this Tweet.")
    post.deleted = True
    return json_response({"data": {"deleted": True}}, headers=who.headers)


def public_metrics(state: SandboxState, post: Post) -> dict[str, int]:
    c = metrics.post_counts(state, post)
    return {
        "retweet_count": c.shares,
        "reply_count": c.comments,
        "like_count": c.likes,
        "quote_count": c.quotes,
        "bookmark_count": c.saves,
        "impression_count": c.views,
    }


def private_metrics(state: SandboxState, post: Post) -> dict[str, dict[str, int]]:
    c = metrics.post_counts(state, post)
    return {
        "non_public_metrics": {
            "impression_count": c.views,
            "url_link_clicks": c.clicks,
            "user_profile_clicks": c.profile_visits,
        },
        "organic_metrics": {
            "impression_count": c.views,
            "like_count": c.likes,
            "reply_count": c.comments,
            "retweet_count": c.shares,
            "url_link_clicks": c.clicks,
            "user_profile_clicks": c.profile_visits,
        },
    }


def not_found(value: str, parameter: str = "ids") -> dict[str, Any]:
    return {
        "value": value,
        "detail": f"Could not find tweet with {parameter}: [{value}].",
        "title": "Not Found Error",
        "resource_type": "tweet",
        "parameter": parameter,
        "resource_id": value,
        "type": "https://api.twitter.com/2/problems/resource-not-found",
    }


def not_authorized_field(post_id: str, field: str) -> dict[str, Any]:
    return {
        "value": post_id,
        "detail": f"Sorry, you are not authorized to access '{field}' on the Tweet with ids: "
        f"[{post_id}].",
        "title": "Authorization Error",
        "resource_type": "tweet",
        "parameter": "tweet.fields",
        "resource_id": post_id,
        "section": "data",
        "field": field,
        "type": "https://api.twitter.com/2/problems/not-authorized-for-field",
    }


def thread_fields(post: Post, fields: list[str]) -> dict[str, Any]:
    """``conversation_id``, ``in_reply_to_user_id`` and ``referenced_tweets``, when asked for."""
    values: dict[str, Any] = {"conversation_id": post.data.get("conversation_id", post.id)}
    if post.data.get("reply_to"):
        values["in_reply_to_user_id"] = post.data["reply_to_user"]
        values["referenced_tweets"] = [{"type": "replied_to", "id": post.data["reply_to"]}]
    return {f: values[f] for f in fields if f in values}


def media_includes(posts: list[Post], expansions: Sequence[str]) -> list[dict[str, str]]:
    """``includes.media`` for ``expansions=attachments.media_keys``."""
    if "attachments.media_keys" not in expansions:
        return []
    kinds = {"tweet_image": "photo", "tweet_gif": "animated_gif", "tweet_video": "video"}
    return [
        {"media_key": m["media_key"], "type": kinds.get(m["kind"], "photo")}
        for post in posts
        for m in post.media
    ]


PRIVATE_FIELDS = ("non_public_metrics", "organic_metrics")


def private_allowed(state: SandboxState, post: Post, who: Caller) -> bool:
    """X shows private metrics only of the caller's own tweets of the last 30 days."""
    young = state.clock.now() - post.created_at < PRIVATE_METRICS_DAYS * DAY
    return post.account_id == who.account.id and young


def tweet_json(
    state: SandboxState,
    post: Post,
    fields: list[str],
    expansions: Sequence[str] = (),
) -> dict[str, Any]:
    tweet: dict[str, Any] = {
        "id": post.id,
        "text": post.text,
        "edit_history_tweet_ids": [post.id],
    }
    if "created_at" in fields:
        tweet["created_at"] = iso(post.created_at, ms=True)
    if "author_id" in fields:
        tweet["author_id"] = post.account_id
    tweet.update(thread_fields(post, fields))
    if post.media and ("attachments" in fields or "attachments.media_keys" in expansions):
        tweet["attachments"] = {"media_keys": [m["media_key"] for m in post.media]}
    if "public_metrics" in fields:
        tweet["public_metrics"] = public_metrics(state, post)
    private = [f for f in PRIVATE_FIELDS if f in fields]
    if private:
        values = private_metrics(state, post)
        tweet.update({f: values[f] for f in private})
    return tweet


def render_tweets(
    request: Request,
    who: Caller,
    posts: list[Post],
    errors: list[dict[str, Any]],
) -> dict[str, Any]:
    """``data``, ``includes`` and ``errors`` for tweets read with the request's ``tweet.fields``
    and ``expansions``; keys without content are left out, as X does.

    With private metrics asked for, X returns only the caller's own tweets of the last 30
    days: any other tweet is left out of ``data`` with a ``not-authorized-for-field`` error."""
    state, params = sandbox(request), request.query_params
    fields = split_list(params.get("tweet.fields"))
    expansions = split_list(params.get("expansions"))
    private = [f for f in PRIVATE_FIELDS if f in fields]
    if private:
        refused = [p for p in posts if not private_allowed(state, p, who)]
        posts = [p for p in posts if private_allowed(state, p, who)]
        errors.extend(not_authorized_field(p.id, f) for p in refused for f in private)
    body: dict[str, Any] = {}
    if posts:
        body["data"] = [tweet_json(state, p, fields, expansions) for p in posts]
    media = media_includes(posts, expansions)
    if media:
        body["includes"] = {"media": media}
    if errors:
        body["errors"] = errors
    return body


@router.get("/2/tweets")
async def lookup_tweets(request: Request) -> Response:
    state = sandbox(request)
    who = caller(request, "GET tweets", "tweet.read")
    ids = split_list(request.query_params.get("ids"))
    if not 1 <= len(ids) <= 100 or not all(i.isdigit() for i in ids):
        return invalid_request(
            "The `ids` query parameter value must be 1 to 100 numeric ids.", "ids"
        )
    found = [(value, state.post(NAME, value)) for value in ids]
    errors = [not_found(value) for value, post in found if post is None]
    posts = [post for _, post in found if post is not None]
    return json_response(render_tweets(request, who, posts, errors), headers=who.headers)


@router.get("/2/tweets/{tweet_id}")
async def get_tweet(request: Request, tweet_id: str) -> Response:
    state = sandbox(request)
    who = caller(request, "GET tweets/:id", "tweet.read")
    post = state.post(NAME, tweet_id)
    if post is None:
        return json_response({"errors": [not_found(tweet_id, "id")]}, headers=who.headers)
    body = render_tweets(request, who, [post], [])
    if "data" in body:
        body["data"] = body["data"][0]  # one tweet, not a list
    return json_response(body, headers=who.headers)


def parse_start_time(value: str) -> float | None:
    """``start_time`` is RFC 3339 with second granularity (``2026-12-02T01:00:00Z``)."""
    try:
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()
    except ValueError:
        return None


@router.get("/2/users/{user_id}/tweets")
async def user_tweets(request: Request, user_id: str) -> Response:
    """A user's timeline, newest first (for reconciling in-doubt publishes and backfills)."""
    state = sandbox(request)
    who = caller(request, "GET users/:id/tweets", "tweet.read")
    params = request.query_params
    max_results = int(params.get("max_results", "10"))
    if not 5 <= max_results <= 100:
        return invalid_request("max_results must be between 5 and 100", "max_results")
    since = parse_start_time(params["start_time"]) if params.get("start_time") else 0.0
    if since is None:
        return invalid_request("Invalid start_time: YYYY-MM-DDTHH:mm:ssZ", "start_time")
    fields = split_list(params.get("tweet.fields"))
    if user_id == who.account.id and any(f in PRIVATE_FIELDS for f in fields):
        # "The results will automatically adjust to only include Posts from the last 30 days."
        since = max(since, state.clock.now() - PRIVATE_METRICS_DAYS * DAY)
    posts = list(state.posts_since(NAME, user_id, since))
    start = int(params.get("pagination_token", "0") or 0)
    page = posts[start : start + max_results]
    meta: dict[str, Any] = {"result_count": len(page)}
    if page:
        meta.update(newest_id=page[0].id, oldest_id=page[-1].id)
    if start + max_results < len(posts):
        meta["next_token"] = str(start + max_results)
    body = render_tweets(request, who, page, []) | {"meta": meta}
    return json_response(body, headers=who.headers)


def truth(state: SandboxState, post: Post) -> dict[str, Any]:
    return {"public_metrics": public_metrics(state, post), **private_metrics(state, post)}


SPEC = PlatformSpec(NAME, router, rate_limited, server_error, truth, fault_rate_limited)
