"""Instagram API with Instagram Login (host graph.instagram.com).

Hosts under ``/instagram``: ``www.instagram.com`` (``/oauth/authorize``), ``api.instagram.com``
(``/oauth/access_token``) and ``graph.instagram.com`` (``[/v21.0]/access_token``,
``/refresh_access_token``, ``/me``, ``/{ig-user-id}/media``...). The Graph catch-all only accepts
numeric node ids and ``me``, so ``/oauth/*`` (fixed routes, matched first) never reaches it.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from sandbox import metrics, oauth
from sandbox.media import FetchError, fetch
from sandbox.platforms import graph
from sandbox.platforms.base import (
    DAY,
    PlatformSpec,
    add_person,
    meta_time,
    seed_history,
)
from sandbox.platforms.graph import GraphCall
from sandbox.state import Account, Post, SandboxState, Token, digits
from sandbox.web import Reject, form_params, json_response, request_record, sandbox

NAME = "instagram"
router = APIRouter()
DEPRECATED = ("impressions", "plays", "video_views", "clips_replays_count")
COMMON_METRICS = ("views", "reach", "likes", "comments", "shares", "saved", "total_interactions")
MEDIA_METRICS = {
    "FEED": (*COMMON_METRICS, "profile_visits", "follows"),
    "REELS": (*COMMON_METRICS, "ig_reels_avg_watch_time", "ig_reels_video_view_total_time"),
    "STORY": ("views", "reach", "shares", "total_interactions", "follows", "profile_visits"),
}
ACCOUNT_METRICS = ("reach", "views", "likes", "comments", "shares", "saves", "total_interactions")
MAX_CAROUSEL = 10


def server_error(status: int) -> Response:
    return graph.error(
        "An unexpected error has occurred. Please retry your request later.",
        2,
        status=status,
        is_transient=True,
    )


def rate_limited() -> Response:
    return graph.error(
        "There have been too many calls to this Instagram account. Wait a bit and try again.",
        80002,
    )


def oauth_error(message: str) -> Response:
    """api.instagram.com's older flat error shape."""
    return json_response(
        {"error_type": "OAuthException", "code": 400, "error_message": message}, 400
    )


def media_id(state: SandboxState) -> str:
    return str(17_900_000_000_000_000 + state.ids.next("instagram:media"))


def shortcode(post_id: str) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    number, code = int(post_id), ""
    while number:
        number, rest = divmod(number, 64)
        code = alphabet[rest] + code
    return code


def create_user(state: SandboxState, username: str) -> Account:
    account = add_person(state, NAME, username, "178414" + digits(f"instagram:{username}", 11))
    seed_history(
        state,
        account,
        lambda _at: media_id(state),
        data=lambda i: {
            "media_type": "VIDEO" if i % 2 else "IMAGE",
            "media_product_type": "REELS" if i % 2 else "FEED",
        },
    )
    return account


PROFILE = oauth.OAuthProfile(
    platform=NAME,
    title="Instagram",
    code_ttl=lambda s: s.settings.instagram_code_ttl,
    create_user=create_user,
    denied=lambda st: [
        ("error", "access_denied"),
        ("error_reason", "user_denied"),
        ("error_description", "The user denied your request."),
        *([("state", st)] if st is not None else []),
    ],
    scope_separator=",",
    invalid_client_page="Invalid Request: Request parameters are invalid: Invalid platform app",
    invalid_redirect_page="Invalid Request: Request parameters are invalid: Invalid redirect_uri",
    fragment="#_",
)


# OAuth -------------------------------------------------------------------------------------
@router.api_route("/oauth/authorize", methods=["GET", "POST"])
async def authorize(request: Request) -> Response:
    return await oauth.authorize(request, PROFILE)


CODE_ERRORS = {
    oauth.CodeProblem.USED: "This authorization code has been used",
    oauth.CodeProblem.EXPIRED: "This authorization code has expired",
    oauth.CodeProblem.REDIRECT_MISMATCH: "Error validating verification code. Please make sure "
    "your redirect_uri is identical to the one you used in the OAuth dialog request",
}


