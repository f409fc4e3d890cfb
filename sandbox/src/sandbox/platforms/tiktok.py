"""TikTok (Login Kit v2, Content Posting API, Display API).

Hosts under ``/tiktok``: ``www.tiktok.com`` (``/v2/auth/authorize/``), ``open.tiktokapis.com``
(``/v2/...``) and ``open-upload.tiktokapis.com`` (``/video/?upload_id&upload_token``). No path
collides: the upload host only serves ``/video/``.
"""

from __future__ import annotations

import math
import re
import secrets
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from sandbox import metrics, oauth
from sandbox.media import HEAD_BYTES, MB, FetchError, fetch, mp4_duration, sniff
from sandbox.platforms.base import DAY, PlatformSpec, add_person, seed_history
from sandbox.state import Account, Post, SandboxState, Token, TokenProblem, digits
from sandbox.web import (
    Reject,
    authenticate,
    base_url,
    form_params,
    json_body,
    json_response,
    log_id,
    request_record,
    sandbox,
    split_list,
)

NAME = "tiktok"
INT32_MAX = 2**31 - 1  # post_info integers are int32
router = APIRouter()
PRIVACY_LEVELS = ["PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "FOLLOWER_OF_CREATOR", "SELF_ONLY"]
MIN_CHUNK, MAX_CHUNK, MAX_LAST_CHUNK = 5 * MB, 64 * MB, 128 * MB
CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+)")
# Which scope unlocks which user/info field.
USER_FIELD_SCOPES = {
    "open_id": "user.info.basic",
    "union_id": "user.info.basic",
    "avatar_url": "user.info.basic",
    "avatar_url_100": "user.info.basic",
    "avatar_large_url": "user.info.basic",
    "display_name": "user.info.basic",
    "bio_description": "user.info.profile",
    "profile_deep_link": "user.info.profile",
    "is_verified": "user.info.profile",
    "username": "user.info.profile",
    "follower_count": "user.info.stats",
    "following_count": "user.info.stats",
    "likes_count": "user.info.stats",
    "video_count": "user.info.stats",
}


# envelopes ---------------------------------------------------------------------------------
def envelope(data: dict[str, Any], code: str = "ok", message: str = "") -> dict[str, Any]:
    return {"data": data, "error": {"code": code, "message": message, "log_id": log_id()}}


def ok(data: dict[str, Any]) -> Response:
    return json_response(envelope(data))


def fail(status: int, code: str, message: str) -> Response:
    return json_response(envelope({}, code, message), status)


def invalid_params(message: str) -> Response:
    return fail(400, "invalid_params", message)


def unauthorized(problem: TokenProblem) -> Response:
    if problem is TokenProblem.MISSING:
        return fail(401, "access_token_invalid", "The access token is not found in the request.")
    return fail(
        401, "access_token_invalid", "The access token is invalid or not found in the request."
    )


def scope_error(scope: str) -> Response:
    return fail(
        401,
        "scope_not_authorized",
        f"The user did not authorize the scope required for completing this request ({scope}).",
    )


def rate_limited() -> Response:
    # TikTok sends no rate-limit headers.
    return fail(429, "rate_limit_exceeded", "API rate limit exceeded, please retry later.")


def server_error(status: int) -> Response:
    return fail(status, "internal_error", "Something is wrong, please try again later.")


def oauth_error(error: str, description: str, status: int = 400) -> Response:
    return json_response(
        {"error": error, "error_description": description, "log_id": log_id()}, status
    )


# accounts ----------------------------------------------------------------------------------
def video_id(state: SandboxState) -> str:
    return str(7_300_000_000_000_000_000 + state.ids.next("tiktok:video") * 4_096)


def create_user(state: SandboxState, username: str) -> Account:
    account = add_person(
        state,
        NAME,
        username,
        "-000" + digits(f"tiktok:{username}", 24),
        union_id="c9" + digits(f"tiktok-union:{username}", 30),
    )
    seed_history(
        state,
        account,
        lambda _at: video_id(state),
        kind="video",
        data=lambda i: {"duration": 15 + i * 7, "privacy_level": "PUBLIC_TO_EVERYONE"},
    )
    return account


