"""Instagram API with Instagram Login (graph.instagram.com).

The code buys a short-lived token (1 h) on api.instagram.com, exchanged at once for a long-lived
one (60 days, ``ig_exchange_token``). There is no refresh token: the long-lived token itself is
renewed with ``ig_refresh_token``, which Instagram accepts only once the token is at least 24 hours
old and still unexpired. No PKCE, and no revoke endpoint (the user removes the app in Instagram).

Publishing is Meta's container flow: ``POST /{ig-user-id}/media`` makes a container from a media
URL Instagram downloads (carousels: one child container per item, then a ``CAROUSEL`` container
naming them), the container is processed (``status_code`` ``IN_PROGRESS`` -> ``FINISHED`` or
``ERROR``, ``EXPIRED`` after 24 h), and ``POST /{ig-user-id}/media_publish?creation_id=`` makes
the post: the only step anyone sees. The container id is kept as progress: it says, after any
interruption, whether that post exists (``PUBLISHED``) or not yet.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx
from cachetools import LRUCache

from socialseed.budgets.rules import RateLimits, Rule, publishing_cap
from socialseed.platforms.base import (
    AccountMetrics,
    Authorization,
    ErrorKind,
    ItemFailure,
    MediaKind,
    MetricsBatch,
    Pending,
    Platform,
    PlatformError,
    PlatformMedia,
    PlatformPost,
    PlatformsConfig,
    PostListing,
    PostMetrics,
    Profile,
    PublishedPost,
    RateSignal,
    TokenSet,
)
from socialseed.platforms.graph import (
    INVALID_PARAMETER,
    MAX_BATCH,
    META_SIGNALS,
    BatchAnswer,
    GraphProvider,
    graph_error,
    insight_values,
    last_utc_day,
)
from socialseed.platforms.parsing import (
    JSON,
    as_int,
    json_object,
    parse_time,
    utcnow,
)
from socialseed.platforms.provider import Call, Clock
from socialseed.platforms.publishing import posted_since, same_text

WWW = "https://www.instagram.com"
API = "https://api.instagram.com"
GRAPH = "https://graph.instagram.com"
LONG_LIVED = timedelta(days=60)
REFRESHABLE_AFTER = timedelta(hours=24)
# Our estimate of a token's age comes from its expiry (expires_in is a little under 60 days), so
# wait a little past 24 hours rather than be refused for asking a few minutes early.
AGE_MARGIN = timedelta(minutes=10)
PROFILE_FIELDS = (
    "user_id,username,name,profile_picture_url,followers_count,follows_count,media_count"
)
MEDIA_TYPES = ("FEED", "REELS", "STORIES", "CAROUSEL")
# Meta's advice: images are ready within seconds; check videos about once a minute (we start
# sooner: short clips are usually ready in well under a minute).
IMAGE_POLL, VIDEO_POLL = 3.0, 20.0
# media_publish on a container still processing: "Media ID is not available" (9007/2207027).
NOT_READY = "9007/2207027"
# How many of the account's newest media a lookup reads (the API's page size is 25).
RECENT_MEDIA = 25
CONTAINER_FAILURES = {
    "ERROR": (ErrorKind.BAD_REQUEST, "could not process the media"),
    "EXPIRED": (ErrorKind.PERMANENT, "discarded the media: it was not published within 24 hours"),
}

FAILED_CONTAINER_CODES = frozenset(f"container_{status.lower()}" for status in CONTAINER_FAILURES)

# Media insights by their current names, per ``media_product_type``: Meta retired
# ``impressions``, ``plays`` and ``video_views`` (v22.0: "use views instead"), and each metric
# is valid only for some kinds of media: asking a story for ``likes`` fails the request.
FEED_INSIGHTS = ("views", "reach", "likes", "comments", "shares", "saved", "total_interactions")
REELS_INSIGHTS = (*FEED_INSIGHTS, "ig_reels_avg_watch_time", "ig_reels_video_view_total_time")
STORY_INSIGHTS = ("views", "reach", "shares", "total_interactions")
INSIGHTS_BY_PRODUCT = {"FEED": FEED_INSIGHTS, "REELS": REELS_INSIGHTS, "STORY": STORY_INSIGHTS}
#: How many media types a provider remembers (learnt from listings and from refusals).
KNOWN_MEDIA = 50_000
#: Instagram's insights lag up to 48 hours: account insights are asked for the last UTC day
#: that is complete that long ago, so the day's numbers are final.
ACCOUNT_INSIGHTS_LAG = timedelta(hours=48)


@dataclass(frozen=True)
class PublishingQuota:
    """``content_publishing_limit``: posts made through the API in the rolling window."""

    used: int
    total: int
    window_s: int


def media_type(post: PlatformPost) -> str:
    """The post's kind: ``options.media_type`` or, by default, what its media make it."""
    chosen = str(post.options.get("media_type") or "").upper()
    if chosen in MEDIA_TYPES:
        return chosen
    if len(post.media) > 1:
        return "CAROUSEL"
    return "REELS" if post.media and post.media[0].kind is MediaKind.VIDEO else "FEED"