@router.post("/oauth/access_token")
async def code_exchange(request: Request) -> Response:
    """api.instagram.com: code -> short-lived (1 h) token."""
    state = sandbox(request)
    form = await form_params(request)
    if form.get("client_id") != state.settings.client_id:
        return oauth_error("Invalid platform app")
    if form.get("client_secret") != state.settings.client_secret:
        return oauth_error("Error validating client secret.")
    if form.get("grant_type") != "authorization_code":
        return oauth_error("Invalid grant_type")
    code = oauth.redeem_code(state, NAME, form.get("code"), None, form.get("redirect_uri"), None)
    if isinstance(code, oauth.CodeProblem):
        return oauth_error(CODE_ERRORS.get(code, "Invalid authorization code"))
    access = state.tokens.issue(
        NAME,
        "access",
        code.account_id,
        code.scopes,
        state.settings.instagram_short_token_ttl,
        code.value,
        "IGAA",
        long_lived=False,
    )
    return json_response(
        {
            "data": [
                {
                    "access_token": access.value,
                    "user_id": code.account_id,
                    "permissions": ",".join(code.scopes),
                }
            ]
        }
    )


def long_lived(call: GraphCall, source: Token) -> Response:
    token = call.state.tokens.issue(
        NAME,
        "access",
        source.account_id,
        source.scopes,
        call.state.settings.instagram_access_token_ttl,
        source.grant_id,
        "IGAA",
        long_lived=True,
    )
    body: dict[str, Any] = {
        "access_token": token.value,
        "token_type": "bearer",
        "expires_in": call.state.settings.instagram_access_token_ttl,
    }
    if call.segments[0] == "refresh_access_token":
        body["permissions"] = ",".join(source.scopes)
    return json_response(body)


async def exchange_token(call: GraphCall) -> Response:
    """``GET /access_token?grant_type=ig_exchange_token``: short-lived -> 60 days."""
    if call.params.get("grant_type") != "ig_exchange_token":
        return graph.invalid_param("grant_type must be ig_exchange_token")
    if call.params.get("client_secret") != call.state.settings.client_secret:
        return graph.error("Error validating client secret.", 1)
    return long_lived(call, graph.authenticate(call, NAME))


async def refresh_token(call: GraphCall) -> Response:
    """``GET /refresh_access_token``: only long-lived tokens at least 24 h old and unexpired."""
    if call.params.get("grant_type") != "ig_refresh_token":
        return graph.invalid_param("grant_type must be ig_refresh_token")
    token = graph.authenticate(call, NAME)
    if not token.data.get("long_lived"):
        return graph.error("Only long-lived access tokens can be refreshed.", 190, 467)
    if call.state.clock.now() - token.issued_at < DAY:
        return graph.invalid_param(
            "The access token can only be refreshed after it is at least 24 hours old."
        )
    return long_lived(call, token)


# nodes -------------------------------------------------------------------------------------
def me_json(state: SandboxState, account: Account, fields: list[str]) -> dict[str, Any]:
    values: dict[str, Any] = {
        "id": account.id,
        "user_id": account.id,
        "username": account.username,
        "name": account.name,
        "account_type": "BUSINESS",
        "profile_picture_url": f"https://scontent.cdninstagram.com/{account.id}.jpg",
        "followers_count": metrics.followers(state, account),
        "follows_count": metrics.following(state, account),
        "media_count": len(state.posts_of(NAME, account.id)),
    }
    return {"id": account.id} | {f: values[f] for f in fields if f in values}


def media_json(state: SandboxState, post: Post, fields: list[str]) -> dict[str, Any]:
    c = metrics.post_counts(state, post)
    reel = post.data.get("media_product_type") == "REELS"
    values: dict[str, Any] = {
        "id": post.id,
        "caption": post.text,
        "media_type": post.data.get("media_type", "IMAGE"),
        "media_product_type": post.data.get("media_product_type", "FEED"),
        "permalink": f"https://www.instagram.com/{'reel' if reel else 'p'}/{shortcode(post.id)}/",
        "shortcode": shortcode(post.id),
        "timestamp": meta_time(post.created_at),
        "like_count": c.likes,
        "comments_count": c.comments,
        "username": (state.account(NAME, post.account_id) or Account("", "", "", "", 0)).username,
        "is_comment_enabled": True,
    }
    return {"id": post.id} | {f: values[f] for f in fields if f in values}