PROFILE = oauth.OAuthProfile(
    platform=NAME,
    title="TikTok",
    code_ttl=lambda s: s.settings.tiktok_code_ttl,
    create_user=create_user,
    denied=lambda st: [
        ("error", "access_denied"),
        ("error_description", "The user denied the authorization request"),
        *([("state", st)] if st is not None else []),
    ],
    client_param="client_key",
    scope_separator=",",
    invalid_client_page="Something went wrong. client_key: invalid",
    invalid_redirect_page="Something went wrong. redirect_uri: invalid",
    success_extra=lambda code: [("scopes", ",".join(code.scopes))],
)


def per_token_limit(request: Request, token: Token, name: str, limit: int) -> None:
    state = sandbox(request)
    usage = state.limits.sliding((NAME, name, token.value), limit, 60, state.clock.now())
    if not usage.allowed:
        raise Reject(rate_limited())


def per_client_limit(request: Request) -> None:
    state = sandbox(request)
    limit = state.settings.tiktok_client_limit_per_min
    if not state.limits.sliding((NAME, "client"), limit, 60, state.clock.now()).allowed:
        raise Reject(rate_limited())


def user_of(request: Request, token: Token) -> Account:
    account = sandbox(request).account(NAME, token.account_id)
    assert account is not None
    return account


# OAuth -------------------------------------------------------------------------------------
@router.api_route("/v2/auth/authorize/", methods=["GET", "POST"])
async def authorize(request: Request) -> Response:
    return await oauth.authorize(request, PROFILE)


CODE_ERRORS = {
    oauth.CodeProblem.EXPIRED: "Authorization code is expired.",
    oauth.CodeProblem.USED: "Authorization code has been used.",
    oauth.CodeProblem.REDIRECT_MISMATCH: "Redirect URI mismatch.",
    oauth.CodeProblem.VERIFIER_MISSING: "Code verifier is missing.",
    oauth.CodeProblem.VERIFIER_MISMATCH: "Code verifier is invalid.",
}


@router.post("/v2/oauth/token/")
async def token(request: Request) -> Response:
    state = sandbox(request)
    form = await form_params(request)
    if not oauth.client_auth(request, form, "client_key"):
        return oauth_error("invalid_client", "Client key or secret is incorrect.", 401)
    settings = state.settings
    grant_type = form.get("grant_type")
    if grant_type == "authorization_code":
        code = oauth.redeem_code(
            state, NAME, form.get("code"), None, form.get("redirect_uri"), form.get("code_verifier")
        )
        if isinstance(code, oauth.CodeProblem):
            return oauth_error(
                "invalid_grant", CODE_ERRORS.get(code, "Authorization code is invalid.")
            )
        scopes, account_id, grant = code.scopes, code.account_id, code.value
    elif grant_type == "refresh_token":
        old = oauth.use_refresh_token(state, NAME, form.get("refresh_token"))
        if isinstance(old, TokenProblem):
            return oauth_error("invalid_grant", "Refresh token is invalid or expired.")
        old.used = True  # rotating: the old refresh token stops working
        scopes, account_id, grant = old.scopes, old.account_id, old.grant_id
    else:
        return oauth_error("invalid_request", "grant_type is invalid.")
    pair = oauth.issue_tokens(
        state,
        NAME,
        account_id,
        scopes,
        grant,
        settings.tiktok_access_token_ttl,
        settings.tiktok_refresh_token_ttl,
        ("act.", "rft."),
    )
    assert pair.refresh is not None
    return json_response(
        {
            "access_token": pair.access.value,
            "expires_in": settings.tiktok_access_token_ttl,
            "open_id": account_id,
            "refresh_expires_in": settings.tiktok_refresh_token_ttl,
            "refresh_token": pair.refresh.value,
            "scope": ",".join(scopes),
            "token_type": "Bearer",
        }
    )


@router.post("/v2/oauth/revoke/")
async def revoke(request: Request) -> Response:
    form = await form_params(request)
    if not oauth.client_auth(request, form, "client_key"):
        return oauth_error("invalid_client", "Client key or secret is incorrect.", 401)
    oauth.revoke_any(sandbox(request), NAME, form.get("token"), "revoked")
    return json_response({})


