"""Facebook Pages (Facebook Login, graph.facebook.com).

The code buys a short user token (1-2 h), exchanged at once for a long-lived one (~60 days,
``fb_exchange_token``). The pages come from ``/me/accounts`` with that token: each page is one
``Connection`` holding its own page token, which never expires (it dies only when the user changes
password or removes the app: 190 with 460/458). There are no refresh tokens and no PKCE.

Publishing with the page token (the page is ``tokens.platform_user_id``, else ``/me``), one
visible step per call: text (and ``options["link"]``) goes to ``POST /{page-id}/feed``; one photo
to ``POST /{page-id}/photos`` with its ``url``; several photos are uploaded unpublished
(invisible) then attached to one feed post (``attached_media``); a video is
``POST /{page-id}/videos`` with its ``file_url``, then ``Pending`` (``progress["video_id"]``)
while ``GET /{video-id}?fields=status,post_id`` says it is processing; once ready, the page post
it became (``post_id``) is the published id. Facebook pulls media from the signed
``PlatformMedia.url`` the publisher serves.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from socialseed.budgets.rules import RateLimits, Rule, publishing_cap
from socialseed.platforms.base import (
    AccountMetrics,
    Authorization,
    Connection,
    ErrorKind,
    ItemFailure,
    MediaKind,
    MetricsBatch,
    Pending,
    Platform,
    PlatformError,
    PlatformPost,
    PostListing,
    PostMetrics,
    Profile,
    PublishedPost,
    TokenSet,
)
from socialseed.platforms.graph import (
    GRAPH_VERSION,
    MAX_BATCH,
    META_SIGNALS,
    GraphProvider,
    insight_values,
    last_utc_day,
)
from socialseed.platforms.parsing import JSON, as_int, parse_time
from socialseed.platforms.provider import Call
from socialseed.platforms.publishing import id_in, looked_for_since, posted_since, same_text

WWW = "https://www.facebook.com"
GRAPH = "https://graph.facebook.com"
# Used when the long-lived exchange omits expires_in (Meta sometimes does).
USER_TOKEN_LIFETIME = timedelta(days=60)
PAGE_FIELDS = "id,name,username,fan_count,followers_count,picture"
MAX_PAGES_OF_PAGES = 20  # /me/accounts pages of 100: a safety stop, not a real limit
MAX_FEED_PAGES = 10  # feed pages of 100 read when looking for an in-doubt post: a safety stop
#: How long to wait before asking again about a video being processed.
VIDEO_POLL = 10.0
#: PlatformPost insights by their current names (Meta retired the impression metrics in 2025:
#: ``post_impressions*`` and ``post_engaged_users`` answer errors).
POST_INSIGHTS = (
    "post_total_media_view_unique",
    "post_media_view",
    "post_reactions_by_type_total",
    "post_clicks",
)
#: One batch item per post: ``shares`` is absent until someone shares the post (Graph omits
#: it), the comment count comes from the ``comments`` summary, the insights by expansion.
POST_FIELDS = (
    "shares,comments.limit(0).summary(true),insights.metric(" + ",".join(POST_INSIGHTS) + ")"
)
PAGE_INSIGHTS = (
    "page_total_media_view_unique",
    "page_media_view",
    "page_post_engagements",
    "page_daily_follows",
)


class FacebookProvider(GraphProvider):
    platform = Platform.FACEBOOK
    name = "Facebook"
    rate_limits = RateLimits(
        # A page token's Business Use Case budget, 4,800 calls per rolling hour per page (a
        # Graph batch of n items counts n); 200 posts a day per page.
        reads=(
            Rule(
                bucket="facebook:page:{user}",
                scope="account",
                limit=4_800,
                every=timedelta(hours=1),
                window="sliding",
                largest_call=MAX_BATCH,
            ),
            *META_SIGNALS,
        ),
        publishes=(publishing_cap("facebook", 200, timedelta(hours=24)),),
    )
    rotating_refresh = False
    default_scopes = (
        "pages_show_list",
        "pages_read_engagement",
        "pages_manage_posts",
        "read_insights",
        "publish_video",
        "pages_manage_engagement",  # the first comment on the page's own posts
    )
    graph_host = GRAPH

    def authorize(self, *, state: str, redirect_uri: str) -> Authorization:
        params = {
            "client_id": self.credentials.client_id,
            "redirect_uri": redirect_uri,
            "state": state,
            "response_type": "code",
            "scope": ",".join(self.scopes),
        }
        return Authorization(self.authorize_url((WWW, f"/{GRAPH_VERSION}/dialog/oauth"), params))

    async def exchange_code(
        self, *, code: str, redirect_uri: str, code_verifier: str | None
    ) -> TokenSet:
        """The long-lived *user* token; ``connections`` turns it into page tokens."""
        client = {"client_id": self.credentials.client_id, "client_secret": self.client_secret}
        short = await self.oauth_access_token(
            {**client, "redirect_uri": redirect_uri, "code": code}
        )
        long_lived = await self.oauth_access_token(
            {
                **client,
                "grant_type": "fb_exchange_token",
                "fb_exchange_token": short["access_token"],
            }
        )
        if long_lived.get("expires_in") is None:
            long_lived["expires_in"] = int(USER_TOKEN_LIFETIME.total_seconds())
        # The token response names no scopes, and the user may have unticked some of them.
        granted = await self.send_json(
            Call.EXCHANGE,
            "GET",
            self.graph_url("/me/permissions"),
            headers={"Authorization": f"Bearer {long_lived['access_token']}"},
        )
        scopes = [
            str(p.get("permission"))
            for p in granted.get("data") or []
            if isinstance(p, dict) and p.get("status") == "granted"
        ]
        return self.token_set({**long_lived, "scope": scopes})

    async def oauth_access_token(self, params: dict[str, str]) -> JSON:
        url = self.graph_url("/oauth/access_token")
        return await self.send_for_token(Call.EXCHANGE, "GET", url, params=params)

    async def connections(self, tokens: TokenSet) -> list[Connection]:
        """Every page the user granted with a page token: one account each."""
        found: list[Connection] = []
        params = {"fields": f"{PAGE_FIELDS},access_token", "limit": "100"}
        for _ in range(MAX_PAGES_OF_PAGES):
            body = await self.graph_get("/me/accounts", tokens, **params)
            for page in body.get("data") or []:
                page_token = page.get("access_token")
                if not page_token:  # the user has no task on this page that grants a token
                    continue
                page_tokens = TokenSet(
                    access_token=str(page_token),
                    expires_at=None,  # page tokens from a long-lived user token never expire
                    scopes=tokens.scopes,
                    platform_user_id=str(page.get("id")),
                )
                found.append(Connection(self.page_profile(page), page_tokens))
            paging = body.get("paging") or {}
            after = (paging.get("cursors") or {}).get("after")
            if not paging.get("next") or not after:
                break
            params["after"] = str(after)
        return found

    async def refresh(self, tokens: TokenSet) -> TokenSet:
        if tokens.expires_at is None:
            return tokens  # a page token: it does not expire, there is nothing to renew
        raise self.fail(
            ErrorKind.REAUTH_REQUIRED,
            None,
            detail="user tokens cannot be renewed without the user",
        )

    async def revoke(self, tokens: TokenSet) -> None:
        """Revoke the user's grant (``DELETE /me/permissions``) given its user token.

        A page token (no expiry) is left alone: Facebook has no per-page revoke, and the user's
        grant is shared by every page of that consent, so ending it would cut the others too.
        """
        if tokens.expires_at is None:
            return
        await self.revoke_call(
            "DELETE", self.graph_url("/me/permissions"), headers=self.bearer(tokens)
        )

    async def profile(self, tokens: TokenSet) -> Profile:
        # With a page token, /me is the page itself.
        return self.page_profile(await self.graph_get("/me", tokens, fields=PAGE_FIELDS))

    # publishing ----------------------------------------------------------------------------
    async def page_id(self, tokens: TokenSet) -> str:
        return tokens.platform_user_id or (await self.profile(tokens)).platform_user_id

    async def graph_post(self, path: str, tokens: TokenSet, **params: str) -> JSON:
        return await self.send_json(
            Call.API, "POST", self.graph_url(path), data=params, headers=self.bearer(tokens)
        )

    async def publish(
        self, tokens: TokenSet, post: PlatformPost, progress: Mapping[str, Any] | None = None
    ) -> PublishedPost | Pending:
        page = await self.page_id(tokens)
        video_id = id_in(progress, "video_id")
        if video_id:
            return await self.video_outcome(tokens, page, video_id)
        kinds = {media.kind for media in post.media}
        if MediaKind.VIDEO in kinds:
            if len(post.media) != 1:
                raise self.fail(
                    ErrorKind.BAD_REQUEST, None, detail="a video is posted alone, without photos"
                )
            return await self.post_video(tokens, page, post)
        if len(post.media) == 1:
            params = {"url": post.media[0].url}
            if post.text:
                params["message"] = post.text
            photo = await self.graph_post(f"/{page}/photos", tokens, **params)
            return self.published(str(photo.get("post_id") or photo.get("id") or ""))
        feed = {"message": post.text} if post.text else {}
        if post.options.get("link"):
            feed["link"] = str(post.options["link"])
        if post.media:
            feed["attached_media"] = json.dumps(
                [
                    {"media_fbid": await self.unpublished_photo(tokens, page, m.url)}
                    for m in post.media
                ]
            )
        created = await self.graph_post(f"/{page}/feed", tokens, **feed)
        return self.published(str(created.get("id") or ""))

    async def unpublished_photo(self, tokens: TokenSet, page: str, url: str) -> str:
        """A photo uploaded for a multi-photo post: invisible until a feed post attaches it."""
        photo = await self.graph_post(f"/{page}/photos", tokens, url=url, published="false")
        return str(photo.get("id") or "")

    async def post_video(self, tokens: TokenSet, page: str, post: PlatformPost) -> Pending:
        params = {"file_url": post.media[0].url}
        if post.text:
            params["description"] = post.text
        video = await self.graph_post(f"/{page}/videos", tokens, **params)
        return Pending({"video_id": str(video.get("id") or "")}, VIDEO_POLL, status="processing")

    async def video_outcome(
        self, tokens: TokenSet, page: str, video_id: str
    ) -> PublishedPost | Pending:
        """Published once Facebook is done with the video, Pending while it processes it. The
        published id is the page post the video became (``post_id``), as for every other post,
        so insights and feed lookups use one kind of id; the URL is the video's."""
        body = await self.graph_get(f"/{video_id}", tokens, fields="status,post_id")
        status = body.get("status") or {}
        state = str(status.get("video_status") or "processing")
        if state == "ready":
            return PublishedPost(
                id=str(body.get("post_id") or video_id),
                url=f"{WWW}/{page}/videos/{video_id}",
                published_at=self.clock(),
            )
        if state == "error":
            errors = (status.get("processing_phase") or {}).get("errors") or [{}]
            raise self.fail(
                ErrorKind.BAD_REQUEST,
                None,
                detail=f"could not process the video ({errors[0].get('message') or state})",
                code=str(errors[0].get("code") or "video_error"),
            )
        return Pending({"video_id": video_id}, VIDEO_POLL, status=state)

    def published(self, post_id: str) -> PublishedPost:
        return PublishedPost(id=post_id, url=post_url(post_id), published_at=self.clock())

    # reconciliation ------------------------------------------------------------------------
    async def find_published_post(
        self,
        tokens: TokenSet,
        post: PlatformPost,
        since: datetime,
        progress: Mapping[str, Any] | None = None,
    ) -> PublishedPost | Pending | None:
        """A video by its id when ``progress`` has it, else among the page's videos by its
        description; any other post among the page's feed since ``since`` by its message."""
        page = await self.page_id(tokens)
        is_video = any(media.kind is MediaKind.VIDEO for media in post.media)
        edge, text_field = ("videos", "description") if is_video else ("feed", "message")
        video_id = id_in(progress, "video_id")
        if video_id is None:
            found = await self.recent(tokens, f"/{page}/{edge}", text_field, post.text, since)
            if found is None:
                return None
            if not is_video:
                return PublishedPost(
                    id=str(found["id"]),
                    url=str(found.get("permalink_url") or post_url(str(found["id"]))),
                    published_at=parse_time(found.get("created_time")),
                )
            video_id = str(found["id"])
        try:
            return await self.video_outcome(tokens, page, video_id)
        except PlatformError as exc:
            if exc.kind is ErrorKind.BAD_REQUEST:
                return None  # Facebook refused the video: nothing went out
            raise

    # first comment ------------------------------------------------------------------------
    #: Graph refuses a longer comment with (#100).
    comment_limit: int | None = 8_000

    async def post_comment(self, tokens: TokenSet, post_id: str, text: str) -> str:
        """``POST /{post-id}/comments`` with the page token: the page comments as itself."""
        body = await self.graph_post(f"/{post_id}/comments", tokens, message=text)
        return self.comment_id(body)

    async def find_comment(
        self, tokens: TokenSet, post_id: str, text: str, since: datetime
    ) -> str | None:
        page = await self.page_id(tokens)
        return await self.comment_by(tokens, post_id, page, text, since)

    async def recent(
        self, tokens: TokenSet, path: str, text_field: str, text: str, since: datetime
    ) -> JSON | None:
        """The newest item of a page edge created since ``since`` whose text is ``text``,
        following the edge's cursors."""
        start = looked_for_since(since)
        params = {
            "fields": f"id,{text_field},created_time,permalink_url",
            "since": str(int(start.timestamp())),
            "limit": "100",
        }
        for _ in range(MAX_FEED_PAGES):
            body = await self.graph_get(path, tokens, **params)
            for item in body.get("data") or []:
                created = item.get("created_time")
                fresh = created is None or posted_since(created, since)
                if isinstance(item, dict) and fresh and same_text(text, item.get(text_field)):
                    return item
            paging = body.get("paging") or {}
            after = (paging.get("cursors") or {}).get("after")
            if not paging.get("next") or not after:
                return None
            params["after"] = str(after)
        return None

    # analytics -----------------------------------------------------------------------------
    metrics_batch_size = MAX_BATCH

    def metrics_cost(self, ids: Sequence[str], platform_user_id: str | None = None) -> int:
        """Meta counts every item of a batch request as one call."""
        return len(ids)

    async def list_posts(self, tokens: TokenSet, since: datetime) -> PostListing:
        """``/{page-id}/published_posts`` (every post the page published, made with SocialSeed
        or not), ``since`` given to Graph too so older pages are never read."""
        page = await self.page_id(tokens)
        params = {
            "fields": "id,message,created_time,permalink_url",
            "since": str(int(since.timestamp())),
        }
        return await self.timeline(
            tokens,
            f"/{page}/published_posts",
            params,
            since,
            "message",
            "created_time",
            "permalink_url",
        )

    async def fetch_post_metrics(self, tokens: TokenSet, ids: Sequence[str]) -> MetricsBatch:
        """Every post's node in one Graph batch request, each item asking the post's shares,
        its comment count and, by field expansion, its insights: one item per post."""
        if not ids:
            return MetricsBatch((), calls=0)
        query = urlencode({"fields": POST_FIELDS})
        answers, signals = await self.graph_batch(tokens, [f"{i}?{query}" for i in ids])
        found: list[PostMetrics] = []
        failures: list[ItemFailure] = []
        for post_id, answer in zip(ids, answers, strict=True):
            if not answer.ok:
                failures.append(self.item_failure(post_id, answer))
                continue
            values = insight_values(answer.body.get("insights") or {})
            if not values:
                failures.append(self.out_of_window(post_id))
                continue
            found.append(post_metrics(post_id, values, answer.body))
        return MetricsBatch(tuple(found), tuple(failures), calls=1, signals=signals)

    async def fetch_account_metrics(self, tokens: TokenSet) -> AccountMetrics:
        """The page's follower count and its insights for the last complete UTC day (views
        and reach of everything the page showed that day)."""
        page = await self.page_id(tokens)
        node, _ = await self.graph_read(
            f"/{page}", tokens, {"fields": "id,followers_count,fan_count"}
        )
        start, end = last_utc_day(self.clock())
        insights, signals = await self.graph_read(
            f"/{page}/insights",
            tokens,
            {
                "metric": ",".join(PAGE_INSIGHTS),
                "period": "day",
                "since": str(int(start.timestamp())),
                "until": str(int(end.timestamp())),
            },
        )
        values = insight_values(insights)
        return AccountMetrics(
            followers=as_int(node.get("followers_count", node.get("fan_count"))),
            views=as_int(values.get("page_media_view")),
            reach=as_int(values.get("page_total_media_view_unique")),
            raw={"page": node, "insights": insights},
            calls=2,
            signals=signals,
        )