def container_status(state: SandboxState, container: dict[str, Any]) -> tuple[str, str]:
    now = state.clock.now()
    if container["published_id"]:
        return "PUBLISHED", "Published: Media has been published."
    if container["error"]:
        return "ERROR", f"Error: {container['error']}"
    if now >= container["created_at"] + DAY:
        return "EXPIRED", "Expired: The container was not published within 24 hours."
    inherited = children_status(state, container)
    if inherited is not None:
        return inherited
    if now < container["ready_at"]:
        return "IN_PROGRESS", "In Progress: Media is still being processed."
    return "FINISHED", "Finished: Media has been uploaded and it is ready to be published."


def children_status(state: SandboxState, carousel: dict[str, Any]) -> tuple[str, str] | None:
    """A carousel is no further than its children: a failed or expired child fails it, an
    unfinished one keeps it IN_PROGRESS (None when every child is FINISHED)."""
    statuses = [
        (child_id, container_status(state, child))
        for child_id in carousel.get("children", [])
        if (child := state.get(NAME, "container", child_id)) is not None
    ]
    for child_id, (code, _) in statuses:
        if code in ("ERROR", "EXPIRED"):
            return "ERROR", f"Error: The carousel item {child_id} is {code}."
    if any(code == "IN_PROGRESS" for _, (code, _) in statuses):
        return "IN_PROGRESS", "In Progress: A carousel item is still being processed."
    return None


def rate_limit(call: GraphCall, token: Token) -> None:
    """Instagram Platform calls fall under Business Use Case limits only (code 80002)."""
    state = call.state
    now = state.clock.now()
    call.token = token
    call.endpoint_limits = state.settings.instagram_endpoint_calls_per_hour
    usage = state.limits.sliding(
        (NAME, "buc", token.account_id), state.settings.meta_instagram_calls_per_hour, 3_600, now
    )
    call.headers = graph.business_usage(token.account_id, "instagram", usage, now)
    if not usage.allowed:
        raise Reject(graph.with_headers(rate_limited(), call.headers))


async def create_container(call: GraphCall, account: Account) -> Response:
    state, p = call.state, call.params
    now = state.clock.now()
    recent = [
        c for c in state.objects_of(NAME, "container", account.id) if c["created_at"] > now - DAY
    ]
    if len(recent) >= state.settings.instagram_container_cap:
        return graph.error("Application request limit reached", 9, 2207042)
    caption = p.get("caption", "")
    if len(caption) > 2200:
        return graph.invalid_param("The caption is too long (2200 characters at most).")
    media_type = p.get("media_type", "IMAGE").upper()
    is_carousel_item = p.get("is_carousel_item") == "true"
    if media_type == "VIDEO" and not is_carousel_item:
        # Gone since 2023-11-09 for feed videos (carousel items still say VIDEO).
        return graph.invalid_param(
            "The VIDEO media type is no longer supported. Use media_type=REELS to publish a "
            "video to the feed."
        )
    children = [c for c in p.get("children", "").split(",") if c]
    alt_text = p.get("alt_text")
    if alt_text is not None and (media_type != "IMAGE" or not p.get("image_url")):
        # Instagram describes feed images only (single or carousel items), not reels or stories.
        return graph.invalid_param("The parameter alt_text is only supported for image posts.")
    media: list[dict[str, Any]] = []
    error = None
    if media_type == "CAROUSEL":
        if not 2 <= len(children) <= MAX_CAROUSEL:
            return graph.invalid_param(f"A carousel needs 2 to {MAX_CAROUSEL} children.")
        for child_id in children:
            child = state.get(NAME, "container", child_id)
            if child is None or not child["is_carousel_item"]:
                return graph.invalid_param(f"Invalid child container {child_id}")
            media.extend(child["media"])
    elif media_type in ("IMAGE", "REELS", "STORIES", "VIDEO"):
        url = p.get("video_url") if media_type != "IMAGE" else p.get("image_url")
        if media_type == "STORIES" and p.get("image_url"):
            url = p.get("image_url")
        if not url:
            return graph.invalid_param("The parameter image_url or video_url is required.")
        try:
            found = (await fetch(url)).sniff()
            described = {"alt_text": alt_text} if alt_text is not None else {}
            media.append({"url": url, **found.as_json(), **described})
            wants_video = media_type in ("REELS", "VIDEO") or bool(p.get("video_url"))
            if wants_video and found.format not in ("mp4", "mov"):
                error = "The video format is not supported. Please use MP4 or MOV."
            elif not wants_video and found.format != "jpeg":
                error = "Only JPEG images are supported."
        except FetchError as exc:
            error = f"Media download has failed: {exc}"
    else:
        return graph.invalid_param("media_type must be one of IMAGE, REELS, STORIES, CAROUSEL")
    container_id = media_id(state)
    video = any(m.get("kind") == "video" for m in media)
    state.put(
        NAME,
        "container",
        container_id,
        {
            "id": container_id,
            "account_id": account.id,
            "media_type": media_type,
            "caption": caption,
            "media": media,
            "is_carousel_item": is_carousel_item,
            "children": children,
            "created_at": now,
            "ready_at": now + (state.settings.processing_seconds if video else 1),
            "error": error,
            "published_id": None,
            "request": request_record(
                call.request, {k: v for k, v in p.items() if k != "access_token"}
            ),
        },
    )
    return json_response({"id": container_id})