# user info ---------------------------------------------------------------------------------
def user_fields(state: SandboxState, account: Account) -> dict[str, Any]:
    avatar = f"https://p16-sign.tiktokcdn.com/{account.id}~c5_168x168.jpeg"
    return {
        "open_id": account.id,
        "union_id": account.data["union_id"],
        "avatar_url": avatar,
        "avatar_url_100": avatar,
        "avatar_large_url": avatar,
        "display_name": account.name,
        "bio_description": "",
        "profile_deep_link": f"https://vm.tiktok.com/{account.username}",
        "is_verified": False,
        "username": account.username,
        "follower_count": metrics.followers(state, account),
        "following_count": metrics.following(state, account),
        "likes_count": sum(
            metrics.post_counts(state, p).likes for p in state.posts_of(NAME, account.id)
        ),
        "video_count": len(published(state, account.id)),
    }


@router.get("/v2/user/info/")
async def user_info(request: Request) -> Response:
    state = sandbox(request)
    token_ = authenticate(request, NAME, unauthorized)
    per_client_limit(request)
    fields = split_list(request.query_params.get("fields"))
    if not fields or any(f not in USER_FIELD_SCOPES for f in fields):
        return invalid_params("fields is missing or invalid")
    for field in fields:
        if USER_FIELD_SCOPES[field] not in token_.scopes:
            return scope_error(USER_FIELD_SCOPES[field])
    values = user_fields(state, user_of(request, token_))
    return ok({"user": {f: values[f] for f in fields}})


# publishing --------------------------------------------------------------------------------
def privacy_options(state: SandboxState, account_id: str) -> list[str]:
    options: list[str] = creator_settings(state, account_id)["privacy_level_options"]
    return options if state.settings.tiktok_audited else ["SELF_ONLY"]


class CreatorSettings(BaseModel):
    """What ``creator_info/query`` says of one creator (``PUT /_sandbox/tiktok/creators/{id}``);
    omitted fields keep their value."""

    comment_disabled: bool | None = None
    duet_disabled: bool | None = None
    stitch_disabled: bool | None = None
    max_video_post_duration_sec: int | None = Field(None, ge=1)
    privacy_level_options: list[str] | None = None


def creator_settings(state: SandboxState, account_id: str) -> dict[str, Any]:
    account = state.account(NAME, account_id)
    defaults = {
        "comment_disabled": False,
        "duet_disabled": False,
        "stitch_disabled": False,
        "max_video_post_duration_sec": state.settings.tiktok_max_video_post_duration_sec,
        "privacy_level_options": PRIVACY_LEVELS,
    }
    return defaults | (account.data.get("creator", {}) if account else {})


@router.post("/v2/post/publish/creator_info/query/")
async def creator_info(request: Request) -> Response:
    state = sandbox(request)
    token_ = authenticate(request, NAME, unauthorized, scope="video.publish", on_scope=scope_error)
    per_token_limit(request, token_, "creator_info", state.settings.tiktok_creator_info_per_min)
    account = user_of(request, token_)
    return ok(
        {
            "creator_avatar_url": user_fields(state, account)["avatar_url"],
            "creator_username": account.username,
            "creator_nickname": account.name,
            **creator_settings(state, account.id),
            "privacy_level_options": privacy_options(state, account.id),
        }
    )


def check_file_upload(source: dict[str, Any]) -> tuple[int, int, int]:
    size, chunk, count = (source.get(k) for k in ("video_size", "chunk_size", "total_chunk_count"))
    if not all(isinstance(v, int) and v > 0 for v in (size, chunk, count)):
        raise Reject(invalid_params("video_size, chunk_size and total_chunk_count are required"))
    assert isinstance(size, int) and isinstance(chunk, int) and isinstance(count, int)
    if size < MIN_CHUNK:
        if chunk != size or count != 1:
            raise Reject(invalid_params("Videos under 5 MB must be uploaded as a single chunk"))
    elif not MIN_CHUNK <= chunk <= MAX_CHUNK or count != size // chunk:
        raise Reject(invalid_params("The chunk_size or total_chunk_count is invalid"))
    elif size - chunk * (count - 1) > MAX_LAST_CHUNK:
        raise Reject(invalid_params("The final chunk may not exceed 128 MB"))
    return size, chunk, count


def verified_sources(state: SandboxState) -> dict[str, list[str]]:
    """The app's verified domains and URL prefixes: the settings', plus what the control API
    (``POST /_sandbox/tiktok/verified``) added."""
    found = state.get(NAME, "config", "verified")
    if found is None:
        settings = state.settings
        found = state.put(
            NAME,
            "config",
            "verified",
            {
                "domains": list(settings.tiktok_verified_domains),
                "url_prefixes": list(settings.tiktok_verified_url_prefixes),
            },
        )
    return found