def media_source(media: PlatformMedia, video_type: str) -> dict[str, str]:
    """Where Instagram downloads the item from (a signed URL our media server answers)."""
    if media.kind is MediaKind.VIDEO:
        return {"media_type": video_type, "video_url": media.url}
    if media.alt_text and video_type != "STORIES":  # Instagram takes it on feed images only
        return {"image_url": media.url, "alt_text": media.alt_text}
    return {"image_url": media.url}


def poll_after(post: PlatformPost) -> float:
    return VIDEO_POLL if any(m.kind is MediaKind.VIDEO for m in post.media) else IMAGE_POLL


class InstagramProvider(GraphProvider):
    platform = Platform.INSTAGRAM
    name = "Instagram"
    rate_limits = RateLimits(
        # The insights endpoint's throttle (code 613), 200 calls per rolling hour per account
        # (n per batch of n); 100 API-published posts a day per account.
        reads=(
            Rule(
                bucket="instagram:insights:{user}",
                scope="account",
                limit=200,
                every=timedelta(hours=1),
                window="sliding",
                largest_call=MAX_BATCH,
            ),
            *META_SIGNALS,
        ),
        publishes=(publishing_cap("instagram", 100, timedelta(hours=24)),),
    )
    rotating_refresh = False
    default_scopes = (
        "instagram_business_basic",
        "instagram_business_content_publish",
        "instagram_business_manage_insights",
        "instagram_business_manage_comments",  # the first comment on the account's own media
    )
    graph_host = GRAPH

    def __init__(
        self,
        config: PlatformsConfig,
        client: httpx.AsyncClient,
        *,
        clock: Clock = utcnow,
        service: str = "unknown",
    ) -> None:
        super().__init__(config, client, clock=clock, service=service)
        # media id -> media_product_type (FEED, REELS, STORY), so each media is asked only the
        # insights valid for its kind; unknown media are asked those valid for every feed
        # post and reel, and a story refusing them is asked again with a story's.
        self.media_products: LRUCache[str, str] = LRUCache(KNOWN_MEDIA)

    def authorize(self, *, state: str, redirect_uri: str) -> Authorization:
        params = {
            "client_id": self.credentials.client_id,
            "redirect_uri": redirect_uri,
            "response_type": "code",
            "scope": ",".join(self.scopes),
            "state": state,
        }
        return Authorization(self.authorize_url((WWW, "/oauth/authorize"), params))

    async def exchange_code(
        self, *, code: str, redirect_uri: str, code_verifier: str | None
    ) -> TokenSet:
        response = await self.send(
            Call.EXCHANGE,
            "POST",
            self.url((API, "/oauth/access_token")),
            data={
                "client_id": self.credentials.client_id,
                "client_secret": self.client_secret,
                "grant_type": "authorization_code",
                "redirect_uri": redirect_uri,
                "code": code,
            },
        )
        body = json_object(response) or {}
        # Newer answers wrap the token in {"data": [...]}; older ones are flat.
        data = body.get("data")
        first = data[0] if isinstance(data, list) and data and isinstance(data[0], dict) else body
        short = self.require_token(response, Call.EXCHANGE, first)
        long_lived = await self.send_for_token(
            Call.EXCHANGE,
            "GET",
            self.url((GRAPH, "/access_token")),
            params={
                "grant_type": "ig_exchange_token",
                "client_secret": self.client_secret,
                "access_token": short["access_token"],
            },
        )
        user_id = short.get("user_id")
        return self.token_set(
            {**long_lived, "permissions": short.get("permissions")},
            platform_user_id=str(user_id) if user_id else None,
        )

    async def refresh(self, tokens: TokenSet) -> TokenSet:
        if tokens.expires_at is not None:
            issued_at = tokens.expires_at - LONG_LIVED
            if self.clock() - issued_at < REFRESHABLE_AFTER + AGE_MARGIN:
                return tokens  # too young to renew, and it has almost 60 days left anyway
        body = await self.send_for_token(
            Call.REFRESH,
            "GET",
            self.url((GRAPH, "/refresh_access_token")),
            params={"grant_type": "ig_refresh_token", "access_token": tokens.access_token},
        )
        return self.token_set(body, previous=tokens)

    async def revoke(self, tokens: TokenSet) -> None:
        """Instagram Login has no revoke endpoint; the grant ends when the user removes the app
        or the token expires. Nothing to call."""

    async def profile(self, tokens: TokenSet) -> Profile:
        return self.page_profile(await self.graph_get("/me", tokens, fields=PROFILE_FIELDS))

    # publishing ---------------------------------------------------------------------------
    def user_node(self, tokens: TokenSet) -> str:
        return tokens.platform_user_id or "me"

    async def graph_post(self, path: str, tokens: TokenSet, params: Mapping[str, str]) -> JSON:
        return await self.send_json(
            Call.API, "POST", self.graph_url(path), data=dict(params), headers=self.bearer(tokens)
        )

    # first comment ------------------------------------------------------------------------
    #: Instagram takes comments as long as captions.
    comment_limit: int | None = 2_200

    async def post_comment(self, tokens: TokenSet, post_id: str, text: str) -> str:
        """``POST /{ig-media-id}/comments?message=``: the account comments on its own media."""
        body = await self.graph_post(f"/{post_id}/comments", tokens, {"message": text})
        return self.comment_id(body)

    async def find_comment(
        self, tokens: TokenSet, post_id: str, text: str, since: datetime
    ) -> str | None:
        me = tokens.platform_user_id or (await self.profile(tokens)).platform_user_id
        return await self.comment_by(tokens, post_id, me, text, since, fields=("text", "timestamp"))

    async def publishing_quota(self, tokens: TokenSet) -> PublishingQuota:
        """How many posts the account made through the API in the last 24 hours, of how many."""
        body = await self.graph_get(
            f"/{self.user_node(tokens)}/content_publishing_limit",
            tokens,
            fields="quota_usage,config",
        )
        entries = body.get("data") or [{}]
        entry = entries[0] if isinstance(entries[0], dict) else {}
        config = entry.get("config") or {}
        return PublishingQuota(
            used=as_int(entry.get("quota_usage")) or 0,
            total=as_int(config.get("quota_total")) or 0,
            window_s=as_int(config.get("quota_duration")) or 86_400,
        )

    async def publish(
        self, tokens: TokenSet, post: PlatformPost, progress: Mapping[str, Any] | None = None
    ) -> PublishedPost | Pending:
        if not progress or not progress.get("container_id"):
            created_at = self.clock()
            container = await self.create_container(tokens, post)
            progress = {"container_id": container, "created_at": created_at.isoformat()}
        container = str(progress["container_id"])
        status = await self.container_status(tokens, container)
        if status == "FINISHED":
            return await self.publish_container(tokens, post, progress)
        if status == "PUBLISHED":  # media_publish went through, its answer did not reach us
            # Ours is the newest media with this caption made since the container was.
            since = parse_time(progress.get("created_at"))
            return await self.find_recent(tokens, post, since) or self.pending(
                post, progress, status
            )
        return self.pending(post, progress, status)

    async def find_published_post(
        self,
        tokens: TokenSet,
        post: PlatformPost,
        since: datetime,
        progress: Mapping[str, Any] | None = None,
    ) -> PublishedPost | Pending | None:
        if not progress or not progress.get("container_id"):
            return await self.find_recent(tokens, post, since)
        try:
            status = await self.container_status(tokens, str(progress["container_id"]))
        except PlatformError as exc:
            if exc.code not in FAILED_CONTAINER_CODES:
                raise
            return None  # failed or expired: never published
        if status == "PUBLISHED":
            return await self.find_recent(tokens, post, since) or self.pending(
                post, progress, status
            )
        if status == "IN_PROGRESS":
            return self.pending(post, progress, status)
        return None  # FINISHED: ready but not published, publish goes on with the same container

    def pending(self, post: PlatformPost, progress: Mapping[str, Any], status: str) -> Pending:
        return Pending(progress, poll_after(post), status=status)

    async def create_container(self, tokens: TokenSet, post: PlatformPost) -> str:
        """The container to publish (for a carousel, its children's first). Containers are
        invisible until published: making them again after an interruption is harmless."""
        if not post.media:
            raise self.fail(
                ErrorKind.BAD_REQUEST, None, detail="a post needs an image or a video", code="media"
            )
        kind = media_type(post)
        if kind == "CAROUSEL":
            children = [
                await self.new_container(
                    tokens, {**media_source(m, "VIDEO"), "is_carousel_item": "true"}
                )
                for m in post.media
            ]
            params = {"media_type": "CAROUSEL", "children": ",".join(children)}
        elif kind == "STORIES":
            # A story has no caption; images and videos both go as STORIES.
            return await self.new_container(
                tokens, {**media_source(post.media[0], "STORIES"), "media_type": "STORIES"}
            )
        else:
            params = media_source(post.media[0], "REELS")
        return await self.new_container(tokens, {**params, "caption": post.text})

    async def new_container(self, tokens: TokenSet, params: Mapping[str, str]) -> str:
        body = await self.graph_post(f"/{self.user_node(tokens)}/media", tokens, params)
        return str(body["id"])

    async def container_status(self, tokens: TokenSet, container: str) -> str:
        """``IN_PROGRESS``, ``FINISHED`` or ``PUBLISHED``; a failed or expired container raises
        with Instagram's reason in words."""
        body = await self.graph_get(f"/{container}", tokens, fields="status_code,status")
        status = str(body.get("status_code") or "IN_PROGRESS")
        if status in CONTAINER_FAILURES:
            kind, words = CONTAINER_FAILURES[status]
            reason = str(body.get("status") or "").strip()
            detail = f"{words} ({reason})" if reason else words
            raise self.fail(kind, None, detail=detail, code=f"container_{status.lower()}")
        return status

    async def publish_container(
        self, tokens: TokenSet, post: PlatformPost, progress: Mapping[str, Any]
    ) -> PublishedPost | Pending:
        try:
            body = await self.graph_post(
                f"/{self.user_node(tokens)}/media_publish",
                tokens,
                {"creation_id": str(progress["container_id"])},
            )
        except PlatformError as exc:
            if exc.code == NOT_READY:  # the status and media_publish can disagree for a moment
                return self.pending(post, progress, "IN_PROGRESS")
            raise
        media_id = str(body["id"])
        try:
            node = await self.graph_get(f"/{media_id}", tokens, fields="permalink,timestamp")
        except PlatformError:
            # The post exists: a link we could not read must not put that in doubt.
            return PublishedPost(media_id)
        return PublishedPost(media_id, node.get("permalink"), parse_time(node.get("timestamp")))

    async def find_recent(
        self, tokens: TokenSet, post: PlatformPost, since: datetime | None
    ) -> PublishedPost | None:
        """The post among the account's newest media, by caption (and time, when known)."""
        body = await self.graph_get(
            f"/{self.user_node(tokens)}/media",
            tokens,
            fields="id,caption,timestamp,permalink",
            limit=str(RECENT_MEDIA),
        )
        for item in body.get("data") or []:
            if not isinstance(item, dict) or not same_text(post.text, item.get("caption")):
                continue
            if since is not None and not posted_since(item.get("timestamp"), since):
                continue
            return PublishedPost(
                str(item["id"]), item.get("permalink"), parse_time(item.get("timestamp"))
            )
        return None

    # analytics -----------------------------------------------------------------------------
    metrics_batch_size = MAX_BATCH

    def metrics_cost(self, ids: Sequence[str], platform_user_id: str | None = None) -> int:
        """Meta counts every item of a batch request as one call."""
        return len(ids)

    async def list_posts(self, tokens: TokenSet, since: datetime) -> PostListing:
        """``/{ig-user-id}/media`` newest first (it takes no ``since``: the cursors are read
        until a media older than ``since``); each media's type is remembered for its
        insights."""
        params = {"fields": "id,timestamp,caption,permalink,media_type,media_product_type"}
        return await self.timeline(
            tokens,
            f"/{self.user_node(tokens)}/media",
            params,
            since,
            "caption",
            "timestamp",
            "permalink",
        )

    def remember(self, item: JSON) -> None:
        product = item.get("media_product_type")
        if isinstance(product, str) and product in INSIGHTS_BY_PRODUCT:
            self.media_products[str(item["id"])] = product

    def insights_url(self, media_id: str, product: str | None) -> str:
        metrics = INSIGHTS_BY_PRODUCT.get(product or "FEED", FEED_INSIGHTS)
        return f"{media_id}/insights?{urlencode({'metric': ','.join(metrics)})}"

    async def fetch_post_metrics(self, tokens: TokenSet, ids: Sequence[str]) -> MetricsBatch:
        """Every media's ``/{ig-media-id}/insights`` in one Graph batch request (a second one
        only for stories not yet known as such, which refuse a feed post's metrics)."""
        if not ids:
            return MetricsBatch((), calls=0)
        urls = [self.insights_url(i, self.media_products.get(i)) for i in ids]
        answers, signals = await self.graph_batch(tokens, urls)
        calls = 1
        by_id = dict(zip(ids, answers, strict=True))
        stories = [i for i, a in by_id.items() if wrong_metrics(a) and i not in self.media_products]
        if stories:
            retried, signals = await self.graph_batch(
                tokens, [self.insights_url(i, "STORY") for i in stories]
            )
            calls += 1
            for media_id, answer in zip(stories, retried, strict=True):
                if answer.ok:
                    self.media_products[media_id] = "STORY"
                by_id[media_id] = answer
        found: list[PostMetrics] = []
        failures: list[ItemFailure] = []
        for media_id in ids:
            answer = by_id[media_id]
            values = insight_values(answer.body) if answer.ok else {}
            if not answer.ok:
                failures.append(self.item_failure(media_id, answer))
            elif not values:
                failures.append(self.out_of_window(media_id))
            else:
                found.append(media_metrics(media_id, values, answer.body))
        return MetricsBatch(tuple(found), tuple(failures), calls=calls, signals=signals)

    async def fetch_account_metrics(self, tokens: TokenSet) -> AccountMetrics:
        """Followers, follows and media counts, and the reach and views of the last UTC day
        whose insights are final (see ``ACCOUNT_INSIGHTS_LAG``)."""
        node_id = self.user_node(tokens)
        node, _ = await self.graph_read(
            f"/{node_id}", tokens, {"fields": "id,followers_count,follows_count,media_count"}
        )
        start, end = last_utc_day(self.clock() - ACCOUNT_INSIGHTS_LAG)
        insights, signals = await self.account_insights(tokens, node_id, start, end)
        values = insight_values(insights)
        return AccountMetrics(
            followers=as_int(node.get("followers_count")),
            following=as_int(node.get("follows_count")),
            posts=as_int(node.get("media_count")),
            views=as_int(values.get("views")),
            reach=as_int(values.get("reach")),
            raw={"account": node, "insights": insights},
            calls=2,
            signals=signals,
        )

    async def account_insights(
        self, tokens: TokenSet, node_id: str, start: datetime, end: datetime
    ) -> tuple[JSON, tuple[RateSignal, ...]]:
        return await self.graph_read(
            f"/{node_id}/insights",
            tokens,
            {
                "metric": "reach,views",
                "metric_type": "total_value",
                "period": "day",
                "since": str(int(start.timestamp())),
                "until": str(int(end.timestamp())),
            },
        )


def wrong_metrics(answer: BatchAnswer) -> bool:
    """The media refused the metrics asked (``metric[i] must be one of ...``): not its kind's."""
    error = graph_error(answer.body)
    return error.get("code") == INVALID_PARAMETER and "must be one of" in str(
        error.get("message") or ""
    )


def media_metrics(media_id: str, values: Mapping[str, Any], raw: JSON) -> PostMetrics:
    total_ms = as_int(values.get("ig_reels_video_view_total_time"))
    return PostMetrics(
        post_id=media_id,
        views=as_int(values.get("views")),
        reach=as_int(values.get("reach")),
        likes=as_int(values.get("likes")),
        comments=as_int(values.get("comments")),
        shares=as_int(values.get("shares")),
        saves=as_int(values.get("saved")),
        watch_time_s=None if total_ms is None else total_ms / 1000,
        raw=raw,
    )