def reactions_total(value: Any) -> int | None:
    """``post_reactions_by_type_total`` is ``{"like": n, "love": m, ...}``: likes are all of
    them, as the post shows them."""
    if not isinstance(value, dict):
        return as_int(value)
    counts = [as_int(v) for v in value.values()]
    return sum(c for c in counts if c is not None)


def post_metrics(post_id: str, values: Mapping[str, Any], raw: JSON) -> PostMetrics:
    comments = raw.get("comments")
    summary = comments.get("summary") if isinstance(comments, dict) else None
    shares = raw.get("shares")
    return PostMetrics(
        post_id=post_id,
        views=as_int(values.get("post_media_view")),
        reach=as_int(values.get("post_total_media_view_unique")),
        likes=reactions_total(values.get("post_reactions_by_type_total")),
        comments=as_int(summary.get("total_count")) if isinstance(summary, dict) else None,
        # Graph leaves ``shares`` out while the count is 0 (the node itself was read).
        shares=as_int(shares.get("count")) if isinstance(shares, dict) else 0,
        clicks=as_int(values.get("post_clicks")),
        raw=raw,
    )


def post_url(post_id: str) -> str:
    """``{page}_{post}`` is served at ``/{page}/posts/{post}``."""
    page, _, story = post_id.partition("_")
    return f"{WWW}/{page}/posts/{story}" if story else f"{WWW}/{post_id}"
