"""X: OAuth 2.0 with mandatory PKCE (S256), a confidential client authenticated by HTTP Basic,
single-use rotating refresh tokens (only with ``offline.access``), and ``/2/users/me``.

X answers errors as RFC 7807 problem JSON (``{"title", "type", "status", "detail"}``) and says when
a rate-limit window resets only in ``x-rate-limit-reset`` (epoch seconds; no Retry-After).

Publishing, one visible step per ``publish`` call: media are uploaded with the v2 chunked upload
(initialize, append, finalize: invisible, safe to repeat) and polled with STATUS while their
``processing_info`` is pending; then ``POST /2/tweets`` posts the tweet, and each reply of
``options["thread"]`` is one more call, answering the previous tweet. ``progress`` holds
``media_ids`` (uploaded) and ``tweet_ids`` (posted so far, the first one is the post's id).

The account's numeric id is ``tokens.platform_user_id`` (the token vault's answer carries it; else
``/2/users/me`` is asked); its handle for the public URL is ``options["username"]`` (the worker
passes the account's), else the URL is ``https://x.com/i/web/status/<id>``, which X redirects to
``https://x.com/<username>/status/<id>``.

Metrics: ``GET /2/tweets?ids=`` takes 100 ids. Private metrics (``non_public_metrics``) are only
given for the caller's own tweets of the last 30 days; asked for any other tweet, X leaves it out
of ``data`` with a ``not-authorized-for-field`` error, so those ids are asked once more without
them (a second call). A deleted tweet is a ``resource-not-found`` error. Every response carries
``x-rate-limit-limit/remaining/reset`` for the endpoint's 15-minute window of this user: each
becomes a :class:`RateSignal` of bucket ``x:<METHOD> <endpoint>:user:<id>``.

=============  ===================================================================
standard       X
=============  ===================================================================
views          ``public_metrics.impression_count`` (X shows it as "Views")
impressions    ``public_metrics.impression_count``
reach          None: X reports no unique reach
likes          ``public_metrics.like_count``
comments       ``public_metrics.reply_count``
shares         ``public_metrics.retweet_count`` (quotes stay in ``raw``)
saves          ``public_metrics.bookmark_count``
clicks         ``non_public_metrics.url_link_clicks`` (None without private metrics)
video_views    None: a media-level metric, not a tweet's
watch_time_s   None
followers      ``public_metrics.followers_count`` (account)
following      ``public_metrics.following_count`` (account)
posts          ``public_metrics.tweet_count`` (account)
=============  ===================================================================
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

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
    RateSignal,
    TokenSet,
)
from socialseed.platforms.fetching import batch_of, by_id, latest_signals, newest_first
from socialseed.platforms.oauth2 import OAuth2Provider
from socialseed.platforms.parsing import (
    JSON,
    as_int,
    json_object,
    parse_time,
    seconds_until_epoch,
)
from socialseed.platforms.provider import Call
from socialseed.platforms.publishing import (
    chunks,
    ids_in,
    looked_for_since,
    same_text,
)

WWW = "https://x.com"
API = "https://api.x.com"
#: Bytes per APPEND segment (X takes up to 5 MB each).
SEGMENT_BYTES = 4 * 1024 * 1024
TWEET_FIELDS = "created_at,conversation_id,referenced_tweets,attachments"
#: Pages of 100 tweets read when looking for an in-doubt post: a safety stop.
MAX_TIMELINE_PAGES = 10
PROCESSING = ("pending", "in_progress")
PUBLIC_FIELDS = "public_metrics,created_at"
PRIVATE_FIELDS = PUBLIC_FIELDS + ",non_public_metrics"
PROBLEMS = "https://api.twitter.com/2/problems/"
NOT_FOUND = PROBLEMS + "resource-not-found"
FIELD_REFUSED = PROBLEMS + "not-authorized-for-field"
#: X gives private metrics of the caller's own tweets of the last 30 days only. A tweet's id
#: is a Snowflake (milliseconds since X's epoch, 22 bits up), so its age is known before any
#: call: tweets older than this are asked without private metrics straight away (a day of
#: slack for clocks: a tweet asked with them and refused is asked again without).
PRIVATE_METRICS_AGE = timedelta(days=31)
SNOWFLAKE_EPOCH_MS = 1_288_834_974_657
SNOWFLAKE_TIME_SHIFT = 22
#: The user timeline reaches back 3,200 tweets: 32 pages of 100, and one to learn it ended.
MAX_LIST_PAGES = 33


def snowflake_time(tweet_id: str) -> datetime:
    """When a tweet was created, from its id (ids from before Snowflakes read as 2010)."""
    millis = (int(tweet_id) >> SNOWFLAKE_TIME_SHIFT) + SNOWFLAKE_EPOCH_MS
    return datetime.fromtimestamp(millis / 1000, UTC)


def by_age(ids: Sequence[str], now: datetime) -> tuple[list[str], list[str]]:
    """The tweets young enough at ``now`` to be asked with private metrics, and the older
    ones, in the order given; an id that is no number is neither (no call asks it)."""
    oldest_private = now - PRIVATE_METRICS_AGE
    young: list[str] = []
    old: list[str] = []
    for tweet_id in ids:
        if tweet_id.isdigit():
            (young if snowflake_time(tweet_id) >= oldest_private else old).append(tweet_id)
    return young, old


class XProvider(OAuth2Provider):
    platform = Platform.X
    name = "X"
    rotating_refresh = True
    default_scopes = ("tweet.read", "tweet.write", "users.read", "offline.access", "media.write")
    # Windows are 15 minutes long; used when a 429 comes without x-rate-limit-reset.
    default_retry_after = 15 * 60.0
    rate_limits = RateLimits(
        # Reads: the user-context lookup of tweets, 5,000 per 15-minute window per user (the
        # bucket named as X's own x-rate-limit-* signal names it).
        reads=(
            Rule(
                bucket="x:GET /2/tweets:user:{user}",
                scope="account",
                limit=5_000,
                every=timedelta(minutes=15),
            ),
        ),
        # Publishes: 100 posts per 15 minutes per user; 10,000 a day for the whole app.
        publishes=(
            publishing_cap("x", 100, timedelta(minutes=15)),
            Rule(bucket="x:publish:app", limit=10_000, every=timedelta(days=1)),
        ),
    )
    authorize_endpoint = (WWW, "/i/oauth2/authorize")
    token_endpoint = (API, "/2/oauth2/token")
    revoke_endpoint = (API, "/2/oauth2/revoke")
    basic_auth = True
    pkce = True
    no_refresh_detail = (
        "gave this connection no refresh token (offline.access was not granted), "
        "so it cannot be renewed"
    )

    def revocable(self, tokens: TokenSet) -> list[tuple[str, str | None]]:
        # X revokes exactly the token given: end the refresh token too, or it would live on.
        found: list[tuple[str, str | None]] = [(tokens.access_token, "access_token")]
        if tokens.refresh_token:
            found.insert(0, (tokens.refresh_token, "refresh_token"))
        return found

    def api_error(self, response: httpx.Response, body: JSON) -> PlatformError:
        status = response.status_code
        detail = str(body.get("detail") or body.get("title") or "") or None
        if status == 401:
            return self.fail(
                ErrorKind.REAUTH_REQUIRED,
                response,
                detail="says this connection's access token is no longer valid "
                "(expired or revoked)",
                code="unauthorized",
            )
        if status == 429:
            return self.rate_limited(response, self.rate_limit_reset(response), code="429")
        if status == 403 and detail and "duplicate content" in detail:
            return self.fail(ErrorKind.PERMANENT, response, detail=detail, code="duplicate")
        return self.by_status(response, detail, str(body.get("type") or "") or None)

    def rate_limit_reset(self, response: httpx.Response) -> float | None:
        """Seconds until the exhausted window resets: the daily user or app cap when that is
        what ran out, else the 15-minute endpoint window."""
        now = self.clock()
        headers = response.headers
        for prefix in ("x-user-limit-24hour", "x-app-limit-24hour"):
            if headers.get(f"{prefix}-remaining") == "0":
                wait = seconds_until_epoch(headers.get(f"{prefix}-reset"), now)
                if wait is not None:
                    return wait
        return seconds_until_epoch(headers.get("x-rate-limit-reset"), now)

    async def profile(self, tokens: TokenSet) -> Profile:
        body = await self.send_json(
            Call.API,
            "GET",
            self.url((API, "/2/users/me")),
            params={"user.fields": "name,username,profile_image_url,public_metrics"},
            headers=self.bearer(tokens),
        )
        user = body.get("data") or {}
        metrics = user.get("public_metrics") or {}
        return Profile(
            platform_user_id=str(user.get("id") or ""),
            username=str(user.get("username") or ""),
            display_name=str(user.get("name") or user.get("username") or ""),
            avatar_url=user.get("profile_image_url"),
            followers=as_int(metrics.get("followers_count")),
            following=as_int(metrics.get("following_count")),
            post_count=as_int(metrics.get("tweet_count")),
        )

    # publishing ----------------------------------------------------------------------------
    async def publish(
        self, tokens: TokenSet, post: PlatformPost, progress: Mapping[str, Any] | None = None
    ) -> PublishedPost | Pending:
        media_ids = ids_in(progress, "media_ids")
        tweet_ids = ids_in(progress, "tweet_ids")
        thread = thread_of(post)
        if tweet_ids:
            if len(tweet_ids) <= len(thread):  # else everything is out already
                reply = {"text": thread[len(tweet_ids) - 1]}
                tweet_ids.append(await self.create_tweet(tokens, reply, tweet_ids[-1]))
            return self.outcome(post, media_ids, tweet_ids)
        if post.media and not media_ids:
            infos = [await self.upload(tokens, media) for media in post.media]
            media_ids = [str(info["id"]) for info in infos]
        else:
            infos = [await self.media_status(tokens, media_id) for media_id in media_ids]
        waiting = self.processing(infos)
        if waiting is not None:
            return Pending({"media_ids": media_ids}, *waiting)
        first: JSON = {"text": post.text} if post.text else {}  # media alone need no text
        if media_ids:
            first["media"] = {"media_ids": media_ids}
        if post.options.get("reply_settings"):
            first["reply_settings"] = str(post.options["reply_settings"])
        tweet_ids = [await self.create_tweet(tokens, first, None)]
        return self.outcome(post, media_ids, tweet_ids)

    def outcome(
        self, post: PlatformPost, media_ids: list[str], tweet_ids: list[str]
    ) -> PublishedPost | Pending:
        """Published once every reply of the thread is; until then, post the next one."""
        if len(tweet_ids) <= len(thread_of(post)):
            progress = {"media_ids": media_ids, "tweet_ids": tweet_ids}
            return Pending(progress, 0.0, status="thread")
        return PublishedPost(
            id=tweet_ids[0], url=tweet_url(post, tweet_ids[0]), published_at=self.clock()
        )

    async def create_tweet(self, tokens: TokenSet, body: JSON, reply_to: str | None) -> str:
        if reply_to is not None:
            body = {**body, "reply": {"in_reply_to_tweet_id": reply_to}}
        created = await self.send_json(
            Call.API, "POST", self.url((API, "/2/tweets")), json=body, headers=self.bearer(tokens)
        )
        return str((created.get("data") or {}).get("id") or "")

    async def upload(self, tokens: TokenSet, media: PlatformMedia) -> JSON:
        """Initialize, append every segment, finalize: the finalized media (``processing_info``
        when X still has work to do on it)."""
        init = await self.send_json(
            Call.API,
            "POST",
            self.url((API, "/2/media/upload/initialize")),
            json={
                "media_type": media.mime_type,
                "total_bytes": media.size,
                "media_category": media_category(media),
            },
            headers=self.bearer(tokens),
        )
        media_id = str((init.get("data") or {}).get("id") or "")
        index = 0
        async for segment in chunks(media, SEGMENT_BYTES):
            await self.send(
                Call.API,
                "POST",
                self.url((API, f"/2/media/upload/{media_id}/append")),
                data={"segment_index": str(index)},
                files={"media": ("media", segment, "application/octet-stream")},
                headers=self.bearer(tokens),
            )
            index += 1
        done = await self.send_json(
            Call.API,
            "POST",
            self.url((API, f"/2/media/upload/{media_id}/finalize")),
            headers=self.bearer(tokens),
        )
        if media.alt_text and media.kind is MediaKind.IMAGE:
            await self.describe(tokens, media_id, media.alt_text)
        return {"id": media_id, **(done.get("data") or {})}

    async def describe(self, tokens: TokenSet, media_id: str, alt_text: str) -> None:
        """Set an image's alt text (``POST /2/media/metadata``; setting it again is harmless).
        Done right after the upload, in the same step as the tweet that uses the image."""
        await self.send_json(
            Call.API,
            "POST",
            self.url((API, "/2/media/metadata")),
            json={"id": media_id, "metadata": {"alt_text": {"text": alt_text}}},
            headers=self.bearer(tokens),
        )

    async def media_status(self, tokens: TokenSet, media_id: str) -> JSON:
        body = await self.send_json(
            Call.API,
            "GET",
            self.url((API, "/2/media/upload")),
            params={"command": "STATUS", "media_id": media_id},
            headers=self.bearer(tokens),
        )
        return {"id": media_id, **(body.get("data") or {})}

    def processing(self, infos: Sequence[JSON]) -> tuple[float, str] | None:
        """(seconds to wait, state) while X still processes a media; a failed one fails."""
        waits = []
        for info in infos:
            processing = info.get("processing_info") or {}
            state = processing.get("state")
            if state == "failed":
                error = processing.get("error") or {}
                raise self.fail(
                    ErrorKind.BAD_REQUEST,
                    None,
                    detail=f"could not process a media file ({error.get('message') or state})",
                    code=str(error.get("name") or "media_processing_failed"),
                )
            if state in PROCESSING:
                waits.append(float(as_int(processing.get("check_after_secs")) or 1))
        return (max(waits), "processing") if waits else None

    # reconciliation ------------------------------------------------------------------------
    async def find_published_post(
        self,
        tokens: TokenSet,
        post: PlatformPost,
        since: datetime,
        progress: Mapping[str, Any] | None = None,
    ) -> PublishedPost | Pending | None:
        """The tweet among the account's own since ``since`` (same text, same number of media,
        not a reply), then each reply of the thread (same text, answering the previous tweet
        in its conversation); a thread found half posted is :class:`Pending` from there."""
        tweet_ids = ids_in(progress, "tweet_ids")
        recent = await self.recent_tweets(tokens, since)
        if not tweet_ids:
            first = next((t for t in recent if is_tweet_of(t, post)), None)
            if first is None:
                return None
            tweet_ids = [str(first["id"])]
        for text in thread_of(post)[len(tweet_ids) - 1 :]:
            reply = next((t for t in recent if is_reply_of(t, text, tweet_ids)), None)
            if reply is None:
                break
            tweet_ids.append(str(reply["id"]))
        return self.outcome(post, ids_in(progress, "media_ids"), tweet_ids)

    async def recent_tweets(self, tokens: TokenSet, since: datetime) -> list[JSON]:
        """The account's tweets created since ``since`` (minus clock skew), newest first."""
        user_id = await self.user_id(tokens)
        found: list[JSON] = []
        start = looked_for_since(since)
        async for page, _ in self.timeline(
            tokens, user_id, start, TWEET_FIELDS, MAX_TIMELINE_PAGES
        ):
            found += tweets_in(page)
        return found

    async def user_id(self, tokens: TokenSet) -> str:
        return tokens.platform_user_id or (await self.profile(tokens)).platform_user_id

    async def timeline(
        self, tokens: TokenSet, user_id: str, since: datetime, fields: str, max_pages: int
    ) -> AsyncIterator[tuple[JSON, RateSignal | None]]:
        """The pages of the user's own tweets (retweets left out) created since ``since``,
        newest first, each with its rate signal."""
        params = {
            "start_time": since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "max_results": str(self.timeline_page_size),
            "exclude": "retweets",
            "tweet.fields": fields,
        }
        endpoint = f"/2/users/{user_id}/tweets"
        for _ in range(max_pages):
            page, signal = await self.api_get(
                tokens, endpoint, "GET /2/users/:id/tweets", user_id, params
            )
            yield page, signal
            next_token = (page.get("meta") or {}).get("next_token")
            if not next_token:
                break
            params["pagination_token"] = str(next_token)

    async def api_get(
        self,
        tokens: TokenSet,
        path: str,
        endpoint: str,
        user_id: str | None,
        params: Mapping[str, str],
    ) -> tuple[JSON, RateSignal | None]:
        """A read and what its headers say about the window it was counted in."""
        response = await self.send(
            Call.API, "GET", self.url((API, path)), params=dict(params), headers=self.bearer(tokens)
        )
        body = json_object(response)
        if body is None:
            raise self.fail(
                ErrorKind.TRANSIENT, response, detail="answered with something other than JSON"
            )
        if user_id is None:  # /2/users/me names the user in its answer
            user_id = str((body.get("data") or {}).get("id") or "me")
        return body, rate_signal(response, f"x:{endpoint}:user:{user_id}")

    # metrics -------------------------------------------------------------------------------
    metrics_batch_size = 100
    #: Tweets per timeline page (X takes 5 to 100).
    timeline_page_size = 100

    async def list_posts(self, tokens: TokenSet, since: datetime) -> PostListing:
        """The user timeline from ``start_time``, every page (``/2/users/me`` first when the
        tokens do not name the user)."""
        calls = 0 if tokens.platform_user_id else 1
        user_id = await self.user_id(tokens)
        listed: list[ListedPost] = []
        signals: list[RateSignal | None] = []
        async for page, signal in self.timeline(
            tokens, user_id, since, "created_at", MAX_LIST_PAGES
        ):
            calls += 1
            signals.append(signal)
            for tweet in tweets_in(page):
                published = parse_time(tweet.get("created_at"))
                if published is not None:
                    tweet_id = str(tweet["id"])
                    url = f"{WWW}/i/web/status/{tweet_id}"
                    listed.append(ListedPost(tweet_id, published, url, tweet.get("text")))
        return PostListing(newest_first(listed, since), calls, latest_signals(signals))

    def metrics_cost(self, ids: Sequence[str], platform_user_id: str | None = None) -> int:
        """Requests: one for the young tweets, one for the old ones (``by_age``)."""
        young, public = by_age(batch_of(ids, self.metrics_batch_size), self.clock())
        return int(bool(young)) + int(bool(public))

    async def fetch_post_metrics(self, tokens: TokenSet, ids: Sequence[str]) -> MetricsBatch:
        """One call with private metrics for the tweets young enough to have them (their ids
        tell their age), one without for the older ones and for those X refused them for (not
        the caller's): a batch of like ages costs one call."""
        asked = batch_of(ids, self.metrics_batch_size)
        # X refuses a whole call over one id that is not a number: such an id is no post.
        failures = {
            i: ItemFailure(i, MetricsGap.DELETED, "this is not an X post id")
            for i in asked
            if not i.isdigit()
        }
        wanted = [i for i in asked if i not in failures]
        if not wanted:
            return MetricsBatch((), tuple(failures.values()), calls=0)
        young, public = by_age(wanted, self.clock())
        tweets: dict[str, JSON] = {}
        errors: dict[str, JSON] = {}
        signals: list[RateSignal | None] = []
        calls = 0
        if young:
            tweets, errors, signals = await self.lookup(tokens, young, PRIVATE_FIELDS)
            calls += 1
            public += [
                i
                for i in young
                if i not in tweets and errors.get(i, {}).get("type") == FIELD_REFUSED
            ]
        if public:
            more, more_errors, more_signals = await self.lookup(tokens, public, PUBLIC_FIELDS)
            tweets |= more
            errors |= more_errors
            signals += more_signals
            calls += 1
        metrics = tuple(tweet_metrics(tweets[i]) for i in wanted if i in tweets)
        failures |= {i: item_failure(i, errors.get(i)) for i in wanted if i not in tweets}
        in_order = tuple(failures[i] for i in asked if i in failures)
        return MetricsBatch(metrics, in_order, calls, latest_signals(signals))

    async def lookup(
        self, tokens: TokenSet, ids: list[str], fields: str
    ) -> tuple[dict[str, JSON], dict[str, JSON], list[RateSignal | None]]:
        """Tweets and errors by id."""
        body, signal = await self.api_get(
            tokens,
            "/2/tweets",
            "GET /2/tweets",
            tokens.platform_user_id or "me",
            {"ids": ",".join(ids), "tweet.fields": fields},
        )
        tweets = by_id(body.get("data"))
        errors: dict[str, JSON] = {}
        for error in body.get("errors") or []:
            if isinstance(error, dict):
                errors.setdefault(str(error.get("resource_id") or error.get("value")), error)
        return tweets, errors, [signal]

    async def fetch_account_metrics(self, tokens: TokenSet) -> AccountMetrics:
        body, signal = await self.api_get(
            tokens, "/2/users/me", "GET /2/users/me", None, {"user.fields": "public_metrics"}
        )
        user = body.get("data") or {}
        counts = user.get("public_metrics") or {}
        return AccountMetrics(
            followers=as_int(counts.get("followers_count")),
            following=as_int(counts.get("following_count")),
            posts=as_int(counts.get("tweet_count")),
            raw=user,
            signals=latest_signals([signal]),
        )