def is_verified(state: SandboxState, url: str) -> bool:
    """A verified domain (or a subdomain of one) over HTTPS, or a verified URL prefix."""
    sources = verified_sources(state)
    if any(url.startswith(prefix) for prefix in sources["url_prefixes"]):
        return True
    parts = urlsplit(url)
    host = parts.hostname or ""
    return parts.scheme == "https" and any(
        host == d or host.endswith("." + d) for d in sources["domains"]
    )


def check_pull_url(state: SandboxState, url: Any) -> None:
    if not isinstance(url, str) or not is_verified(state, url):
        raise Reject(
            fail(403, "url_ownership_unverified", "The URL domain or prefix is not verified.")
        )


def check_caps(state: SandboxState, account: Account, inbox: bool, privacy: str | None) -> None:
    settings, now = state.settings, state.clock.now()
    if not settings.tiktok_audited:
        publishes = [p for p in state.objects_of(NAME, "publish") if p["created_at"] > now - DAY]
        if privacy not in (None, "SELF_ONLY"):
            raise Reject(
                fail(
                    403,
                    "unaudited_client_can_only_post_to_private_accounts",
                    "Unaudited clients can only post with SELF_ONLY privacy.",
                )
            )
        users = {p["account_id"] for p in publishes} | {account.id}
        if len(users) > settings.tiktok_unaudited_user_cap:
            # One of the errors TikTok sends with HTTP 200 and a non-ok code.
            raise Reject(
                json_response(
                    envelope({}, "reached_active_user_cap", "The daily active user cap is reached.")
                )
            )
    mine = [p for p in state.objects_of(NAME, "publish", account.id) if p["created_at"] > now - DAY]
    if inbox:
        pending = [p for p in mine if p["mode"] == "inbox"]
        if len(pending) >= settings.tiktok_max_pending_drafts:
            raise Reject(fail(403, "spam_risk_too_many_pending_share", "Too many pending drafts."))
    elif len([p for p in mine if p["mode"] == "direct"]) >= settings.tiktok_daily_post_cap:
        raise Reject(
            fail(403, "spam_risk_too_many_posts", "The user has reached the daily post cap.")
        )


async def init_publish(request: Request, inbox: bool, photo: bool = False) -> Response:
    state = sandbox(request)
    scope = "video.upload" if inbox else "video.publish"
    token_ = authenticate(request, NAME, unauthorized, scope=scope, on_scope=scope_error)
    per_token_limit(request, token_, "init", state.settings.tiktok_init_per_min)
    account = user_of(request, token_)
    body = await json_body(request, invalid_params)
    post_info = body.get("post_info") or {}
    source = body.get("source_info") or {}
    if photo:
        inbox = body.get("post_mode") == "MEDIA_UPLOAD"
        if body.get("media_type") != "PHOTO" or not 1 <= len(source.get("photo_images", [])) <= 35:
            return invalid_params("media_type PHOTO with 1 to 35 photo_images is required")
    title = post_info.get("title", "") or ""
    if len(title) > 2200:
        return invalid_params("The title exceeds 2200 characters")
    cover = post_info.get("video_cover_timestamp_ms")
    if cover is not None and (
        isinstance(cover, bool) or not isinstance(cover, int) or not 0 <= cover <= INT32_MAX
    ):
        return invalid_params("video_cover_timestamp_ms must be an int32 of at least 0")
    privacy = post_info.get("privacy_level")
    if not inbox and privacy not in privacy_options(state, account.id):
        return fail(400, "privacy_level_option_mismatch", "privacy_level is not in the options")
    check_caps(state, account, inbox, None if inbox else privacy)
    kind = source.get("source")
    if photo or kind == "PULL_FROM_URL":
        for url in source.get("photo_images", []) if photo else [source.get("video_url")]:
            check_pull_url(state, url)
    elif kind == "FILE_UPLOAD":
        size, chunk, count = check_file_upload(source)
    else:
        return invalid_params("source_info.source must be FILE_UPLOAD or PULL_FROM_URL")
    now = state.clock.now()
    prefix = "p_pub_url" if photo else ("v_inbox_file" if inbox else "v_pub_file")
    publish_id = f"{prefix}~v2-1.{state.ids.next('tiktok:publish', 7_300_000)}"
    publish: dict[str, Any] = {
        "publish_id": publish_id,
        "account_id": account.id,
        "mode": "inbox" if inbox else "direct",
        "photo": photo,
        "source": "PULL_FROM_URL" if photo else kind,
        "title": title,
        "privacy_level": privacy,
        "created_at": now,
        "completed_at": None,
        "received": 0,
        "head": b"",
        "fail_reason": None,
        "post_id": None,
        "request": request_record(request, body),
        "media": [{"url": u} for u in source.get("photo_images", [])] if photo else [],
    }
    data: dict[str, Any] = {"publish_id": publish_id}
    if publish["source"] == "FILE_UPLOAD":
        token_value = secrets.token_urlsafe(16)
        publish.update(video_size=size, chunk_size=chunk, chunk_count=count, token=token_value)
        publish["upload_expires_at"] = now + 3_600
        data["upload_url"] = (
            f"{base_url(request)}/tiktok/video/?upload_id={publish_id}&upload_token={token_value}"
        )
    else:
        publish["media"] = publish["media"] or [{"url": source.get("video_url")}]
        # TikTok downloads after answering: the status says PROCESSING_DOWNLOAD meanwhile.
        state.background(pull_media(state, publish))
    state.put(NAME, "publish", publish_id, publish)
    return ok(data)