async def publish(call: GraphCall, account: Account) -> Response:
    state = call.state
    container = state.get(NAME, "container", call.params.get("creation_id", ""))
    if container is None or container["account_id"] != account.id:
        return graph.invalid_param("The parameter creation_id is required and must be valid.")
    status, _ = container_status(state, container)
    if status == "PUBLISHED":  # the container is a natural idempotency key
        return json_response({"id": container["published_id"]})
    if status != "FINISHED":
        return graph.error(
            "Media ID is not available",
            9007,
            2207027,
            error_user_title="Media not ready",
            error_user_msg="The media is not ready for publishing, please wait for a moment",
        )
    now = state.clock.now()
    if state.count_posts(NAME, account.id, now - DAY) >= state.settings.instagram_publish_cap:
        return graph.error(
            "Application request limit reached",
            9,
            2207042,
            is_transient=False,
            error_user_title="Publishing limit reached",
            error_user_msg="The maximum number of posts that can be published in 24 hours has "
            "been reached.",
        )
    kind = container["media_type"]
    post = state.add_post(
        Post(
            platform=NAME,
            id=media_id(state),
            account_id=account.id,
            text=container["caption"],
            media=container["media"],
            created_at=now,
            kind=kind.lower(),
            request=container["request"] | {"publish_request": request_record(call.request)},
            data={
                "container_id": container["id"],
                "media_type": {
                    "REELS": "VIDEO",
                    "CAROUSEL": "CAROUSEL_ALBUM",
                    "STORIES": "IMAGE",
                }.get(kind, kind),
                "media_product_type": {"REELS": "REELS", "STORIES": "STORY"}.get(kind, "FEED"),
            },
        )
    )
    container["published_id"] = post.id
    return json_response({"id": post.id})


def publishing_limit(call: GraphCall, account: Account) -> Response:
    state = call.state
    used = state.count_posts(NAME, account.id, state.clock.now() - DAY)
    entry = {
        "config": {"quota_total": state.settings.instagram_publish_cap, "quota_duration": DAY},
        "quota_usage": used,
    }
    fields = call.fields("quota_usage")
    return json_response({"data": [{k: v for k, v in entry.items() if k in fields}]})


def insights_as_of(state: SandboxState) -> float:
    """The moment insights describe: now minus the lag (up to 48 h at Instagram)."""
    return state.clock.now() - state.settings.instagram_insights_lag_seconds


