"""Facebook Pages (Graph API, host graph.facebook.com; login dialog on www.facebook.com).

Hosts under ``/facebook``: ``www.facebook.com`` serves ``/v21.0/dialog/oauth`` and
``graph.facebook.com`` everything else (``/v21.0/oauth/access_token``, ``/me/accounts``,
``/{page-id}/feed``...). Page 1 of each user has a linked Instagram business account
(``instagram_business_account`` on the page, as the Instagram API with Facebook Login reads it);
only its id is served here, the Instagram API itself lives under ``/instagram``.
``dialog`` and ``oauth`` are not numeric node ids, so they cannot collide
with Graph nodes.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from sandbox import metrics, oauth
from sandbox.media import FetchError, fetch, sniff
from sandbox.platforms import graph
from sandbox.platforms.base import (
    DAY,
    PlatformSpec,
    add_person,
    meta_time,
    seed_history,
)
from sandbox.platforms.graph import GraphCall
from sandbox.ratelimit import Usage
from sandbox.state import Account, Post, SandboxState, Token, digits
from sandbox.web import Reject, json_response, request_record

NAME = "facebook"
router = APIRouter()
DEPRECATED = (
    "post_impressions",
    "post_impressions_unique",
    "page_impressions",
    "page_impressions_unique",
    "post_engaged_users",
)
POST_METRICS = (
    "post_total_media_view_unique",
    "post_media_view",
    "post_reactions_by_type_total",
    "post_clicks",
)
PAGE_METRICS = (
    "page_total_media_view_unique",
    "page_media_view",
    "page_post_engagements",
    "page_daily_follows",
    "page_follows",
)
MAX_INSIGHT_RANGE = 90 * DAY
# The longest comment the Graph API takes on a page post (longer is refused with (#100)).
MAX_COMMENT = 8_000
PAGE_TASKS = ["ANALYZE", "ADVERTISE", "MODERATE", "CREATE_CONTENT", "MANAGE"]


def server_error(status: int) -> Response:
    return graph.error(
        "An unexpected error has occurred. Please retry your request later.",
        2,
        status=status,
        is_transient=True,
    )


def rate_limited() -> Response:
    return graph.error("(#4) Application request limit reached", 4, is_transient=True)


def page_id(state: SandboxState, user: Account, index: int) -> str:
    return "1" + digits(f"facebook-page:{user.username}:{index}", 14)


def post_id(state: SandboxState, page: str) -> str:
    return f"{page}_{122_000_000_000_000_000 + state.ids.next('facebook:post')}"


def linked_instagram(username: str) -> dict[str, Any]:
    """Page 1 of every user is linked to an Instagram professional account, so the Instagram
    API with Facebook Login finds it via ``/me/accounts?fields=instagram_business_account``."""
    return {"instagram_business_account": "178414" + digits(f"instagram-fb:{username}", 11)}


def create_user(state: SandboxState, username: str) -> Account:
    user = add_person(state, NAME, username, "10" + digits(f"facebook:{username}", 14))
    for index in range(1, state.settings.facebook_pages_per_user + 1):
        page = state.add_account(
            Account(
                platform=NAME,
                id=page_id(state, user, index),
                username=f"{username}.page{index}",
                name=f"{user.name} Page {index}",
                created_at=user.created_at,
                kind="page",
                parent_id=user.id,
                data=linked_instagram(username) if index == 1 else {},
            )
        )
        seed_history(state, page, lambda _at, page=page: post_id(state, page.id))  # type: ignore[misc]
    return user


PROFILE = oauth.OAuthProfile(
    platform=NAME,
    title="Facebook",
    code_ttl=lambda s: s.settings.facebook_code_ttl,
    create_user=create_user,
    denied=lambda st: [
        ("error", "access_denied"),
        ("error_code", "200"),
        ("error_description", "Permissions error"),
        ("error_reason", "user_denied"),
        *([("state", st)] if st is not None else []),
    ],
    scope_separator=",",
    invalid_client_page="Invalid App ID: The provided app ID does not look like a valid app ID.",
    invalid_redirect_page="URL Blocked: This redirect failed because the redirect URI is not "
    "whitelisted in the app's Client OAuth Settings.",
    fragment="#_=_",
)


@router.api_route("/{version}/dialog/oauth", methods=["GET", "POST"])
async def authorize(request: Request, version: str) -> Response:
    return await oauth.authorize(request, PROFILE)


@router.api_route("/dialog/oauth", methods=["GET", "POST"])
async def authorize_unversioned(request: Request) -> Response:
    return await oauth.authorize(request, PROFILE)


CODE_ERRORS = {
    oauth.CodeProblem.USED: ("This authorization code has been used.", 36009),
    oauth.CodeProblem.EXPIRED: ("This authorization code has expired.", 36007),
    oauth.CodeProblem.REDIRECT_MISMATCH: (
        "Error validating verification code. Please make sure your redirect_uri is identical "
        "to the one you used in the OAuth dialog request",
        36008,
    ),
}


def token_body(state: SandboxState, token: Token, ttl: int) -> Response:
    return json_response({"access_token": token.value, "token_type": "bearer", "expires_in": ttl})


async def access_token(call: GraphCall) -> Response:
    """``GET /oauth/access_token``: code -> short user token; fb_exchange_token -> 60 days."""
    state, p = call.state, call.params
    settings = state.settings
    if p.get("client_id") != settings.client_id:
        return graph.error("Error validating application. Invalid application ID.", 101)
    if p.get("client_secret") != settings.client_secret:
        return graph.error("Error validating client secret.", 1)
    if p.get("grant_type") == "fb_exchange_token":
        found = state.tokens.check(NAME, p.get("fb_exchange_token"), kinds=("access",))
        if not isinstance(found, Token):
            return graph.token_error(state, p.get("fb_exchange_token"), found)
        ttl = settings.facebook_access_token_ttl
        token = state.tokens.issue(
            NAME,
            "access",
            found.account_id,
            found.scopes,
            ttl,
            found.grant_id,
            "EAAG",
            long_lived=True,
        )
        return token_body(state, token, ttl)
    code = oauth.redeem_code(state, NAME, p.get("code"), None, p.get("redirect_uri"), None)
    if isinstance(code, oauth.CodeProblem):
        message, subcode = CODE_ERRORS.get(code, ("Invalid verification code format.", None))
        return graph.error(message, 100, subcode)
    ttl = settings.facebook_short_token_ttl
    token = state.tokens.issue(
        NAME, "access", code.account_id, code.scopes, ttl, code.value, "EAAG", long_lived=False
    )
    return token_body(state, token, ttl)


# nodes -------------------------------------------------------------------------------------
def page_token(state: SandboxState, user_token: Token, page: Account) -> Token:
    """Page tokens never expire when taken from a long-lived user token; else they share its
    expiry. Both die when the user changes password or removes the app."""
    for token in state.tokens.by_value.values():
        if (
            token.kind == "page"
            and token.account_id == page.id
            and token.grant_id == user_token.grant_id
            and token.status(0) == "active"
            and token.data.get("long_lived") == user_token.data.get("long_lived")
        ):
            return token
    ttl = (
        None
        if user_token.data.get("long_lived")
        else ((user_token.expires_at or 0) - state.clock.now())
    )
    return state.tokens.issue(
        NAME,
        "page",
        page.id,
        user_token.scopes,
        ttl,
        user_token.grant_id,
        "EAAG",
        long_lived=user_token.data.get("long_lived", False),
    )


def page_json(
    state: SandboxState, page: Account, fields: list[str], user_token: Token | None
) -> dict[str, Any]:
    values: dict[str, Any] = {
        "id": page.id,
        "name": page.name,
        "category": "Brand",
        "category_list": [{"id": "1605186416478696", "name": "Brand"}],
        "tasks": PAGE_TASKS,
        "fan_count": metrics.followers(state, page),
        "followers_count": metrics.followers(state, page),
        "link": f"https://www.facebook.com/{page.id}",
    }
    if "instagram_business_account" in page.data:  # absent, not null, on unlinked pages
        values["instagram_business_account"] = {"id": page.data["instagram_business_account"]}
    if user_token is not None and "access_token" in fields:
        values["access_token"] = page_token(state, user_token, page).value
    # Graph answers a node's id whatever fields were asked for.
    return {"id": page.id} | {f: values[f] for f in fields if f in values}


def post_json(state: SandboxState, post: Post, fields: list[str]) -> dict[str, Any]:
    """The post node. Besides plain fields: ``shares`` (``{"count"}``, absent while nobody
    shared it, as Graph does), ``comments`` (with ``.summary(true)`` its ``total_count``) and
    the field expansion ``insights.metric(...)``, which fails the request as the edge would."""
    c = metrics.post_counts(state, post)
    expanded: dict[str, Any] = {}
    for field in fields:
        name, modifiers = graph.expansion(field)
        if name == "insights":
            names = [m for m in modifiers.get("metric", "").split(",") if m]
            expanded["insights"] = insight_page(post, names, c)
        elif name == "comments":
            comments: dict[str, Any] = {"data": []}
            if modifiers.get("summary") == "true":
                comments["summary"] = {
                    "order": "ranked",
                    "total_count": c.comments,
                    "can_comment": True,
                }
            expanded["comments"] = comments
        elif name == "shares" and c.shares:
            expanded["shares"] = {"count": c.shares}
    values: dict[str, Any] = {
        "id": post.id,
        "message": post.text,
        "created_time": meta_time(post.created_at),
        "permalink_url": f"https://www.facebook.com/{post.id.replace('_', '/posts/')}",
        "is_published": post.data.get("published", True),
        "status_type": "added_video" if post.kind == "video" else "mobile_status_update",
        "attachments": attachments(post),
    }
    return {"id": post.id} | {f: values[f] for f in fields if f in values} | expanded


def attachments(post: Post) -> dict[str, Any]:
    """``attachments{media_type,target}``: how a feed entry names its video or photos."""
    if post.kind == "video":
        target = {"id": post.data["video_id"]}
        return {"data": [{"media_type": "video", "type": "video_inline", "target": target}]}
    return {"data": [{"media_type": "photo", "type": "photo"} for _ in post.media]}


def visible_posts(state: SandboxState, page: Account) -> list[Post]:
    """What the page's feed shows: published posts whose time has come, video posts once their
    video is processed (scheduled and unpublished ones stay out)."""
    now = state.clock.now()
    return [
        p
        for p in state.posts_of(NAME, page.id)
        if p.created_at <= now
        and p.data.get("published", True)
        and p.data.get("visible_at", 0) <= now
    ]


def require_page_token(token: Token, page: Account) -> None:
    if token.kind != "page" or token.account_id != page.id:
        raise Reject(
            graph.error(
                "(#200) If posting to a page, requires both pages_read_engagement and "
                "pages_manage_posts as an admin with sufficient administrative permission",
                200,
                kind="OAuthException",
            )
        )


def check_posting(call: GraphCall, page: Account, message: str) -> None:
    state = call.state
    now = state.clock.now()
    window = state.settings.facebook_duplicate_window
    duplicate = state.same_text_since(NAME, page.id, message, now - window) if message else None
    if duplicate is not None and duplicate.request is not None:
        raise Reject(
            graph.error(
                "(#506) Duplicate status message",
                506,
                1455006,
                error_user_title="Duplicate Post",
                error_user_msg="This status update is identical to the last "
                "one you posted. Try posting something different.",
            )
        )
    if state.count_posts(NAME, page.id, now - 60) >= state.settings.facebook_posts_per_minute:
        raise Reject(
            graph.error(
                "(#368) The action attempted has been deemed abusive or is otherwise disallowed",
                368,
                1390008,
                error_user_title="You Can't Post Right Now",
                error_user_msg="You're posting too fast. Slow down and try again later.",
            )
        )


def new_post(
    call: GraphCall,
    page: Account,
    message: str,
    media: list[dict[str, Any]],
    kind: str = "post",
    published: bool = True,
    created_at: float | None = None,
) -> Post:
    state = call.state
    body = {k: v for k, v in call.params.items() if k != "access_token"}
    return state.add_post(
        Post(
            platform=NAME,
            id=post_id(state, page.id),
            account_id=page.id,
            text=message,
            media=media,
            created_at=created_at or state.clock.now(),
            kind=kind,
            request=request_record(call.request, body),
            data={"published": published},
        )
    )


async def feed_post(call: GraphCall, page: Account) -> Response:
    state, p = call.state, call.params
    message = p.get("message", "")
    attached = json.loads(p.get("attached_media", "[]") or "[]")
    if not message and not p.get("link") and not attached:
        return graph.invalid_param("The message, link or attached_media parameter is required.")
    media = []
    for item in attached:
        photo = state.get(NAME, "photo", str(item.get("media_fbid")))
        if photo is None or photo["page_id"] != page.id:
            return graph.invalid_param(f"Invalid media_fbid {item.get('media_fbid')}")
        media.append(photo["media"])
    check_posting(call, page, message)
    published = p.get("published", "true") != "false"
    created_at = None
    if "scheduled_publish_time" in p:
        when = float(p["scheduled_publish_time"])
        now = state.clock.now()
        if published or not now + 600 <= when <= now + 30 * DAY:
            return graph.invalid_param("The specified scheduled publish time is invalid.")
        created_at, published = when, True
    post = new_post(call, page, message, media, published=published, created_at=created_at)
    if p.get("link"):
        post.data["link"] = p["link"]
    return json_response({"id": post.id})


async def read_media(call: GraphCall, url_field: str) -> dict[str, Any]:
    if "source" in call.files:
        data = call.files["source"]
        return {"source": "upload", **sniff(data).as_json()}
    url = call.params.get(url_field)
    if not url:
        raise Reject(graph.invalid_param(f"The parameter {url_field} or source is required."))
    try:
        return {"url": url, **(await fetch(url)).sniff().as_json()}
    except FetchError as exc:
        raise Reject(graph.error(f"(#324) Missing or invalid image file: {exc}", 324)) from None


async def photo_post(call: GraphCall, page: Account) -> Response:
    state, p = call.state, call.params
    media = await read_media(call, "url")
    if media["kind"] != "image":
        return graph.error("(#324) Requires upload file", 324)
    photo_id = str(122_100_000_000_000_000 + state.ids.next("facebook:photo"))
    state.put(NAME, "photo", photo_id, {"id": photo_id, "page_id": page.id, "media": media})
    if p.get("published", "true") == "false":
        return json_response({"id": photo_id})
    caption = p.get("message") or p.get("caption", "")
    check_posting(call, page, caption)
    post = new_post(call, page, caption, [media], kind="post")
    return json_response({"id": photo_id, "post_id": post.id})


async def video_post(call: GraphCall, page: Account) -> Response:
    state = call.state
    media = await read_media(call, "file_url")
    video_id = str(122_200_000_000_000_000 + state.ids.next("facebook:video"))
    error = None if media["kind"] == "video" else "The video file you selected is in a format "
    "that we don't support."
    description = call.params.get("description", "")
    video = state.put(
        NAME,
        "video",
        video_id,
        {
            "id": video_id,
            "account_id": page.id,  # the page's videos are listed from the per-owner index
            "post_id": None,
            "description": description,
            "error": error,
            "ready_at": state.clock.now() + state.settings.processing_seconds,
            "created_at": state.clock.now(),
        },
    )
    if error is None:
        post = new_post(call, page, description, [media], kind="video")
        # The feed shows it once processed; the video node names its post (``post_id``).
        post.data.update(video_id=video_id, visible_at=video["ready_at"])
        video["post_id"] = post.id
    return json_response({"id": video_id})


def page_videos(call: GraphCall, page: Account) -> Response:
    """``GET /{page-id}/videos``: the page's uploaded videos, newest first (``since`` honoured)."""
    state = call.state
    since = graph.parse_time(call.params.get("since"), 0)
    videos = [
        v
        for v in reversed(state.objects_of(NAME, "video", page.id))
        if v.get("created_at", 0) >= since
    ]
    values = [
        {
            "id": v["id"],
            "description": v.get("description", ""),
            "created_time": meta_time(v.get("created_at", 0)),
            "updated_time": meta_time(v.get("created_at", 0)),
            "permalink_url": f"/{page.id}/videos/{v['id']}/",
            "status": video_status(state, v),
        }
        for v in videos
    ]
    fields = call.fields("id,description,updated_time")
    return json_response(
        graph.data_page([{f: v[f] for f in ["id", *fields] if f in v} for v in values])
    )