async def pull_media(state: SandboxState, publish: dict[str, Any]) -> None:
    """PULL_FROM_URL: fetch every URL over HTTP (timeout and size cap from the settings), then
    check the files as an upload's; a URL that cannot be fetched fails the publish."""
    settings = state.settings
    found = []
    for item in publish["media"]:
        try:
            fetched = await fetch(
                item["url"], settings.tiktok_pull_max_bytes, settings.tiktok_pull_timeout_seconds
            )
        except FetchError as exc:
            publish["completed_at"] = state.clock.now()
            publish["fail_reason"] = (
                "photo_pull_failed" if publish["photo"] else "video_pull_failed"
            )
            publish["fail_detail"] = str(exc)
            return
        found.append((item, fetched))
        publish["downloaded"] = publish.get("downloaded", 0) + fetched.size
    publish["media"] = [{**item, **f.sniff().as_json()} for item, f in found]
    publish["head"] = found[0][1].head if found else b""
    complete_upload(state, publish, state.clock.now())


@router.post("/v2/post/publish/video/init/")
async def video_init(request: Request) -> Response:
    return await init_publish(request, inbox=False)


@router.post("/v2/post/publish/inbox/video/init/")
async def inbox_video_init(request: Request) -> Response:
    return await init_publish(request, inbox=True)


@router.post("/v2/post/publish/content/init/")
async def content_init(request: Request) -> Response:
    return await init_publish(request, inbox=False, photo=True)


def media_problem(state: SandboxState, publish: dict[str, Any]) -> str | None:
    """The fail_reason TikTok's checks of the received files give, if any."""
    if publish["photo"]:
        formats = {m.get("format") for m in publish["media"]}
        return None if formats <= {"jpeg", "webp"} else "file_format_check_failed"
    media = publish["media"][0]
    if media.get("kind") != "video" or media.get("format") not in ("mp4", "mov", "webm"):
        return "file_format_check_failed"
    duration = mp4_duration(publish["head"])
    if duration is not None:
        publish["duration"] = duration
        if duration > creator_settings(state, publish["account_id"])["max_video_post_duration_sec"]:
            return "duration_check_failed"
    return None


def complete_upload(state: SandboxState, publish: dict[str, Any], now: float) -> None:
    """All bytes are in: the post exists (TikTok has no idempotency: every init is a post)."""
    publish["completed_at"] = now
    if publish["source"] == "FILE_UPLOAD":
        publish["media"] = [sniff(publish["head"], publish["received"]).as_json()]
    publish["fail_reason"] = media_problem(state, publish)
    if publish["fail_reason"]:
        return
    if publish["mode"] == "inbox":
        return  # the creator finishes drafts in the app
    public_at = now + state.settings.processing_seconds
    post = Post(
        platform=NAME,
        id=video_id(state),
        account_id=publish["account_id"],
        text=publish["title"],
        media=publish["media"],
        created_at=public_at,
        kind="photo" if publish["photo"] else "video",
        request=publish["request"],
        data={
            "publish_id": publish["publish_id"],
            "privacy_level": publish["privacy_level"],
            "duration": round(publish.get("duration", 15)),
            "id_visible_at": public_at + state.settings.tiktok_moderation_seconds,
        },
    )
    state.add_post(post)
    publish["post_id"] = post.id