def tweets_in(body: JSON) -> list[JSON]:
    return [t for t in body.get("data") or [] if isinstance(t, dict)]


def rate_signal(response: httpx.Response, bucket: str) -> RateSignal | None:
    """``x-rate-limit-*``: the window's size, what is left of it and when it resets."""
    headers = response.headers
    limit = as_int(headers.get("x-rate-limit-limit"))
    remaining = as_int(headers.get("x-rate-limit-remaining"))
    reset = as_int(headers.get("x-rate-limit-reset"))
    if limit is None and remaining is None and reset is None:
        return None
    reset_at = datetime.fromtimestamp(reset, UTC) if reset is not None else None
    return RateSignal(bucket, limit=limit, remaining=remaining, reset_at=reset_at)


def tweet_metrics(tweet: JSON) -> PostMetrics:
    public = tweet.get("public_metrics") or {}
    private = tweet.get("non_public_metrics") or {}
    impressions = as_int(public.get("impression_count"))
    return PostMetrics(
        post_id=str(tweet["id"]),
        views=impressions,
        impressions=impressions,
        likes=as_int(public.get("like_count")),
        comments=as_int(public.get("reply_count")),
        shares=as_int(public.get("retweet_count")),
        saves=as_int(public.get("bookmark_count")),
        clicks=as_int(private.get("url_link_clicks")),
        raw=tweet,
    )