def video_status(state: SandboxState, video: dict[str, Any]) -> dict[str, Any]:
    if video["error"]:
        return {
            "video_status": "error",
            "processing_phase": {
                "status": "error",
                "errors": [{"code": 1363008, "message": video["error"]}],
            },
        }
    ready = state.clock.now() >= video["ready_at"]
    return {
        "video_status": "ready" if ready else "processing",
        "processing_progress": 100 if ready else 50,
    }


def post_insights(call: GraphCall, post: Post) -> Response:
    names = [m for m in call.params.get("metric", "").split(",") if m]
    return json_response(insight_page(post, names, metrics.post_counts(call.state, post)))


def insight_page(post: Post, names: list[str], c: metrics.Counts) -> dict[str, Any]:
    """``/{post-id}/insights`` (or the ``insights`` expansion); a retired or unknown metric
    fails the request."""
    for name in names:
        if name in DEPRECATED or name not in POST_METRICS:
            raise Reject(graph.invalid_param("The value must be a valid insights metric"))
    values: dict[str, Any] = {
        "post_total_media_view_unique": c.reach,
        "post_media_view": c.views,
        "post_clicks": c.clicks,
        "post_reactions_by_type_total": reactions(c.likes),
    }
    return graph.data_page([graph.insight(post.id, n, values[n]) for n in names])