@router.put("/video/")
async def upload_chunk(request: Request) -> Response:
    state = sandbox(request)
    params = request.query_params
    publish = state.get(NAME, "publish", params.get("upload_id", ""))
    if publish is None or publish.get("token") != params.get("upload_token"):
        return json_response(
            {"error": {"code": "invalid_upload", "message": "Unknown upload"}}, 404
        )
    if state.clock.now() > publish["upload_expires_at"] or publish["completed_at"]:
        return json_response(
            {"error": {"code": "upload_expired", "message": "Upload URL expired"}}, 403
        )
    match = CONTENT_RANGE.fullmatch(request.headers.get("content-range", ""))
    data = await request.body()
    if match is None:
        return json_response(
            {"error": {"code": "invalid_range", "message": "Content-Range required"}}, 400
        )
    first, last, total = (int(g) for g in match.groups())
    chunk = publish["chunk_size"]
    # The remainder rides in the last chunk, so it may be up to twice chunk_size.
    is_last = first == chunk * (publish["chunk_count"] - 1)
    expected_len = total - first if is_last else chunk
    if (
        total != publish["video_size"]
        or first != publish["received"]
        or last - first + 1 != len(data)
        or len(data) != expected_len
    ):
        return json_response(
            {
                "error": {
                    "code": "invalid_range",
                    "message": "Chunks must be sent in order, "
                    "chunk_size bytes each, the remainder in the last chunk",
                }
            },
            416,
        )
    if first == 0:
        publish["head"] = data[:HEAD_BYTES]
    publish["received"] += len(data)
    if publish["received"] < total:
        return Response(status_code=206)
    complete_upload(state, publish, state.clock.now())
    return Response(status_code=201)


def publish_status(state: SandboxState, publish: dict[str, Any]) -> dict[str, Any]:
    now = state.clock.now()
    status: dict[str, Any] = {
        "status": "PROCESSING_UPLOAD",
        "uploaded_bytes": publish["received"],
        "downloaded_bytes": 0,
    }
    if publish["source"] == "PULL_FROM_URL":
        status.update(status="PROCESSING_DOWNLOAD", uploaded_bytes=0)
    done = publish["completed_at"]
    if done is None:
        return status
    if publish["source"] == "PULL_FROM_URL":
        status["downloaded_bytes"] = publish.get("downloaded", 0)
    if publish["fail_reason"]:
        status.update(status="FAILED", fail_reason=publish["fail_reason"])
        return status
    if now < done + state.settings.processing_seconds:
        return status
    if publish["mode"] == "inbox":
        status["status"] = "SEND_TO_USER_INBOX"
        return status
    status["status"] = "PUBLISH_COMPLETE"
    post = state.post(NAME, publish["post_id"])
    visible = post is not None and now >= post.data["id_visible_at"]
    # Private posts never get a public id; others only after moderation.
    public = visible and publish["privacy_level"] != "SELF_ONLY"
    status["publicaly_available_post_id"] = [int(publish["post_id"])] if public else []
    return status


@router.post("/v2/post/publish/status/fetch/")
async def status_fetch(request: Request) -> Response:
    state = sandbox(request)
    token_ = authenticate(request, NAME, unauthorized)
    per_token_limit(request, token_, "status", state.settings.tiktok_status_per_min)
    body = await json_body(request, invalid_params)
    publish = state.get(NAME, "publish", str(body.get("publish_id", "")))
    if publish is None or publish["account_id"] != token_.account_id:
        return invalid_params("publish_id is invalid")
    return ok(publish_status(state, publish))


# display API -------------------------------------------------------------------------------
def published(state: SandboxState, account_id: str) -> list[Post]:
    now = state.clock.now()
    return [
        p
        for p in state.posts_of(NAME, account_id)
        if p.created_at <= now and p.data.get("privacy_level") != "SELF_ONLY"
    ]


