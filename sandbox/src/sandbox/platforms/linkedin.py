"""LinkedIn (OAuth 2.0 on www.linkedin.com, REST API on api.linkedin.com).

Hosts under ``/linkedin``: ``www.linkedin.com`` serves ``/oauth/v2/*`` (and media uploads at
``/dms-uploads/*``), ``api.linkedin.com`` serves ``/v2/*`` and ``/rest/*``: no collisions.
Every ``/rest`` call must carry ``LinkedIn-Version: YYYYMM`` (the current month or one of the
``linkedin_version_window_months`` before it; others answer 426 NONEXISTENT_VERSION) and
``X-Restli-Protocol-Version: 2.0.0``.

Media: images (``/rest/images``, one PUT) and videos (``/rest/videos``: initializeUpload with
``fileSizeBytes`` -> one upload URL per ``linkedin_video_part_bytes`` part, PUT each and keep
its ETag, finalizeUpload with the ETags in order); both WAITING_UPLOAD -> PROCESSING ->
AVAILABLE (or PROCESSING_FAILED when the magic bytes are not JPEG/PNG/GIF, resp. MP4).

Refresh tokens (approved partners only, ``linkedin_refresh_tokens``) do not rotate: a refresh
answers a new access token and the *same* refresh token with the TTL it has left, since LinkedIn
documents that refreshing does not reset the refresh token's 365 days.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

from fastapi import APIRouter, Request
from fastapi.responses import Response

from sandbox import metrics, oauth
from sandbox.media import sniff
from sandbox.platforms.base import DAY, PlatformSpec, add_person, seed_history
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
)

NAME = "linkedin"
router = APIRouter()
MAX_COMMENTARY = 3_000
# The Posts API's media altText (images only).
MAX_ALT_TEXT = 4086
MAX_VIDEO_BYTES = 500 * 1024 * 1024  # 75 KB to 500 MB for feed videos
LIST = re.compile(r"List\((.*)\)")
MAX_POSTS_COUNT = 100  # the Posts API's finders page at most 100 posts


def api_error(status: int, message: str, code: str | None = None, **extra: Any) -> Response:
    body: dict[str, Any] = {"status": status, "message": message}
    if code:
        body["code"] = code
    body.update(extra)
    return json_response(body, status)


def unauthorized(problem: TokenProblem) -> Response:
    if problem is TokenProblem.REVOKED:
        return api_error(
            401,
            "The token used in the request has been revoked by the user",
            "REVOKED_ACCESS_TOKEN",
            serviceErrorCode=65601,
        )
    if problem is TokenProblem.EXPIRED:
        return api_error(
            401,
            "The token used in the request has expired",
            "EXPIRED_ACCESS_TOKEN",
            serviceErrorCode=65600,
        )
    return api_error(401, "Invalid access token", "INVALID_ACCESS_TOKEN", serviceErrorCode=65600)


def forbidden(scope: str) -> Response:
    return api_error(
        403,
        f"Not enough permissions to access this resource ({scope})",
        "ACCESS_DENIED",
        serviceErrorCode=100,
    )


def rate_limited() -> Response:
    # LinkedIn's throttles reset at midnight UTC and send no headers.
    return api_error(
        429,
        "Resource level throttle APPLICATION DAY limit for calls to this resource is reached.",
        "TOO_MANY_REQUESTS",
        serviceErrorCode=101,
    )


def server_error(status: int) -> Response:
    return api_error(status, "Internal Server Error", "INTERNAL_SERVER_ERROR")


def oauth_error(error: str, description: str, status: int = 400) -> Response:
    return json_response({"error": error, "error_description": description}, status)


def share_id(state: SandboxState) -> str:
    return f"urn:li:share:{7_300_000_000_000_000_000 + state.ids.next('linkedin:share')}"


def create_user(state: SandboxState, username: str) -> Account:
    member_id = digits(f"linkedin:{username}", 10)
    alphabet = "abcdefghijABCDEFGHIJ"
    account = add_person(
        state,
        NAME,
        username,
        "".join(alphabet[int(d) + (i % 2) * 10] for i, d in enumerate(member_id)),
    )
    org = state.add_account(
        Account(
            platform=NAME,
            id=str(int(digits(f"linkedin-org:{username}", 8))),
            username=f"{username}-company",
            name=f"{account.name} Company",
            created_at=account.created_at,
            kind="organization",
            parent_id=account.id,
        )
    )
    seed_history(state, account, lambda _at: share_id(state))
    seed_history(state, org, lambda _at: share_id(state))
    return account


PROFILE = oauth.OAuthProfile(
    platform=NAME,
    title="LinkedIn",
    code_ttl=lambda s: s.settings.linkedin_code_ttl,
    create_user=create_user,
    denied=lambda st: [
        ("error", "user_cancelled_authorize"),
        ("error_description", "The user cancelled the authorization"),
        *([("state", st)] if st is not None else []),
    ],
    invalid_client_page="The passed in client_id is invalid",
    invalid_redirect_page="The redirect_uri does not match the registered value",
)


@router.api_route("/oauth/v2/authorization", methods=["GET", "POST"])
async def authorize(request: Request) -> Response:
    return await oauth.authorize(request, PROFILE)


@router.post("/oauth/v2/accessToken")
async def token(request: Request) -> Response:
    state = sandbox(request)
    form = await form_params(request)
    settings = state.settings
    if not oauth.client_auth(request, form):
        return oauth_error("invalid_client", "Client authentication failed", 401)
    grant_type = form.get("grant_type")
    if grant_type == "refresh_token" and settings.linkedin_refresh_tokens:
        return refresh(state, form.get("refresh_token"))
    if grant_type == "authorization_code":
        code = oauth.redeem_code(
            state, NAME, form.get("code"), None, form.get("redirect_uri"), form.get("code_verifier")
        )
        if isinstance(code, oauth.CodeProblem):
            return oauth_error(
                "invalid_request",
                "Unable to retrieve access token: appid/redirect uri/code verifier does not "
                "match authorization code. Or authorization code expired. Or external member "
                "binding exists",
            )
        scopes, account_id, grant = code.scopes, code.account_id, code.value
    elif grant_type == "refresh_token":
        return oauth_error(
            "unauthorized_client",
            "The client is not authorized to request a token using this method",
        )
    else:
        return oauth_error("invalid_request", 'A required parameter "grant_type" is missing')
    pair = oauth.issue_tokens(
        state,
        NAME,
        account_id,
        scopes,
        grant,
        settings.linkedin_access_token_ttl,
        settings.linkedin_refresh_token_ttl,
        ("AQV", "AQW"),
        with_refresh=settings.linkedin_refresh_tokens,
    )
    return token_body(state, pair.access, pair.refresh)


def token_body(state: SandboxState, access: Token, refresh_token: Token | None) -> Response:
    body: dict[str, Any] = {
        "access_token": access.value,
        "expires_in": state.settings.linkedin_access_token_ttl,
        "scope": ",".join(access.scopes),
    }
    if refresh_token is not None:
        body["refresh_token"] = refresh_token.value
        body["refresh_token_expires_in"] = round(
            (refresh_token.expires_at or 0) - state.clock.now()
        )
    return json_response(body)


def refresh(state: SandboxState, value: str | None) -> Response:
    """Partner refresh: a new 60-day access token; the refresh token does not rotate.

    LinkedIn's "Refresh Tokens with OAuth 2.0" page: the refresh token's TTL "remains the same as
    specified in the initial OAuth flow" (day 59: 306 days left), so the same refresh token keeps
    working, with ``refresh_token_expires_in`` the time it has left, until its 365 days are up.
    """
    found = oauth.use_refresh_token(state, NAME, value)
    if isinstance(found, TokenProblem):
        return oauth_error("invalid_request", "The provided refresh token is invalid")
    access = state.tokens.issue(
        NAME,
        "access",
        found.account_id,
        found.scopes,
        state.settings.linkedin_access_token_ttl,
        found.grant_id,
        "AQV",
    )
    return token_body(state, access, found)


@router.post("/oauth/v2/revoke")
async def revoke(request: Request) -> Response:
    form = await form_params(request)
    if not oauth.client_auth(request, form):
        return oauth_error("invalid_client", "Client authentication failed", 401)
    oauth.revoke_any(sandbox(request), NAME, form.get("token"), "revoked")
    return Response(status_code=200)


@router.post("/oauth/v2/introspectToken")
async def introspect(request: Request) -> Response:
    state = sandbox(request)
    form = await form_params(request)
    if not oauth.client_auth(request, form):
        return oauth_error("invalid_client", "Client authentication failed", 401)
    found = state.tokens.by_value.get(form.get("token", ""))
    if found is None or found.platform != NAME:
        return json_response({"active": False})
    status = found.status(state.clock.now())
    return json_response(
        {
            "active": status == "active",
            "client_id": state.settings.client_id,
            "authorized_at": int(found.issued_at),
            "created_at": int(found.issued_at),
            "status": status,
            "expires_at": int(found.expires_at or 0),
            "scope": ",".join(found.scopes),
            "auth_type": "3L",
        }
    )


# REST helpers ------------------------------------------------------------------------------
def active_versions(state: SandboxState) -> set[str]:
    now = datetime.fromtimestamp(state.clock.now(), UTC)
    versions = set()
    year, month = now.year, now.month
    for _ in range(state.settings.linkedin_version_window_months):
        versions.add(f"{year}{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return versions


def member(request: Request, scope: str | None = None, rest: bool = True) -> tuple[Token, Account]:
    state = sandbox(request)
    if rest:
        version = request.headers.get("linkedin-version")
        if not version:
            raise Reject(
                api_error(
                    400,
                    "A version must be present. Please specify a version by "
                    "adding the LinkedIn-Version header.",
                    "VERSION_MISSING",
                )
            )
        if version[:6] not in active_versions(state):
            raise Reject(
                api_error(426, f"Requested version {version} is not active", "NONEXISTENT_VERSION")
            )
        if request.headers.get("x-restli-protocol-version") != "2.0.0":
            raise Reject(
                api_error(
                    400, "X-Restli-Protocol-Version 2.0.0 header is required", "ILLEGAL_ARGUMENT"
                )
            )
    token_ = authenticate(request, NAME, unauthorized, scope=scope, on_scope=forbidden)
    now = state.clock.now()
    settings = state.settings
    for key, limit in (
        ((NAME, "member", token_.account_id), settings.linkedin_member_calls_per_day),
        ((NAME, "app"), settings.linkedin_app_calls_per_day),
    ):
        if not state.limits.calendar(key, limit, "UTC", now).allowed:
            raise Reject(rate_limited())
    account = state.account(NAME, token_.account_id)
    assert account is not None
    return token_, account


def author_account(state: SandboxState, me: Account, urn: str) -> Account | None:
    kind, _, ident = urn.removeprefix("urn:li:").partition(":")
    if kind == "person" and ident == me.id:
        return me
    org = state.account(NAME, ident)
    if kind == "organization" and org is not None and org.parent_id == me.id:
        return org
    return None


def author_urn(account: Account) -> str:
    kind = "organization" if account.kind == "organization" else "person"
    return f"urn:li:{kind}:{account.id}"


# profile -----------------------------------------------------------------------------------
@router.get("/v2/userinfo")
async def userinfo(request: Request) -> Response:
    _, me = member(request, "openid", rest=False)
    first, _, last = me.name.partition(" ")
    return json_response(
        {
            "sub": me.id,
            "email_verified": True,
            "name": me.name,
            "locale": {"country": "US", "language": "en"},
            "given_name": first,
            "family_name": last,
            "email": f"{me.username}@example.com",
            "picture": f"https://media.licdn.com/dms/image/{me.id}/profile.jpg",
        }
    )


@router.get("/v2/me")
async def v2_me(request: Request) -> Response:
    _, me = member(request, rest=False)
    first, _, last = me.name.partition(" ")
    return json_response(
        {
            "id": me.id,
            "localizedFirstName": first,
            "localizedLastName": last,
            "vanityName": me.username,
        }
    )


@router.get("/rest/organizationAcls")
async def organization_acls(request: Request) -> Response:
    state = sandbox(request)
    _, me = member(request)
    orgs = [a for a in state.children(NAME, me.id) if a.kind == "organization"]
    return json_response(
        {
            "elements": [
                {
                    "organization": author_urn(o),
                    "role": "ADMINISTRATOR",
                    "state": "APPROVED",
                    "roleAssignee": author_urn(me),
                }
                for o in orgs
            ],
            "paging": {"count": 10, "start": 0},
        }
    )


# images ------------------------------------------------------------------------------------
def image_status(state: SandboxState, image: dict[str, Any]) -> str:
    """Images and videos alike: waiting for bytes, then processing for a while."""
    if image["uploaded_at"] is None:
        return "WAITING_UPLOAD"
    if image["error"]:
        return "PROCESSING_FAILED"
    if state.clock.now() < image["uploaded_at"] + state.settings.processing_seconds:
        return "PROCESSING"
    return "AVAILABLE"


async def upload_action(request: Request, actions: tuple[str, ...]) -> tuple[str, dict[str, Any]]:
    """The ``?action=`` and JSON body of an images/videos action call, after the usual checks."""
    member(request, "w_member_social")
    action = request.query_params.get("action", "")
    if action not in actions:
        raise Reject(api_error(400, "Unsupported action", "ILLEGAL_ARGUMENT"))
    return action, await json_body(request, lambda m: api_error(400, m))


def upload_owner(request: Request, body: dict[str, Any]) -> str:
    """The ``initializeUploadRequest.owner`` the caller may upload for (itself or its org)."""
    state = sandbox(request)
    me = state.account(NAME, request.scope["sandbox.token"].account_id)
    assert me is not None
    owner = str((body.get("initializeUploadRequest") or {}).get("owner", ""))
    if author_account(state, me, owner) is None:
        raise Reject(api_error(403, "Not enough permissions to access: owner", "ACCESS_DENIED"))
    return owner


@router.post("/rest/images")
async def images_action(request: Request) -> Response:
    state = sandbox(request)
    _, body = await upload_action(request, ("initializeUpload",))
    owner = upload_owner(request, body)
    number = state.ids.next("linkedin:image")
    urn = f"urn:li:image:C4E10AQ{number:010d}"
    upload_token = f"{number:x}{digits(urn, 8)}"
    state.put(
        NAME,
        "image",
        urn,
        {
            "id": urn,
            "owner": owner,
            "uploaded_at": None,
            "error": None,
            "media": None,
            "token": upload_token,
        },
    )
    expires = int((state.clock.now() + DAY) * 1000)
    return json_response(
        {
            "value": {
                "uploadUrlExpiresAt": expires,
                "uploadUrl": f"{base_url(request)}/linkedin/dms-uploads/sp/{upload_token}",
                "image": urn,
            }
        }
    )


@router.put("/dms-uploads/sp/{upload_token}")
async def upload_image(request: Request, upload_token: str) -> Response:
    state = sandbox(request)
    authenticate(request, NAME, unauthorized)
    image = next((i for i in state.objects_of(NAME, "image") if i["token"] == upload_token), None)
    if image is None:
        return api_error(404, "Upload not found")
    data = await request.body()
    found = sniff(data)
    image["media"] = found.as_json()
    image["uploaded_at"] = state.clock.now()
    if found.format not in ("jpeg", "png", "gif"):
        image["error"] = "UNSUPPORTED_FORMAT"
    return Response(status_code=201)


# videos ------------------------------------------------------------------------------------
VIDEO_URN = "urn:li:video:C5505AQ"


def video_parts(size: int, part_bytes: int) -> list[tuple[int, int]]:
    """(firstByte, lastByte) of each part LinkedIn asks for: fixed-size parts, the last shorter."""
    return [(first, min(first + part_bytes, size) - 1) for first in range(0, size, part_bytes)]


@router.post("/rest/videos")
async def videos_action(request: Request) -> Response:
    """``initializeUpload`` (declare size, get one upload URL per part) or ``finalizeUpload``
    (name the parts by the ETags their PUTs answered); then WAITING_UPLOAD -> PROCESSING ->
    AVAILABLE, or PROCESSING_FAILED when the bytes are not an MP4."""
    state = sandbox(request)
    action, body = await upload_action(request, ("initializeUpload", "finalizeUpload"))
    if action == "finalizeUpload":
        return finalize_video(state, body.get("finalizeUploadRequest") or {})
    owner = upload_owner(request, body)
    size = (body.get("initializeUploadRequest") or {}).get("fileSizeBytes")
    if not isinstance(size, int) or size <= 0:
        return api_error(400, "fileSizeBytes must be a positive number", "ILLEGAL_ARGUMENT")
    if size > MAX_VIDEO_BYTES:
        return api_error(400, "Video file size exceeds the maximum allowed", "ILLEGAL_ARGUMENT")
    number = state.ids.next("linkedin:video")
    urn = f"{VIDEO_URN}{number:010d}"
    upload_token = f"{number:x}{digits(urn, 8)}"
    parts = video_parts(size, state.settings.linkedin_video_part_bytes)
    state.put(
        NAME,
        "video",
        urn,
        {
            "id": urn,
            "owner": owner,
            "size": size,
            "token": upload_token,
            "parts": [None] * len(parts),  # (etag, bytes) once PUT
            "uploaded_at": None,
            "error": None,
            "media": None,
        },
    )
    url = f"{base_url(request)}/linkedin/dms-uploads/sp/v2/{upload_token}/uploadedVideo"
    return json_response(
        {
            "value": {
                "uploadUrlsExpireAt": int((state.clock.now() + DAY) * 1000),
                "video": urn,
                "uploadInstructions": [
                    {"uploadUrl": f"{url}?partNumber={i}", "firstByte": first, "lastByte": last}
                    for i, (first, last) in enumerate(parts, 1)
                ],
                "uploadToken": upload_token,
            }
        }
    )


@router.put("/dms-uploads/sp/v2/{upload_token}/uploadedVideo")
async def upload_video_part(request: Request, upload_token: str) -> Response:
    state = sandbox(request)
    authenticate(request, NAME, unauthorized)
    video = next((v for v in state.objects_of(NAME, "video") if v["token"] == upload_token), None)
    part = request.query_params.get("partNumber", "1")
    if video is None or not part.isdigit() or not 1 <= int(part) <= len(video["parts"]):
        return api_error(404, "Upload not found")
    index = int(part) - 1
    first, last = video_parts(video["size"], state.settings.linkedin_video_part_bytes)[index]
    data = await request.body()
    if len(data) != last - first + 1:
        return api_error(400, f"Part {part} must be bytes {first}-{last}", "ILLEGAL_ARGUMENT")
    etag = digits(f"{upload_token}:{part}:{len(data)}", 12)
    video["parts"][index] = (etag, data)
    return Response(status_code=200, headers={"ETag": etag})


def finalize_video(state: SandboxState, body: dict[str, Any]) -> Response:
    video = state.get(NAME, "video", str(body.get("video", "")))
    if video is None or body.get("uploadToken", "") != video["token"]:
        return api_error(404, "Video upload not found", "NOT_FOUND")
    if video["uploaded_at"] is not None:
        return api_error(400, "Upload already finalized", "ILLEGAL_ARGUMENT")
    if None in video["parts"] or body.get("uploadedPartIds") != [p[0] for p in video["parts"]]:
        return api_error(
            400, "uploadedPartIds must list the ETag of every part, in order", "ILLEGAL_ARGUMENT"
        )
    head = video["parts"][0][1]
    found = sniff(head, video["size"])
    video["media"] = found.as_json()
    video["uploaded_at"] = state.clock.now()
    video["parts"] = [(etag, b"") for etag, _ in video["parts"]]  # bytes are not kept
    if found.format != "mp4":
        video["error"] = "UNSUPPORTED_FORMAT"
    return Response(status_code=200)


@router.get("/rest/videos/{urn}")
async def get_video(request: Request, urn: str) -> Response:
    state = sandbox(request)
    member(request)
    video = state.get(NAME, "video", unquote(urn))
    if video is None:
        return api_error(404, "Not Found", "NOT_FOUND")
    body: dict[str, Any] = {
        "id": video["id"],
        "owner": video["owner"],
        "status": image_status(state, video),
    }
    if body["status"] == "AVAILABLE":
        body["downloadUrl"] = f"https://dms.licdn.com/playlist/vid/{video['id']}"
    return json_response(body)


@router.get("/rest/images/{urn}")
async def get_image(request: Request, urn: str) -> Response:
    state = sandbox(request)
    member(request)
    image = state.get(NAME, "image", unquote(urn))
    if image is None:
        return api_error(404, "Not Found", "NOT_FOUND")
    return json_response(
        {
            "id": image["id"],
            "owner": image["owner"],
            "status": image_status(state, image),
            "downloadUrl": f"https://media.licdn.com/dms/image/{image['id']}",
        }
    )


# posts -------------------------------------------------------------------------------------
def invalid_post(message: str) -> Response:
    return api_error(422, message, "UNPROCESSABLE_ENTITY")


@router.post("/rest/posts")
async def create_post(request: Request) -> Response:
    state = sandbox(request)
    _, me = member(request, "w_member_social")
    body = await json_body(request, lambda m: api_error(400, m))
    author = author_account(state, me, str(body.get("author", "")))
    if author is None:
        return api_error(403, "Not enough permissions to post as this author", "ACCESS_DENIED")
    commentary = body.get("commentary", "")
    if not isinstance(commentary, str) or len(commentary) > MAX_COMMENTARY:
        return invalid_post(f"commentary must be at most {MAX_COMMENTARY} characters")
    if body.get("visibility") not in ("PUBLIC", "CONNECTIONS", "LOGGED_IN"):
        return invalid_post("visibility is required")
    if body.get("lifecycleState") != "PUBLISHED" or "distribution" not in body:
        return invalid_post("lifecycleState PUBLISHED and distribution are required")
    media = []
    content_media = (body.get("content") or {}).get("media") or {}
    media_id = content_media.get("id")
    alt_text = content_media.get("altText")
    if media_id:
        kind = "video" if str(media_id).startswith("urn:li:video:") else "image"
        found = state.get(NAME, kind, str(media_id))
        if found is None or image_status(state, found) != "AVAILABLE":
            return invalid_post(f"Media {media_id} is not AVAILABLE")
        if alt_text is not None and (
            kind != "image" or not isinstance(alt_text, str) or len(alt_text) > MAX_ALT_TEXT
        ):
            return invalid_post(
                f"content.media.altText is text of at most {MAX_ALT_TEXT} characters, "
                "on images only"
            )
        extra = {"altText": alt_text} if alt_text is not None else {}
        media.append({"id": media_id, **(found["media"] or {}), **extra})
    now = state.clock.now()
    window = state.settings.linkedin_duplicate_window
    duplicate = state.same_text_since(NAME, author.id, commentary, now - window)
    if commentary and duplicate is not None:
        return api_error(422, f"Content is a duplicate of {duplicate.id}", "DUPLICATE_POST")
    cap = state.limits.calendar(
        (NAME, "shares", me.id), state.settings.linkedin_posts_per_day, "UTC", now
    )
    if not cap.allowed:
        return api_error(
            429,
            "Resource level throttle MEMBER DAY limit for calls to this resource is reached.",
            "TOO_MANY_REQUESTS",
            serviceErrorCode=101,
        )
    post = state.add_post(
        Post(
            platform=NAME,
            id=share_id(state),
            account_id=author.id,
            text=commentary,
            media=media,
            created_at=now,
            request=request_record(request, body),
        )
    )
    # 201 with an empty body: the id only travels in x-restli-id.
    return Response(status_code=201, headers={"x-restli-id": post.id, "x-linkedin-id": post.id})


def post_json(post: Post, author: Account) -> dict[str, Any]:
    return {
        "id": post.id,
        "author": author_urn(author),
        "commentary": post.text,
        "visibility": "PUBLIC",
        "lifecycleState": "PUBLISHED",
        "distribution": {"feedDistribution": "MAIN_FEED"},
        "publishedAt": int(post.created_at * 1000),
        "createdAt": int(post.created_at * 1000),
        **({"content": {"media": {"id": post.media[0]["id"]}}} if post.media else {}),
    }


@router.get("/rest/posts")
async def find_posts(request: Request) -> Response:
    state = sandbox(request)
    _, me = member(request)
    if request.query_params.get("q") != "author":
        return api_error(400, "q=author is required", "ILLEGAL_ARGUMENT")
    author = author_account(state, me, unquote(request.query_params.get("author", "")))
    if author is None:
        return api_error(403, "Not enough permissions", "ACCESS_DENIED")
    start_text = request.query_params.get("start", "0")
    count_text = request.query_params.get("count", "10")
    if not start_text.isdigit() or not count_text.isdigit() or int(count_text) > MAX_POSTS_COUNT:
        return api_error(
            400, f"start and count (at most {MAX_POSTS_COUNT}) must be numbers", "ILLEGAL_ARGUMENT"
        )
    start, count = int(start_text), int(count_text)
    posts = state.posts_of(NAME, author.id)  # newest first, as sortBy=CREATED or LAST_MODIFIED
    return json_response(
        {
            "elements": [post_json(p, author) for p in posts[start : start + count]],
            "paging": {"start": start, "count": count, "total": len(posts)},
        }
    )


@router.api_route("/rest/posts/{urn}", methods=["GET", "DELETE"])
async def one_post(request: Request, urn: str) -> Response:
    state = sandbox(request)
    _, me = member(request)
    post = state.post(NAME, unquote(urn))
    author = state.account(NAME, post.account_id) if post else None
    if post is None or author is None:
        return api_error(404, "Not Found", "NOT_FOUND")
    if request.method == "DELETE":
        if author_account(state, me, author_urn(author)) is None:
            return api_error(403, "Not enough permissions", "ACCESS_DENIED")
        post.deleted = True
        return Response(status_code=204)
    return json_response(post_json(post, author))


# analytics ---------------------------------------------------------------------------------
def share_stats(state: SandboxState, posts: list[Post]) -> dict[str, Any]:
    totals = {
        "impressionCount": 0,
        "uniqueImpressionsCount": 0,
        "clickCount": 0,
        "likeCount": 0,
        "commentCount": 0,
        "shareCount": 0,
    }
    for post in posts:
        c = metrics.post_counts(state, post)
        totals["impressionCount"] += c.views
        totals["uniqueImpressionsCount"] += c.reach
        totals["clickCount"] += c.clicks
        totals["likeCount"] += c.likes
        totals["commentCount"] += c.comments
        totals["shareCount"] += c.shares
    interactions = sum(totals[k] for k in ("clickCount", "likeCount", "commentCount", "shareCount"))
    return {**totals, "engagement": interactions / max(1, totals["impressionCount"])}


@router.get("/rest/organizationalEntityShareStatistics")
async def org_share_statistics(request: Request) -> Response:
    state = sandbox(request)
    _, me = member(request, "r_organization_social")
    params = request.query_params
    org_urn = unquote(params.get("organizationalEntity", ""))
    org = author_account(state, me, org_urn)
    if params.get("q") != "organizationalEntity" or org is None or org.kind != "organization":
        return api_error(
            403, "Not enough permissions to access organization statistics", "ACCESS_DENIED"
        )
    year_ago = state.clock.now() - 365 * DAY  # a rolling 12-month window
    wanted = []
    for key in ("shares", "ugcPosts"):
        match = LIST.fullmatch(unquote(params.get(key, "")))
        if match:
            wanted += [u for u in match.group(1).split(",") if u]
    posts = [p for p in state.posts_of(NAME, org.id) if p.created_at >= year_ago]
    if wanted:
        elements = [
            {
                "organizationalEntity": org_urn,
                "share": p.id,
                "totalShareStatistics": share_stats(state, [p]),
            }
            for p in posts
            if p.id in wanted
        ]
    else:
        elements = [
            {"organizationalEntity": org_urn, "totalShareStatistics": share_stats(state, posts)}
        ]
    return json_response({"elements": elements, "paging": {"count": 10, "start": 0}})


METRIC_TYPE_KEY = "com.linkedin.adsexternalapi.memberanalytics.v1.CreatorPostAnalyticsMetricTypeV1"
MEMBER_QUERY = {
    "IMPRESSION": "views",
    "MEMBERS_REACHED": "reach",
    "RESHARE": "shares",
    "REACTION": "likes",
    "COMMENT": "comments",
}


@router.get("/rest/memberCreatorPostAnalytics")
async def member_post_analytics(request: Request) -> Response:
    """One metric (``queryType``) of one post of the member's (``q=entity``) or of all of them
    (``q=me``), its lifetime total (``aggregation=TOTAL``; DAILY is answered as one total
    too: SocialSeed asks for totals only)."""
    state = sandbox(request)
    _, me = member(request, "r_member_postAnalytics")
    params = request.query_params
    finder, query = params.get("q", ""), params.get("queryType", "")
    if finder not in ("entity", "me"):
        return api_error(400, "q must be entity or me", "ILLEGAL_ARGUMENT")
    if query not in MEMBER_QUERY:
        return api_error(
            400, "queryType must be one of " + ", ".join(MEMBER_QUERY), "ILLEGAL_ARGUMENT"
        )
    if params.get("aggregation", "TOTAL") not in ("TOTAL", "DAILY"):
        return api_error(400, "aggregation must be DAILY or TOTAL", "ILLEGAL_ARGUMENT")
    posts = state.posts_of(NAME, me.id)
    if finder == "entity":
        match = re.fullmatch(r"urn:li:(?:share|ugcPost):\d+", unquote(params.get("entity", "")))
        if match is None:
            return api_error(400, "entity must be a share or ugcPost URN", "ILLEGAL_ARGUMENT")
        posts = [p for p in posts if p.id == match.group(0)]
    total = sum(metrics.post_counts(state, p).as_dict()[MEMBER_QUERY[query]] for p in posts)
    return json_response(
        {
            "elements": [
                {
                    "count": total,
                    "metricType": {METRIC_TYPE_KEY: query},
                }
            ],
            "paging": {"count": 10, "start": 0},
        }
    )


def social_summary(state: SandboxState, post: Post) -> dict[str, Any]:
    c = metrics.post_counts(state, post)
    return {
        "target": post.id,
        "likesSummary": {"totalLikes": c.likes, "likedByCurrentUser": False},
        "commentsSummary": {
            "aggregatedTotalComments": c.comments,
            "totalFirstLevelComments": c.comments,
        },
    }


@router.get("/rest/socialActions")
async def social_actions_batch(request: Request) -> Response:
    """BATCH_GET ``?ids=List(urn,...)``: Rest.li's batch answer, ``results`` keyed by URN for
    the posts found and ``errors`` (with ``statuses``) for the others, e.g. a deleted post's
    404: one missing post never fails the call."""
    state = sandbox(request)
    member(request)
    match = LIST.fullmatch(unquote(request.query_params.get("ids", "")))
    if match is None:
        return api_error(400, "ids=List(...) is required", "ILLEGAL_ARGUMENT")
    results: dict[str, Any] = {}
    statuses: dict[str, int] = {}
    errors: dict[str, Any] = {}
    for urn in (u for u in match.group(1).split(",") if u):
        post = state.post(NAME, urn)
        if post is None:
            statuses[urn] = 404
            errors[urn] = {"status": 404, "message": f"Not Found: {urn}", "code": "NOT_FOUND"}
            continue
        statuses[urn] = 200
        results[urn] = social_summary(state, post)
    return json_response({"results": results, "statuses": statuses, "errors": errors})


@router.get("/rest/networkSizes/{urn}")
async def network_sizes(request: Request, urn: str) -> Response:
    """An organization's follower count: ``edgeType=COMPANY_FOLLOWED_BY_MEMBER`` (Organization
    Lookup API); ``firstDegreeSize`` is the number of members following it."""
    state = sandbox(request)
    member(request)  # any member may read any organization's follower count
    if request.query_params.get("edgeType") != "COMPANY_FOLLOWED_BY_MEMBER":
        return api_error(400, "edgeType COMPANY_FOLLOWED_BY_MEMBER is required", "ILLEGAL_ARGUMENT")
    kind, _, ident = unquote(urn).removeprefix("urn:li:").partition(":")
    org = state.account(NAME, ident)
    if kind != "organization" or org is None or org.kind != "organization":
        return api_error(404, "Not Found", "NOT_FOUND")
    return json_response({"firstDegreeSize": metrics.followers(state, org)})


@router.get("/rest/memberFollowersCount")
async def member_followers_count(request: Request) -> Response:
    """``?q=me``: how many members follow the authenticated member (r_member_followersCount)."""
    state = sandbox(request)
    _, me = member(request, "r_member_followersCount")
    if request.query_params.get("q") != "me":
        return api_error(400, "q=me is required", "ILLEGAL_ARGUMENT")
    return json_response(
        {
            "elements": [{"memberFollowersCount": metrics.followers(state, me)}],
            "paging": {"count": 10, "start": 0, "links": []},
        }
    )


@router.get("/rest/socialActions/{urn}")
async def social_actions(request: Request, urn: str) -> Response:
    state = sandbox(request)
    member(request)
    post = state.post(NAME, unquote(urn))
    if post is None:
        return api_error(404, "Not Found", "NOT_FOUND")
    return json_response(social_summary(state, post))


# comments ----------------------------------------------------------------------------------
# The longest comment LinkedIn takes (message.text); longer is a 422 and nothing is stored.
MAX_COMMENT = 1_250


def comment_json(c: Comment) -> dict[str, Any]:
    urn = f"urn:li:comment:({c.post_id},{c.id})"
    return {
        "id": c.id,
        "$URN": urn,
        "commentUrn": urn,
        "actor": c.author_id,
        "object": c.post_id,
        "message": {"text": c.text, "attributes": []},
        "created": {"actor": c.author_id, "time": int(c.created_at * 1000)},
        "lastModified": {"actor": c.author_id, "time": int(c.created_at * 1000)},
    }


@router.post("/rest/socialActions/{urn}/comments")
async def create_comment(request: Request, urn: str) -> Response:
    """A comment by ``actor`` (the member, or an organization the member administers) on a
    post: 201 with the comment, its URN also in ``x-restli-id``."""
    state = sandbox(request)
    _, me = member(request, "w_member_social")
    post = state.post(NAME, unquote(urn))
    if post is None:
        return api_error(404, "Not Found", "NOT_FOUND")
    body = await json_body(request, lambda m: api_error(400, m))
    actor = str(body.get("actor", ""))
    if author_account(state, me, actor) is None:
        return api_error(403, "Not enough permissions to comment as this actor", "ACCESS_DENIED")
    text = (
        (body.get("message") or {}).get("text") if isinstance(body.get("message"), dict) else None
    )
    if not isinstance(text, str) or not text.strip():
        return api_error(422, "message.text is required", "UNPROCESSABLE_ENTITY")
    if len(text) > MAX_COMMENT:
        return api_error(
            422,
            f"message.text must be at most {MAX_COMMENT} characters",
            "UNPROCESSABLE_ENTITY",
        )
    comment = state.add_comment(
        Comment(
            platform=NAME,
            id=str(7_400_000_000_000_000_000 + state.ids.next("linkedin:comment")),
            post_id=post.id,
            author_id=actor,
            text=text,
            created_at=state.clock.now(),
            request=request_record(request, body),
        )
    )
    answer = comment_json(comment)
    return json_response(answer, 201, {"x-restli-id": answer["$URN"]})


@router.get("/rest/socialActions/{urn}/comments")
async def list_comments(request: Request, urn: str) -> Response:
    """A post's comments, oldest first, ``start``/``count`` (10, at most 100) paging."""
    state = sandbox(request)
    member(request)
    post = state.post(NAME, unquote(urn))
    if post is None:
        return api_error(404, "Not Found", "NOT_FOUND")
    start_text = request.query_params.get("start", "0")
    count_text = request.query_params.get("count", "10")
    if not start_text.isdigit() or not count_text.isdigit() or not 1 <= int(count_text) <= 100:
        return api_error(400, "start and count (1 to 100) must be numbers", "ILLEGAL_ARGUMENT")
    start, count = int(start_text), int(count_text)
    items = state.comments_on(NAME, post.id)
    return json_response(
        {
            "elements": [comment_json(c) for c in items[start : start + count]],
            "paging": {"start": start, "count": count, "total": len(items)},
        }
    )


def truth(state: SandboxState, post: Post) -> dict[str, Any]:
    return {"totalShareStatistics": share_stats(state, [post])}


SPEC = PlatformSpec(NAME, router, rate_limited, server_error, truth)