def media_insights(call: GraphCall, post: Post) -> Response:
    state = call.state
    names = [m for m in call.params.get("metric", "").split(",") if m]
    product = post.data.get("media_product_type", "FEED")
    allowed = MEDIA_METRICS.get(product, MEDIA_METRICS["FEED"])
    for name in names:
        if name in DEPRECATED:
            return graph.invalid_param(
                f"Starting from version v22.0 and above, the {name} metric is no longer "
                "supported. Please use views instead."
            )
        if name not in allowed:
            return graph.invalid_param(
                f"metric[{names.index(name)}] must be one of the following values: "
                + ", ".join(allowed)
            )
    if not names:
        return graph.invalid_param("The parameter metric is required.")
    if state.clock.now() - post.created_at > state.settings.instagram_insights_retention_days * DAY:
        return json_response({"data": []})  # past retention, as for any missing metric
    c = metrics.post_counts(state, post, insights_as_of(state))
    if c.reach < state.settings.instagram_min_insight_reach:
        return graph.error(graph.NOT_ENOUGH_VIEWERS, 10)
    values = {
        "views": c.views,
        "reach": c.reach,
        "likes": c.likes,
        "comments": c.comments,
        "shares": c.shares,
        "saved": c.saves,
        "total_interactions": c.interactions,
        "profile_visits": c.profile_visits,
        "follows": c.follows,
        "ig_reels_avg_watch_time": c.watch_seconds * 1000 // max(1, c.views),
        "ig_reels_video_view_total_time": c.watch_seconds * 1000,
    }
    return json_response({"data": [graph.insight(post.id, n, values[n]) for n in names]})


def account_insights(call: GraphCall, account: Account) -> Response:
    state = call.state
    now = state.clock.now()
    names = [m for m in call.params.get("metric", "").split(",") if m]
    period = call.params.get("period", "day")
    since = graph.parse_time(call.params.get("since"), now - DAY)
    until = graph.parse_time(call.params.get("until"), now)
    posts = state.posts_of(NAME, account.id)
    as_of = insights_as_of(state)
    kept_since = now - state.settings.instagram_insights_retention_days * DAY
    # Days past retention are gone; days after the lag are not in yet.
    days = [d for d in metrics.utc_days(since, until) if d.timestamp() + DAY > kept_since]
    data = []
    for name in names:
        if name in DEPRECATED:
            return graph.invalid_param(f"The {name} metric is no longer supported.")
        if name == "follower_count":
            series = [
                {
                    "value": metrics.followers(state, account, min(d.timestamp() + DAY, as_of))
                    - metrics.followers(state, account, min(d.timestamp(), as_of)),
                    "end_time": meta_time(d.timestamp() + DAY),
                }
                for d in days
            ]
            data.append(graph.insight(account.id, name, 0, period, series))
            continue
        if name not in ACCOUNT_METRICS:
            return graph.invalid_param(
                "metric[0] must be one of the following values: "
                + ", ".join((*ACCOUNT_METRICS, "follower_count"))
            )
        key = {"saves": "saves", "total_interactions": "likes"}.get(name, name)
        total = sum(metrics.daily_counts(state, posts, d, as_of)[key] for d in days)
        item = graph.insight(account.id, name, total, period)
        item.pop("values")
        item["total_value"] = {"value": total}
        data.append(item)
    return json_response({"data": data})


async def dispatch(call: GraphCall) -> Response:
    state, segs = call.state, call.segments
    if segs == ["access_token"] and call.method == "GET":
        call.name(NAME, "access_token")
        return await exchange_token(call)
    if segs == ["refresh_access_token"] and call.method == "GET":
        call.name(NAME, "refresh_access_token")
        return await refresh_token(call)
    if not segs and call.method == "POST" and "batch" in call.params:
        return await graph.batch(call, NAME, dispatch)
    if not segs or not (segs[0] == "me" or segs[0].isdigit()) or len(segs) > 2:
        return graph.unsupported(call)
    call.name_unresolved()
    token = graph.authenticate(call, NAME)
    rate_limit(call, token)
    me = state.account(NAME, token.account_id)
    assert me is not None
    node = me.id if segs[0] == "me" else segs[0]
    edge = segs[1] if len(segs) == 2 else None
    response = await route(call, me, node, edge)
    return graph.with_headers(response, call.headers)