def video_json(state: SandboxState, post: Post, fields: list[str]) -> dict[str, Any]:
    c = metrics.post_counts(state, post)
    account = state.account(NAME, post.account_id)
    handle = account.username if account else "user"
    values: dict[str, Any] = {
        "id": post.id,
        "create_time": math.floor(post.created_at),
        "title": post.text,
        "video_description": post.text,
        "share_url": f"https://www.tiktok.com/@{handle}/video/{post.id}",
        "embed_link": f"https://www.tiktok.com/player/v1/{post.id}",
        "cover_image_url": f"https://p16-sign.tiktokcdn.com/obj/{post.id}.jpeg",
        "duration": post.data.get("duration", 15),
        "height": 1920,
        "width": 1080,
        "view_count": c.views,
        "like_count": c.likes,
        "comment_count": c.comments,
        "share_count": c.shares,
    }
    return {f: values[f] for f in fields if f in values}


def video_fields(request: Request) -> list[str]:
    fields = split_list(request.query_params.get("fields"))
    if not fields:
        raise Reject(invalid_params("fields is required"))
    return fields


@router.post("/v2/video/list/")
async def video_list(request: Request) -> Response:
    state = sandbox(request)
    token_ = authenticate(request, NAME, unauthorized, scope="video.list", on_scope=scope_error)
    per_client_limit(request)
    fields = video_fields(request)
    body = await json_body(request, invalid_params)
    max_count = body.get("max_count", 10)
    if not isinstance(max_count, int) or not 1 <= max_count <= 20:
        return invalid_params("max_count must be between 1 and 20")
    cursor = body.get("cursor")
    videos = published(state, token_.account_id)
    if cursor:
        videos = [v for v in videos if v.created_at * 1000 < int(cursor)]
    page = videos[:max_count]
    next_cursor = math.floor(page[-1].created_at * 1000) if page else int(cursor or 0)
    return ok(
        {
            "videos": [video_json(state, v, fields) for v in page],
            "cursor": next_cursor,
            "has_more": len(videos) > max_count,
        }
    )


@router.post("/v2/video/query/")
async def video_query(request: Request) -> Response:
    state = sandbox(request)
    token_ = authenticate(request, NAME, unauthorized, scope="video.list", on_scope=scope_error)
    per_client_limit(request)
    fields = video_fields(request)
    body = await json_body(request, invalid_params)
    ids = (body.get("filters") or {}).get("video_ids") or []
    if not isinstance(ids, list) or not 1 <= len(ids) <= 20:
        return invalid_params("filters.video_ids must hold 1 to 20 ids")
    mine = {p.id: p for p in published(state, token_.account_id)}
    videos = [video_json(state, mine[str(i)], fields) for i in ids if str(i) in mine]
    return ok({"videos": videos, "cursor": 0, "has_more": False})


# control API --------------------------------------------------------------------------------
control = APIRouter(prefix="/_sandbox/tiktok", tags=["control"])


class VerifiedSources(BaseModel):
    domains: list[str] = Field([], description="domains verified for PULL_FROM_URL (HTTPS)")
    url_prefixes: list[str] = Field([], description="URL prefixes verified for PULL_FROM_URL")


@control.get("/verified")
async def get_verified(request: Request) -> dict[str, list[str]]:
    return verified_sources(sandbox(request))


@control.post("/verified")
async def add_verified(request: Request, body: VerifiedSources) -> dict[str, list[str]]:
    """Verify more domains or URL prefixes (as in the developer portal)."""
    sources = verified_sources(sandbox(request))
    sources["domains"] += [d for d in body.domains if d not in sources["domains"]]
    sources["url_prefixes"] += [p for p in body.url_prefixes if p not in sources["url_prefixes"]]
    return sources


@control.put("/creators/{account}")
async def set_creator(request: Request, account: str, body: CreatorSettings) -> Response:
    """Set what ``creator_info/query`` answers for one creator (open_id or username)."""
    state = sandbox(request)
    found = state.account(NAME, account) or state.user_by_name(NAME, account)
    if found is None:
        return json_response({"error": "NotFound", "detail": "no such TikTok account"}, 404)
    found.data["creator"] = found.data.get("creator", {}) | body.model_dump(exclude_none=True)
    return json_response(creator_settings(state, found.id))


def truth(state: SandboxState, post: Post) -> dict[str, Any]:
    fields = ["view_count", "like_count", "comment_count", "share_count"]
    return video_json(state, post, fields)


SPEC = PlatformSpec(NAME, router, rate_limited, server_error, truth)
