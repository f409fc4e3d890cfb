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
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

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
from socialseed.platforms.parsing import JSON, as_int, seconds_until_epoch
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


class XProvider(OAuth2Provider):
    platform = Platform.X
    name = "X"
    rotating_refresh = True
    default_scopes = ("tweet.read", "tweet.write", "users.read", "offline.access", "media.write")
    # Windows are 15 minutes long; used when a 429 comes without x-rate-limit-reset.
    default_retry_after = 15 * 60.0
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
        self, tokens: TokenSet, post: Post, progress: Mapping[str, Any] | None = None
    ) -> PublishedPost | Pending:
        media_ids = ids_in(progress, "media_ids")
        tweet_ids = ids_in(progress, "tweet_ids")
        if tweet_ids:
            reply = thread_of(post)[len(tweet_ids) - 1]
            tweet_ids.append(await self.create_tweet(tokens, {"text": reply}, tweet_ids[-1]))
            return self.outcome(post, media_ids, tweet_ids)
        if post.media and not media_ids:
            infos = [await self.upload(tokens, media) for media in post.media]
            media_ids = [str(info["id"]) for info in infos]
        else:
            infos = [await self.media_status(tokens, media_id) for media_id in media_ids]
        waiting = self.processing(infos)
        if waiting is not None:
            return Pending({"media_ids": media_ids}, *waiting)
        first: JSON = {"text": post.text}
        if media_ids:
            first["media"] = {"media_ids": media_ids}
        if post.options.get("reply_settings"):
            first["reply_settings"] = str(post.options["reply_settings"])
        tweet_ids = [await self.create_tweet(tokens, first, None)]
        return self.outcome(post, media_ids, tweet_ids)

    def outcome(
        self, post: Post, media_ids: list[str], tweet_ids: list[str]
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

    async def upload(self, tokens: TokenSet, media: Media) -> JSON:
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
        return {"id": media_id, **(done.get("data") or {})}

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
        post: Post,
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
        user_id = tokens.platform_user_id or (await self.profile(tokens)).platform_user_id
        params = {
            "start_time": looked_for_since(since).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "max_results": "100",
            "exclude": "retweets",
            "tweet.fields": TWEET_FIELDS,
        }
        found: list[JSON] = []
        for _ in range(MAX_TIMELINE_PAGES):
            body = await self.send_json(
                Call.API,
                "GET",
                self.url((API, f"/2/users/{user_id}/tweets")),
                params=params,
                headers=self.bearer(tokens),
            )
            found += [t for t in body.get("data") or [] if isinstance(t, dict)]
            next_token = (body.get("meta") or {}).get("next_token")
            if not next_token:
                break
            params["pagination_token"] = str(next_token)
        return found


def thread_of(post: Post) -> list[str]:
    return [str(text) for text in post.options.get("thread") or []]


def media_category(media: Media) -> str:
    if media.kind is MediaKind.VIDEO:
        return "tweet_video"
    return "tweet_gif" if media.mime_type == "image/gif" else "tweet_image"


def tweet_url(post: Post, tweet_id: str) -> str:
    username = post.options.get("username")
    return f"{WWW}/{username}/status/{tweet_id}" if username else f"{WWW}/i/web/status/{tweet_id}"


def replied_to(tweet: JSON) -> str | None:
    for ref in tweet.get("referenced_tweets") or []:
        if isinstance(ref, dict) and ref.get("type") == "replied_to":
            return str(ref.get("id"))
    return None


def is_tweet_of(tweet: JSON, post: Post) -> bool:
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
