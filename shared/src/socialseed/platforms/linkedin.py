"""LinkedIn: 3-legged OAuth on www.linkedin.com, 60-day access tokens, refresh tokens only for
approved partners (otherwise the member consents again), profile from OpenID ``/v2/userinfo``.

LinkedIn gives members no public handle nor follower counts through OpenID, so the profile carries
the name only. Its throttles are daily and reset at midnight UTC; a 429 carries no headers.

Publishing goes through the versioned REST API (``LinkedIn-Version`` pinned below,
``X-Restli-Protocol-Version: 2.0.0``): the post's one image (Images API: initializeUpload, one
PUT) or video (Videos API: initializeUpload names the parts, one PUT per part keeping its ETag,
finalizeUpload with the ETags in order) is uploaded as the member (invisible, safe to repeat),
``Pending`` while its status is not ``AVAILABLE``; then ``POST /rest/posts`` (the one visible
step) answers 201 with the post's URN in ``x-restli-id`` only. ``progress`` holds ``media``, the
uploaded image or video URN. The member is ``urn:li:person:<tokens.platform_user_id>`` (the
vault's answer carries the id; else ``/v2/userinfo`` is asked).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx

from socialseed.platforms.base import (
    ErrorKind,
    Media,
    MediaKind,
    Pending,
    Platform,
    PlatformError,
    Post,
    Profile,
    PublishedPost,
    TokenSet,
)
from socialseed.platforms.oauth2 import OAuth2Provider
from socialseed.platforms.parsing import JSON, as_int, seconds_until_midnight
from socialseed.platforms.provider import Call
from socialseed.platforms.publishing import chunks, id_in, looked_for_since, same_text

WWW = "https://www.linkedin.com"
API = "https://api.linkedin.com"
REAUTH_CODES = {
    65600: "says this connection's access token is invalid or has expired",
    65601: "says this connection was revoked",
    65602: "says this connection was revoked",
}
#: The REST API version we were written against (LinkedIn serves each for about a year).
VERSION = "202611"
#: Characters of the "little" text format that must be backslash-escaped to read as text.
RESERVED = re.compile(r"[\\|{}@\[\]()<>*_~]|#(?!\w)")
URL = re.compile(r"https?://\S+")
READ_BYTES = 1024 * 1024
#: How long to wait before asking again about an image or video being processed.
PROCESSING_POLL = 5.0
#: Pages of recent posts read when looking for an in-doubt post: a safety stop.
MAX_POST_PAGES = 5
POSTS_PER_PAGE = 50


class LinkedInProvider(OAuth2Provider):
    platform = Platform.LINKEDIN
    name = "LinkedIn"
    # LinkedIn does not promise the old refresh token survives a refresh (its TTL is not reset
    # and the sandbox ends it): treat it as rotating, the safe side, so refreshes are serialised.
    rotating_refresh = True
    default_scopes = ("openid", "profile", "w_member_social")
    authorize_endpoint = (WWW, "/oauth/v2/authorization")
    token_endpoint = (WWW, "/oauth/v2/accessToken")
    revoke_endpoint = (WWW, "/oauth/v2/revoke")
    no_refresh_detail = (
        "gives this app no refresh token, so the connection cannot be renewed when its "
        "60-day access token ends"
    )

    def api_error(self, response: httpx.Response, body: JSON) -> PlatformError:
        status = response.status_code
        service_code = body.get("serviceErrorCode")
        code = str(service_code or body.get("code") or "") or None
        message = str(body.get("message") or "") or None
        if status == 401 or service_code in REAUTH_CODES:
            detail = REAUTH_CODES.get(service_code or 0, REAUTH_CODES[65600])
            return self.fail(ErrorKind.REAUTH_REQUIRED, response, detail=detail, code=code)
        if status == 429:
            # Daily throttles (per member and per app) reset at midnight UTC.
            wait = seconds_until_midnight(self.clock(), "UTC")
            return self.rate_limited(response, wait, detail="daily limit reached", code=code)
        if status == 422 and message and "duplicate" in message.lower():
            return self.fail(ErrorKind.PERMANENT, response, detail=message, code="duplicate")
        return self.by_status(response, message, code)

    async def profile(self, tokens: TokenSet) -> Profile:
        user = await self.send_json(
            Call.API, "GET", self.url((API, "/v2/userinfo")), headers=self.bearer(tokens)
        )
        name = str(
            user.get("name")
            or " ".join(str(user.get(part) or "") for part in ("given_name", "family_name")).strip()
        )
        return Profile(
            platform_user_id=str(user.get("sub") or ""),
            # No handle in OpenID userinfo: the member's name is what people know them by.
            username=name,
            display_name=name,
            avatar_url=user.get("picture"),
        )

    # publishing ----------------------------------------------------------------------------
    def rest_headers(self, tokens: TokenSet) -> dict[str, str]:
        return {
            **self.bearer(tokens),
            "LinkedIn-Version": VERSION,
            "X-Restli-Protocol-Version": "2.0.0",
        }

    async def author(self, tokens: TokenSet) -> str:
        member = tokens.platform_user_id or (await self.profile(tokens)).platform_user_id
        return f"urn:li:person:{member}"

    async def publish(
        self, tokens: TokenSet, post: Post, progress: Mapping[str, Any] | None = None
    ) -> PublishedPost | Pending:
        author = await self.author(tokens)
        media_urn = id_in(progress, "media")
        if post.media:
            media_urn, status = await self.ready_media(tokens, author, post.media, media_urn)
            if status != "AVAILABLE":
                return Pending({"media": media_urn}, PROCESSING_POLL, status=status)
        body: JSON = {
            "author": author,
            "commentary": little_text(post.text),
            "visibility": str(post.options.get("visibility") or "PUBLIC"),
            "distribution": {
                "feedDistribution": "MAIN_FEED",
                "targetEntities": [],
                "thirdPartyDistributionChannels": [],
            },
            "lifecycleState": "PUBLISHED",
            "isReshareDisabledByAuthor": False,
        }
        if media_urn:
            body["content"] = {"media": {"id": media_urn}}
        response = await self.send(
            Call.API,
            "POST",
            self.url((API, "/rest/posts")),
            json=body,
            headers=self.rest_headers(tokens),
        )
        urn = response.headers.get("x-restli-id") or ""
        if not urn:
            raise self.fail(ErrorKind.TRANSIENT, response, detail="answered without a post id")
        return PublishedPost(id=urn, url=post_url(urn), published_at=self.clock())

    async def ready_media(
        self, tokens: TokenSet, author: str, media: tuple[Media, ...], urn: str | None
    ) -> tuple[str, str]:
        """The URN of the post's image or video, uploaded if it is not yet, and its status."""
        if len(media) != 1:
            raise self.fail(
                ErrorKind.BAD_REQUEST,
                None,
                detail="posts take one image or one video through this adapter",
            )
        status = await self.media_status(tokens, urn) if urn else "WAITING_UPLOAD"
        if status == "WAITING_UPLOAD":  # never uploaded, or the upload did not complete
            urn = await self.upload(tokens, author, media[0])
            status = await self.media_status(tokens, urn)
        if status == "PROCESSING_FAILED":
            raise self.fail(
                ErrorKind.BAD_REQUEST,
                None,
                detail="could not process the media file",
                code="PROCESSING_FAILED",
            )
        assert urn is not None
        return urn, status

    async def upload(self, tokens: TokenSet, author: str, media: Media) -> str:
        if media.kind is MediaKind.VIDEO:
            return await self.upload_video(tokens, author, media)
        value = await self.media_action(
            tokens, "images", "initializeUpload", {"initializeUploadRequest": {"owner": author}}
        )
        await self.put_bytes(tokens, str(value.get("uploadUrl")), media, 0, media.size)
        return str(value.get("image") or "")

    async def upload_video(self, tokens: TokenSet, author: str, media: Media) -> str:
        """Videos API multi-part upload: one PUT per part LinkedIn names, then finalize."""
        request = {
            "owner": author,
            "fileSizeBytes": media.size,
            "uploadCaptions": False,
            "uploadThumbnail": False,
        }
        value = await self.media_action(
            tokens, "videos", "initializeUpload", {"initializeUploadRequest": request}
        )
        urn = str(value.get("video") or "")
        etags = []
        for part in value.get("uploadInstructions") or []:
            first, last = as_int(part.get("firstByte")) or 0, as_int(part.get("lastByte")) or 0
            response = await self.put_bytes(
                tokens, str(part.get("uploadUrl")), media, first, last + 1
            )
            etags.append(response.headers.get("etag", ""))
        finalize = {
            "video": urn,
            "uploadToken": value.get("uploadToken") or "",
            "uploadedPartIds": etags,
        }
        await self.media_action(
            tokens, "videos", "finalizeUpload", {"finalizeUploadRequest": finalize}
        )
        return urn

    async def media_action(self, tokens: TokenSet, kind: str, action: str, body: JSON) -> JSON:
        response = await self.send(
            Call.API,
            "POST",
            self.url((API, f"/rest/{kind}")),
            params={"action": action},
            json=body,
            headers=self.rest_headers(tokens),
        )
        value = response.json().get("value") if response.content else None
        return value if isinstance(value, dict) else {}

    async def put_bytes(
        self, tokens: TokenSet, url: str, media: Media, start: int, end: int
    ) -> httpx.Response:
        """PUT bytes ``start`` to ``end`` of ``media``, streamed (never read whole)."""

        async def body() -> AsyncIterator[bytes]:
            async for chunk in chunks(media, READ_BYTES, start, end):
                yield chunk

        headers = {**self.bearer(tokens), "Content-Length": str(end - start)}
        return await self.send(Call.API, "PUT", url, content=body(), headers=headers)

    async def media_status(self, tokens: TokenSet, urn: str) -> str:
        kind = "videos" if urn.startswith("urn:li:video:") else "images"
        body = await self.send_json(
            Call.API,
            "GET",
            self.url((API, f"/rest/{kind}/{quote(urn, safe='')}")),
            headers=self.rest_headers(tokens),
        )
        return str(body.get("status") or "PROCESSING")

    # reconciliation ------------------------------------------------------------------------
    async def find_published_post(
        self,
        tokens: TokenSet,
        post: Post,
        since: datetime,
        progress: Mapping[str, Any] | None = None,
    ) -> PublishedPost | Pending | None:
        """The member's post created since ``since`` with this commentary and media (if any):
        recent posts come newest first, read page by page until older than ``since``."""
        author = await self.author(tokens)
        oldest_ms = looked_for_since(since).timestamp() * 1000
        for page in range(MAX_POST_PAGES):
            query = f"q=author&author={quote(author, safe='')}&count={POSTS_PER_PAGE}"
            query += f"&start={page * POSTS_PER_PAGE}&sortBy=CREATED"
            body = await self.send_json(
                Call.API,
                "GET",
                self.url((API, f"/rest/posts?{query}")),
                headers=self.rest_headers(tokens),
            )
            elements = [e for e in body.get("elements") or [] if isinstance(e, dict)]
            for element in elements:
                created = as_int(element.get("createdAt")) or 0
                if created >= oldest_ms and is_post_of(element, post):
                    return PublishedPost(
                        id=str(element["id"]),
                        url=post_url(str(element["id"])),
                        published_at=datetime.fromtimestamp(created / 1000, UTC),
                    )
            if len(elements) < POSTS_PER_PAGE or any(
                (as_int(e.get("createdAt")) or 0) < oldest_ms for e in elements
            ):
                return None
        return None


def little_text(text: str) -> str:
    """``commentary`` in LinkedIn's "little" format: reserved characters escaped so they read
    as text (a bare one cuts the post short), links and #hashtags left to work as such."""
    parts = []
    last = 0
    for link in URL.finditer(text):
        parts.append(RESERVED.sub(lambda m: "\\" + m.group(0), text[last : link.start()]))
        parts.append(link.group(0))
        last = link.end()
    parts.append(RESERVED.sub(lambda m: "\\" + m.group(0), text[last:]))
    return "".join(parts)


def post_url(urn: str) -> str:
    return f"{WWW}/feed/update/{urn}"


def is_post_of(element: JSON, post: Post) -> bool:
    has_media = bool((element.get("content") or {}).get("media"))
    return has_media == bool(post.media) and same_text(
        little_text(post.text), element.get("commentary")
    )