def item_failure(tweet_id: str, error: JSON | None) -> ItemFailure:
    """Why X gave no tweet for this id: gone (deleted, or its author's account is), or
    refused in X's words (a protected or suspended author)."""
    if error is None:
        return ItemFailure(tweet_id, MetricsGap.UNAVAILABLE, "X left this post out of its answer")
    detail = str(error.get("detail") or error.get("title") or "X did not return this post")
    if error.get("type") == NOT_FOUND:
        return ItemFailure(tweet_id, MetricsGap.DELETED, detail)
    return ItemFailure(tweet_id, MetricsGap.UNAVAILABLE, detail)


def thread_of(post: PlatformPost) -> list[str]:
    return [str(text) for text in post.options.get("thread") or []]


def media_category(media: PlatformMedia) -> str:
    if media.kind is MediaKind.VIDEO:
        return "tweet_video"
    return "tweet_gif" if media.mime_type == "image/gif" else "tweet_image"


def tweet_url(post: PlatformPost, tweet_id: str) -> str:
    username = post.options.get("username")
    return f"{WWW}/{username}/status/{tweet_id}" if username else f"{WWW}/i/web/status/{tweet_id}"


def replied_to(tweet: JSON) -> str | None:
    for ref in tweet.get("referenced_tweets") or []:
        if isinstance(ref, dict) and ref.get("type") == "replied_to":
            return str(ref.get("id"))
    return None


def is_tweet_of(tweet: JSON, post: PlatformPost) -> bool:
    media_keys = (tweet.get("attachments") or {}).get("media_keys") or []
    return (
        replied_to(tweet) is None
        and len(media_keys) == len(post.media)
        and same_text(post.text, tweet.get("text"))
    )


def is_reply_of(tweet: JSON, text: str, tweet_ids: list[str]) -> bool:
    return (
        str(tweet.get("conversation_id")) == tweet_ids[0]
        and replied_to(tweet) == tweet_ids[-1]
        and same_text(text, tweet.get("text"))
    )