COMMENT_SCOPES = ("instagram_business_manage_comments", "instagram_manage_comments")
# The longest comment Instagram takes (as its captions: 2,200 characters).
MAX_COMMENT = 2_200
PUBLISH_SCOPES = ("instagram_business_content_publish", "instagram_content_publish")
INSIGHTS_SCOPES = ("instagram_business_manage_insights", "instagram_manage_insights")


async def route(call: GraphCall, me: Account, node: str, edge: str | None) -> Response:
    state, method = call.state, call.method
    assert call.token is not None
    if edge in ("media", "media_publish") and method == "POST":
        graph.require_scope(call.token, "publish", *PUBLISH_SCOPES)
    if edge == "insights":
        graph.require_scope(call.token, "read", *INSIGHTS_SCOPES)
    if node == me.id:
        call.name(NAME, "{ig-user-id}", *([edge] if edge else []))
        if edge is None and method == "GET":
            return json_response(me_json(state, me, call.fields("id,username")))
        if edge == "media" and method == "POST":
            return await create_container(call, me)
        if edge == "media" and method == "GET":
            fields = call.fields("id")
            return json_response(
                graph.timeline_page(
                    call, state.posts_of(NAME, me.id), lambda p: media_json(state, p, fields)
                )
            )
        if edge == "media_publish" and method == "POST":
            return await publish(call, me)
        if edge == "content_publishing_limit" and method == "GET":
            return publishing_limit(call, me)
        if edge == "insights" and method == "GET":
            return account_insights(call, me)
        return graph.unsupported(call)
    container = state.get(NAME, "container", node)
    if container is not None and container["account_id"] == me.id and edge is None:
        call.name(NAME, "{container-id}")
        status_code, status = container_status(state, container)
        values = {"id": node, "status_code": status_code, "status": status}
        return json_response(
            {k: values[k] for k in ["id", *call.fields("status_code")] if k in values}
        )
    post = state.post(NAME, node)
    if post is None or post.account_id != me.id:
        return graph.unsupported(call)
    if edge == "comments":
        call.name(NAME, "{ig-media-id}", "comments")
        return comments(call, me, post)
    if method != "GET":
        return graph.unsupported(call)
    call.name(NAME, "{ig-media-id}", *([edge] if edge else []))
    if edge is None:
        return json_response(media_json(state, post, call.fields("id")))
    if edge == "insights":
        return media_insights(call, post)
    return graph.unsupported(call)


def comments(call: GraphCall, me: Account, post: Post) -> Response:
    """``/{ig-media-id}/comments``: comment on one's own media (POST ``message``) or read its
    comments (``id,text,timestamp,username,from``)."""
    assert call.token is not None
    graph.require_scope(call.token, "publish" if call.method == "POST" else "read", *COMMENT_SCOPES)
    if call.method == "POST":
        comment_id = str(17_850_000_000_000_000 + call.state.ids.next("instagram:comment"))
        return graph.create_comment(call, NAME, post, me.id, MAX_COMMENT, comment_id)
    if call.method != "GET":
        return graph.unsupported(call)
    return graph.comments_page(
        call,
        NAME,
        post,
        lambda c: {
            "id": c.id,
            "text": c.text,
            "timestamp": meta_time(c.created_at),
            "username": me.username,
            "from": {"id": c.author_id, "username": me.username},
        },
    )


@router.api_route("/{path:path}", methods=["GET", "POST", "DELETE"])
async def graph_api(request: Request, path: str) -> Response:
    return await dispatch(await graph.read_call(request, path))


def truth(state: SandboxState, post: Post) -> dict[str, Any]:
    live = metrics.post_counts(state, post)
    c = metrics.post_counts(state, post, insights_as_of(state))  # insights lag, counters do not
    return {
        "like_count": live.likes,
        "comments_count": live.comments,
        "insights": {
            "views": c.views,
            "reach": c.reach,
            "likes": c.likes,
            "comments": c.comments,
            "shares": c.shares,
            "saved": c.saves,
            "total_interactions": c.interactions,
        },
    }


SPEC = PlatformSpec(
    NAME,
    router,
    rate_limited,
    server_error,
    truth,
    throttle_statuses=frozenset({400}),
    throttle_body=graph.is_throttle,
)
