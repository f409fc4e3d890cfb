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

import asyncio
import re
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx

from socialseed.budgets.rules import RateLimits, Rule, publishing_cap
from socialseed.platforms.base import (
    AccountMetrics,
    ErrorKind,
    ItemFailure,
    ListedPost,
    MediaKind,
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
from socialseed.platforms.oauth2 import OAuth2Provider
from socialseed.platforms.parsing import JSON, as_int, json_object, seconds_until_midnight
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
#: The Posts API's largest page, and a safety stop on the pages one listing reads.
LIST_PAGE = 100
MAX_LIST_PAGES = 100
MAX_COMMENT_PAGES = 10  # a first comment is among a post's first thousand
#: What each analytics endpoint needs, for the words of a 403 (LinkedIn's message names no
#: permission: "Not enough permissions to access: ...").
MISSING_PERMISSION = {
    "memberCreatorPostAnalytics": ("r_member_postAnalytics", "a member's post analytics"),
    "memberFollowersCount": ("r_member_followersCount", "a member's follower count"),
    "organizationalEntityShareStatistics": ("r_organization_social", "a page's post statistics"),
    "networkSizes": ("r_organization_social", "a page's follower count"),
}
#: The member post analytics asked for, one call each per post (``queryType``), and the
#: ``PostMetrics`` field each one fills.
MEMBER_METRICS = {
    "IMPRESSION": "impressions",
    "MEMBERS_REACHED": "reach",
    "REACTION": "likes",
    "COMMENT": "comments",
    "RESHARE": "shares",
}
#: URNs per ``organizationalEntityShareStatistics`` call. LinkedIn documents no maximum for
#: ``shares=List(...)``/``ugcPosts=List(...)``; the URNs travel URL-encoded in the query string
#: (about 40 characters each), and 20 keep the request near 1 KB, far below the URL lengths
#: proxies and Rest.li's servers refuse (past which LinkedIn wants query tunnelling).
SHARE_STATISTICS_BATCH = 20


class LinkedInProvider(OAuth2Provider):
    platform = Platform.LINKEDIN
    name = "LinkedIn"
    rate_limits = RateLimits(
        # Calendar days ending at midnight UTC: 1,000,000 calls per app, 100,000 per member;
        # 150 posts a day per member, 100,000 for the whole app.
        reads=(
            Rule(bucket="linkedin:app", limit=1_000_000, window="calendar"),
            Rule(
                bucket="linkedin:member:{user}", scope="account", limit=100_000, window="calendar"
            ),
        ),
        publishes=(
            publishing_cap("linkedin", 150, timedelta(hours=24)),
            Rule(bucket="linkedin:publish:app", limit=100_000, every=timedelta(days=1)),
        ),
    )
    # LinkedIn does not promise the old refresh token survives a refresh (its TTL is not reset
    # and the sandbox ends it): treat it as rotating, the safe side, so refreshes are serialised.
    rotating_refresh = True
    # The member scopes of analytics: a member's post analytics (memberCreatorPostAnalytics)
    # and follower count (memberFollowersCount). Asked at connect; a connection made before
    # them is told to reconnect (see ``MISSING_PERMISSION``).
    default_scopes = (
        "openid",
        "profile",
        "w_member_social",
        "r_member_postAnalytics",
        "r_member_followersCount",
    )
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
        if status == 403:
            endpoint = response.request.url.path.rsplit("/rest/", 1)[-1].split("/", 1)[0]
            if endpoint in MISSING_PERMISSION:
                scope, what = MISSING_PERMISSION[endpoint]
                return self.fail(
                    ErrorKind.PERMANENT,
                    response,
                    detail=f"this connection was made without the permission {scope} "
                    f"({what}); reconnect the account to grant it",
                    code=code or "403",
                )
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

    async def account_urn(self, tokens: TokenSet) -> str:
        """The account the tokens act for: an organization (its page) when the account's id
        is an organization URN or a bare organization number (members' ids are never all
        digits), else the member."""
        ident = tokens.platform_user_id or ""
        if ident.startswith("urn:li:"):
            return ident
        return organization_urn(ident) or await self.author(tokens)

    async def rest_get(self, tokens: TokenSet, path: str, query: str = "") -> JSON:
        """A GET of the REST API; ``query`` is sent as written (Rest.li's ``List(...)`` must
        keep its parentheses and commas, the URNs inside percent-encoded)."""
        url = self.url((API, f"/rest/{path}")) + (f"?{query}" if query else "")
        return await self.send_json(Call.API, "GET", url, headers=self.rest_headers(tokens))

    async def posts_page(self, tokens: TokenSet, author: str, start: int, count: int) -> list[JSON]:
        """One page of the author's posts, newest first."""
        query = f"q=author&author={quote(author, safe='')}&count={count}"
        query += f"&start={start}&sortBy=CREATED"
        body = await self.rest_get(tokens, "posts", query)
        return [e for e in body.get("elements") or [] if isinstance(e, dict)]

    async def publish(
        self, tokens: TokenSet, post: PlatformPost, progress: Mapping[str, Any] | None = None
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
            alt_text = post.media[0].alt_text
            if alt_text and post.media[0].kind is MediaKind.IMAGE:
                body["content"]["media"]["altText"] = alt_text
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

    # first comment ------------------------------------------------------------------------
    #: LinkedIn refuses a longer ``message.text`` (422).
    comment_limit: int | None = 1_250

    async def post_comment(self, tokens: TokenSet, post_id: str, text: str) -> str:
        """``POST /rest/socialActions/{urn}/comments``, the actor the post's author (the
        member, as ``publish`` posts)."""
        body = {
            "actor": await self.author(tokens),
            "object": post_id,
            "message": {"text": text},
        }
        response = await self.send(
            Call.API,
            "POST",
            self.url((API, f"/rest/socialActions/{quote(post_id, safe='')}/comments")),
            json=body,
            headers=self.rest_headers(tokens),
        )
        answer = json_object(response) or {}
        comment = response.headers.get("x-restli-id") or answer.get("$URN") or answer.get("id")
        if not comment:
            raise self.fail(ErrorKind.TRANSIENT, response, detail="answered without a comment id")
        return str(comment)

    async def find_comment(
        self, tokens: TokenSet, post_id: str, text: str, since: datetime
    ) -> str | None:
        """Among the post's comments (oldest first, 100 a page), one by the author."""
        actor = await self.author(tokens)
        start = looked_for_since(since).timestamp() * 1000
        for page in range(MAX_COMMENT_PAGES):
            body = await self.rest_get(
                tokens,
                f"socialActions/{quote(post_id, safe='')}/comments",
                f"start={page * 100}&count=100",
            )
            elements = [e for e in body.get("elements") or [] if isinstance(e, dict)]
            for e in elements:
                created = (e.get("created") or {}).get("time")
                message = (e.get("message") or {}).get("text")
                fresh = not isinstance(created, int) or created >= start
                if e.get("actor") == actor and fresh and same_text(text, message):
                    return str(e.get("$URN") or e.get("commentUrn") or e.get("id"))
            if len(elements) < 100:
                return None
        return None

    async def ready_media(
        self, tokens: TokenSet, author: str, media: tuple[PlatformMedia, ...], urn: str | None
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

    async def upload(self, tokens: TokenSet, author: str, media: PlatformMedia) -> str:
        if media.kind is MediaKind.VIDEO:
            return await self.upload_video(tokens, author, media)
        value = await self.media_action(
            tokens, "images", "initializeUpload", {"initializeUploadRequest": {"owner": author}}
        )
        await self.put_bytes(tokens, str(value.get("uploadUrl")), media, 0, media.size)
        return str(value.get("image") or "")

    async def upload_video(self, tokens: TokenSet, author: str, media: PlatformMedia) -> str:
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
        self, tokens: TokenSet, url: str, media: PlatformMedia, start: int, end: int
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
        post: PlatformPost,
        since: datetime,
        progress: Mapping[str, Any] | None = None,
    ) -> PublishedPost | Pending | None:
        """The member's post created since ``since`` with this commentary and media (if any):
        recent posts come newest first, read page by page until older than ``since``."""
        author = await self.author(tokens)
        oldest_ms = looked_for_since(since).timestamp() * 1000
        for page in range(MAX_POST_PAGES):
            elements = await self.posts_page(tokens, author, page * POSTS_PER_PAGE, POSTS_PER_PAGE)
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

    # analytics -----------------------------------------------------------------------------
    metrics_batch_size = SHARE_STATISTICS_BATCH

    async def list_posts(self, tokens: TokenSet, since: datetime) -> PostListing:
        """The member's or organization's posts (``/rest/posts?q=author``), newest first,
        100 a page until one older than ``since``."""
        author = await self.account_urn(tokens)
        oldest_ms = since.timestamp() * 1000
        posts: list[ListedPost] = []
        calls = 0
        for page in range(MAX_LIST_PAGES):
            elements = await self.posts_page(tokens, author, page * LIST_PAGE, LIST_PAGE)
            calls += 1
            for element in elements:
                created = as_int(element.get("publishedAt") or element.get("createdAt"))
                if created is None or created < oldest_ms or not element.get("id"):
                    continue
                text = element.get("commentary")
                posts.append(
                    ListedPost(
                        id=str(element["id"]),
                        published_at=datetime.fromtimestamp(created / 1000, UTC),
                        url=post_url(str(element["id"])),
                        text=text if isinstance(text, str) else None,
                    )
                )
            created_all = [as_int(e.get("createdAt")) or 0 for e in elements]
            if len(elements) < LIST_PAGE or any(c < oldest_ms for c in created_all):
                break
        posts.sort(key=lambda p: p.published_at, reverse=True)
        return PostListing(tuple(posts), calls=calls)

    def metrics_cost(self, ids: Sequence[str], platform_user_id: str | None = None) -> int:
        """Calls: an organization's posts one ``organizationalEntityShareStatistics`` call; a
        member's one ``socialActions`` call (which posts still exist) and then one
        ``memberCreatorPostAnalytics`` call per metric of each post (it answers one metric of
        one post a call). An unknown account is counted as a member (the larger)."""
        if not ids:
            return 0
        if organization_urn(platform_user_id) is not None:
            return 1
        return 1 + len(MEMBER_METRICS) * len(ids)

    async def fetch_post_metrics(self, tokens: TokenSet, ids: Sequence[str]) -> MetricsBatch:
        """An organization's posts: one ``organizationalEntityShareStatistics`` call for all
        (lifetime totals: impressions, unique impressions, clicks, reactions, comments,
        reshares). A post missing from the statistics is looked up in ``socialActions`` (one
        more call for all of them): gone, or past the statistics' 12-month window. A member's
        posts: see ``member_post_metrics``."""
        if not ids:
            return MetricsBatch((), calls=0)
        if len(ids) > self.metrics_batch_size:
            raise ValueError(f"at most {self.metrics_batch_size} posts a call")
        account = await self.account_urn(tokens)
        if not account.startswith("urn:li:organization:"):
            return await self.member_post_metrics(tokens, ids)
        stats = await self.rest_get(
            tokens, "organizationalEntityShareStatistics", share_query(account, ids)
        )
        by_urn: dict[str, JSON] = {}
        for element in stats.get("elements") or []:
            if isinstance(element, dict):
                urn = element.get("share") or element.get("ugcPost")
                if urn:
                    by_urn[str(urn)] = element
        metrics = [share_metrics(urn, by_urn[urn]) for urn in ids if urn in by_urn]
        missing = [urn for urn in ids if urn not in by_urn]
        failures: list[ItemFailure] = []
        calls = 1
        if missing:
            alive, gone = await self.social_actions(tokens, missing)
            calls += 1
            failures = gone + [
                ItemFailure(
                    m.post_id,
                    MetricsGap.OUT_OF_WINDOW,
                    "LinkedIn reports share statistics for the last 12 months only",
                )
                for m in alive
            ]
        return MetricsBatch(tuple(metrics), tuple(failures), calls=calls)

    async def member_post_metrics(self, tokens: TokenSet, ids: Sequence[str]) -> MetricsBatch:
        """A member's posts (scope ``r_member_postAnalytics``, Community Management API): one
        batch ``socialActions`` call says which posts still exist (a deleted one is a 404
        there), then ``memberCreatorPostAnalytics?q=entity&aggregation=TOTAL`` gives each
        living post's impressions, members reached, reactions, comments and reshares, one
        metric a call (the post's five at once, the posts one after another). A connection
        made without the scope is refused before any call, in words that say to reconnect."""
        scope, what = MISSING_PERMISSION["memberCreatorPostAnalytics"]
        if tokens.scopes and scope not in tokens.scopes:
            raise self.fail(
                ErrorKind.PERMANENT,
                None,
                detail=f"this connection was made without the permission {scope} ({what}); "
                "reconnect the account to grant it",
                code="missing_scope",
            )
        alive, gone = await self.social_actions(tokens, ids)
        measured = [await self.member_post_analytics(tokens, m.post_id) for m in alive]
        calls = 1 + len(MEMBER_METRICS) * len(alive)
        return MetricsBatch(tuple(measured), tuple(gone), calls=calls)

    async def member_post_analytics(self, tokens: TokenSet, urn: str) -> PostMetrics:
        entity = quote(urn, safe="")
        answers = await asyncio.gather(
            *(
                self.rest_get(
                    tokens,
                    "memberCreatorPostAnalytics",
                    f"q=entity&entity={entity}&queryType={kind}&aggregation=TOTAL",
                )
                for kind in MEMBER_METRICS
            )
        )
        counts = {
            field: sum(
                as_int(e.get("count")) or 0
                for e in answer.get("elements") or []
                if isinstance(e, dict)
            )
            for field, answer in zip(MEMBER_METRICS.values(), answers, strict=True)
        }
        return PostMetrics(
            post_id=urn,
            impressions=counts["impressions"],
            reach=counts["reach"],
            likes=counts["likes"],
            comments=counts["comments"],
            shares=counts["shares"],
            raw=dict(zip(MEMBER_METRICS, answers, strict=True)),
        )

    async def social_actions(
        self, tokens: TokenSet, ids: Sequence[str]
    ) -> tuple[list[PostMetrics], list[ItemFailure]]:
        """BATCH_GET ``/rest/socialActions?ids=List(...)``: likes and comments of each post;
        a post LinkedIn answers 404 for is gone."""
        query = "ids=List(" + ",".join(quote(urn, safe="") for urn in ids) + ")"
        body = await self.rest_get(tokens, "socialActions", query)
        results = body.get("results") or {}
        errors = body.get("errors") or {}
        found: list[PostMetrics] = []
        failures: list[ItemFailure] = []
        for urn in ids:
            result = results.get(urn)
            if isinstance(result, dict):
                found.append(
                    PostMetrics(
                        post_id=urn,
                        likes=as_int((result.get("likesSummary") or {}).get("totalLikes")),
                        comments=as_int(
                            (result.get("commentsSummary") or {}).get("aggregatedTotalComments")
                        ),
                        raw=result,
                    )
                )
                continue
            error: JSON = errors[urn] if isinstance(errors.get(urn), dict) else {}
            status = as_int(error.get("status")) or as_int((body.get("statuses") or {}).get(urn))
            message = str(error.get("message") or "no answer for this post")
            gap = MetricsGap.DELETED if status == 404 else MetricsGap.UNAVAILABLE
            failures.append(ItemFailure(urn, gap, f"LinkedIn: {message}"))
        return found, failures

    async def fetch_account_metrics(self, tokens: TokenSet) -> AccountMetrics:
        """Followers: an organization's from ``networkSizes`` (members following the page), a
        member's from ``memberFollowersCount?q=me`` (scope ``r_member_followersCount``)."""
        account = await self.account_urn(tokens)
        if account.startswith("urn:li:organization:"):
            query = "edgeType=COMPANY_FOLLOWED_BY_MEMBER"
            body = await self.rest_get(tokens, f"networkSizes/{quote(account, safe='')}", query)
            return AccountMetrics(followers=as_int(body.get("firstDegreeSize")), raw=body)
        body = await self.rest_get(tokens, "memberFollowersCount", "q=me")
        elements = [e for e in body.get("elements") or [] if isinstance(e, dict)]
        followers = as_int(elements[0].get("memberFollowersCount")) if elements else None
        return AccountMetrics(followers=followers, raw=body)


def organization_urn(ident: str | None) -> str | None:
    """The organization an account id names (its URN, or its bare number: members' ids are
    never all digits), else ``None``."""
    if ident and ident.startswith("urn:li:organization:"):
        return ident
    if ident and ident.isdigit():
        return f"urn:li:organization:{ident}"
    return None


def share_query(organization: str, ids: Sequence[str]) -> str:
    """``organizationalEntityShareStatistics`` for these posts: shares and ugcPosts apart."""
    query = f"q=organizationalEntity&organizationalEntity={quote(organization, safe='')}"
    for key, prefix in (("shares", "urn:li:share:"), ("ugcPosts", "urn:li:ugcPost:")):
        urns = [quote(urn, safe="") for urn in ids if urn.startswith(prefix)]
        if urns:
            query += f"&{key}=List({','.join(urns)})"
    return query


def share_metrics(urn: str, element: JSON) -> PostMetrics:
    stats = element.get("totalShareStatistics") or {}
    return PostMetrics(
        post_id=urn,
        impressions=as_int(stats.get("impressionCount")),
        reach=as_int(stats.get("uniqueImpressionsCount")),
        likes=as_int(stats.get("likeCount")),
        comments=as_int(stats.get("commentCount")),
        shares=as_int(stats.get("shareCount")),
        clicks=as_int(stats.get("clickCount")),
        raw=element,
    )


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


def is_post_of(element: JSON, post: PlatformPost) -> bool:
    has_media = bool((element.get("content") or {}).get("media"))
    return has_media == bool(post.media) and same_text(
        little_text(post.text), element.get("commentary")
    )