def reactions(likes: int) -> dict[str, int]:
    love = likes // 5
    return {"like": likes - love - likes // 20, "love": love, "wow": likes // 20}


def page_insights(call: GraphCall, page: Account) -> Response:
    state, p = call.state, call.params
    now = state.clock.now()
    names = [m for m in p.get("metric", "").split(",") if m]
    since = graph.parse_time(p.get("since"), now - 2 * DAY)
    until = graph.parse_time(p.get("until"), now)
    if until - since > MAX_INSIGHT_RANGE:
        return graph.invalid_param(
            "There cannot be more than 90 days (7776000 s) between since and until"
        )
    for name in names:
        if name in DEPRECATED or name not in PAGE_METRICS:
            return graph.invalid_param("The value must be a valid insights metric")
    posts = state.posts_of(NAME, page.id)
    days = metrics.utc_days(since, until)
    daily = [(d, metrics.daily_counts(state, posts, d)) for d in days]
    data = []
    for name in names:
        series = []
        for day, counts in daily:
            end = day.timestamp() + DAY
            value = {
                "page_total_media_view_unique": counts["reach"],
                "page_media_view": counts["views"],
                "page_post_engagements": counts["likes"]
                + counts["comments"]
                + counts["shares"]
                + counts["clicks"],
                "page_daily_follows": metrics.followers(state, page, end)
                - metrics.followers(state, page, day.timestamp()),
                "page_follows": metrics.followers(state, page, min(end, now)),
            }[name]
            series.append({"value": value, "end_time": meta_time(end)})
        data.append(graph.insight(page.id, name, 0, p.get("period", "day"), series))
    return json_response(graph.data_page(data))


def rate_limit(call: GraphCall, token: Token) -> None:
    """Count the call; raise the Graph rate-limit error that applies, with the usage headers.

    Meta's Rate Limits page: Pages API calls made with page tokens fall under Business Use Case
    limits (header ``X-Business-Use-Case-Usage``, code 80001); calls made with user or app tokens
    under Platform limits (header ``X-App-Usage``): the user's own hourly budget (code 17), the
    app's 200 calls x users per hour (code 4), and with a user token on one page, that page's
    budget (code 32, in ``page_platform_limit``). Code 613 is per endpoint (``GraphCall.name``).
    """
    state, settings = call.state, call.state.settings
    now = state.clock.now()
    call.token = token
    call.endpoint_limits = settings.facebook_endpoint_calls_per_hour
    if token.kind == "page":
        usage = state.limits.sliding(
            (NAME, "page", token.account_id), settings.meta_page_calls_per_hour, 3_600, now
        )
        call.headers = graph.business_usage(token.account_id, "pages", usage, now)
        if not usage.allowed:
            raise call.throttled(
                "There have been too many calls to this Page account. Wait a bit and try again.",
                80001,
            )
        return
    users = state.users[NAME]
    app_key, app_limit = (NAME, "app"), settings.meta_calls_per_user_hour * max(1, users)
    user = state.limits.sliding(
        (NAME, "user", token.account_id), settings.meta_user_calls_per_hour, 3_600, now
    )
    if not user.allowed:
        # X-App-Usage only reports the app: a user throttled alone sees it below 100 %.
        used = state.limits.peek_sliding(app_key, 3_600, now)
        call.headers = graph.app_usage(Usage(used, app_limit, now, True))
        raise call.throttled("(#17) User request limit reached", 17)
    usage = state.limits.sliding(app_key, app_limit, 3_600, now)
    call.headers = graph.app_usage(usage)
    if not usage.allowed:
        raise Reject(graph.with_headers(rate_limited(), call.headers))


def page_platform_limit(call: GraphCall, token: Token, page: Account) -> None:
    """A user (not page) token working on one page counts in that page's Platform budget."""
    if token.kind == "page":
        return
    state = call.state
    usage = state.limits.sliding(
        (NAME, "page-platform", page.id),
        state.settings.meta_page_platform_calls_per_hour,
        3_600,
        state.clock.now(),
    )
    if not usage.allowed:
        raise call.throttled("(#32) Page request limit reached", 32)


async def dispatch(call: GraphCall) -> Response:
    segs = call.segments
    if segs == ["oauth", "access_token"]:
        call.name(NAME, "oauth", "access_token")
        return await access_token(call)
    if not segs and call.method == "POST" and "batch" in call.params:
        return await graph.batch(call, NAME, dispatch)
    if not segs or not (segs[0] == "me" or segs[0].replace("_", "").isdigit()) or len(segs) > 2:
        return graph.unsupported(call)
    call.name_unresolved()
    token = graph.authenticate(call, NAME)
    rate_limit(call, token)
    response = await route(call, token, segs[0], segs[1] if len(segs) == 2 else None)
    return graph.with_headers(response, call.headers)


async def route(call: GraphCall, token: Token, node: str, edge: str | None) -> Response:
    state, method = call.state, call.method
    owner = state.account(NAME, token.account_id)
    assert owner is not None
    if node == "me" or node == owner.id:
        node = owner.id
        call.name(NAME, "me", *([edge] if edge else []))
        if owner.kind == "user":
            if edge is None and method == "GET":
                values = {"id": owner.id, "name": owner.name}
                return json_response({f: values[f] for f in call.fields("id,name") if f in values})
            if edge == "accounts" and method == "GET":
                pages = state.children(NAME, owner.id)
                fields = call.fields("id,name,access_token,category,category_list,tasks")
                return json_response(
                    graph.data_page([page_json(state, pg, fields, token) for pg in pages])
                )
            if edge == "permissions" and method == "DELETE":
                state.tokens.revoke(lambda t: t.grant_id == token.grant_id, "app_removed")
                return json_response({"success": True})
            if edge == "permissions" and method == "GET":
                return json_response(
                    {"data": [{"permission": s, "status": "granted"} for s in token.scopes]}
                )
    page = state.account(NAME, node)
    if page is not None and page.kind == "page":
        page_platform_limit(call, token, page)
        call.name(NAME, "{page-id}", *([edge] if edge else []))
        if edge is None and method == "GET":
            return json_response(page_json(state, page, call.fields("id,name"), None))
        require_page_token(token, page)
        if edge in ("feed", "photos", "videos") and method == "POST":
            graph.require_scope(token, "publish", "pages_manage_posts")
        if edge == "insights":
            graph.require_scope(token, "read", "read_insights")
        if edge == "feed" and method == "POST":
            return await feed_post(call, page)
        if edge == "photos" and method == "POST":
            return await photo_post(call, page)
        if edge == "videos" and method == "POST":
            return await video_post(call, page)
        if edge in ("feed", "posts", "published_posts") and method == "GET":
            fields = call.fields("id,message,created_time")
            return json_response(
                graph.timeline_page(
                    call, visible_posts(state, page), lambda post: post_json(state, post, fields)
                )
            )
        if edge == "videos" and method == "GET":
            return page_videos(call, page)
        if edge == "insights" and method == "GET":
            return page_insights(call, page)
        return graph.unsupported(call)
    video = state.get(NAME, "video", node)
    if video is not None and edge is None and method == "GET":
        call.name(NAME, "{video-id}")
        require_page_token(token, state.account(NAME, video["account_id"]) or owner)
        found: dict[str, Any] = {
            "id": node,
            "status": video_status(state, video),
            "post_id": video["post_id"],
            "description": video["description"],
        }
        fields = ["id", *call.fields("status")]
        return json_response({f: found[f] for f in fields if found.get(f) is not None})
    post = state.post(NAME, node)
    if post is None:
        return graph.unsupported(call)
    call.name(NAME, "{post-id}", *([edge] if edge else []))
    require_page_token(token, state.account(NAME, post.account_id) or owner)
    if edge is None and method == "GET":
        return json_response(post_json(state, post, call.fields("id,message,created_time")))
    if edge is None and method == "DELETE":
        post.deleted = True
        return json_response({"success": True})
    if edge == "insights" and method == "GET":
        graph.require_scope(token, "read", "read_insights")
        return post_insights(call, post)
    if edge == "comments" and method == "POST":
        graph.require_scope(token, "publish", "pages_manage_engagement")
        comment_id = f"{post.id.split('_')[-1]}_{state.ids.next('facebook-comment', 100_001)}"
        return graph.create_comment(call, NAME, post, post.account_id, MAX_COMMENT, comment_id)
    if edge == "comments" and method == "GET":
        graph.require_scope(token, "read", "pages_read_engagement", "pages_manage_engagement")
        page_of = state.account(NAME, post.account_id)
        return graph.comments_page(
            call,
            NAME,
            post,
            lambda c: {
                "id": c.id,
                "message": c.text,
                "created_time": meta_time(c.created_at),
                "from": {"id": c.author_id, "name": page_of.name if page_of else ""},
            },
        )
    return graph.unsupported(call)


@router.api_route("/{path:path}", methods=["GET", "POST", "DELETE"])
async def graph_api(request: Request, path: str) -> Response:
    return await dispatch(await graph.read_call(request, path))


def truth(state: SandboxState, post: Post) -> dict[str, Any]:
    c = metrics.post_counts(state, post)
    return {
        "post_total_media_view_unique": c.reach,
        "post_media_view": c.views,
        "post_reactions_by_type_total": reactions(c.likes),
        "post_clicks": c.clicks,
        "comments": c.comments,
        "shares": c.shares,
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
