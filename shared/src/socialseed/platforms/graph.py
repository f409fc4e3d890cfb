"""What Instagram and Facebook share: Meta's Graph API errors and rate-limit headers.

Graph errors are ``{"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}`` (the
older api.instagram.com answers flat ``{"error_type", "code", "error_message"}``). Rate limits are
error codes, not HTTP 429; ``X-Business-Use-Case-Usage`` says in minutes when access comes back.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from socialseed.budgets.rules import UNCOUNTED, Rule
from socialseed.platforms.base import (
    ErrorKind,
    ItemFailure,
    ListedPost,
    MetricsGap,
    PlatformError,
    PostListing,
    Profile,
    RateSignal,
    TokenSet,
)
from socialseed.platforms.parsing import JSON, as_int, json_object, parse_time
from socialseed.platforms.provider import BaseProvider, Call
from socialseed.platforms.publishing import posted_since, same_text

#: The Graph API version both providers call (Meta keeps each for about two years).
GRAPH_VERSION = "v24.0"
REAUTH_CODES = frozenset({102, 190})
REAUTH_SUBCODES = {
    458: "says the SocialSeed app was removed from this account",
    459: "says this account is checkpointed; the user must log in to it first",
    460: "says this connection ended because the account's password was changed",
    463: "says this connection's access token has expired",
    464: "says this account is unconfirmed",
    467: "says this connection's access token is invalid",
}
# App (4), user (17), page (32), custom (613), Pages BUC (80001), Instagram BUC (80002) limits
# and the Instagram publishing cap (9 / 2207042), which frees up over a rolling day.
PUBLISH_CAP = 9
RATE_LIMIT_CODES = frozenset({4, PUBLISH_CAP, 17, 32, 613, 80001, 80002})
PUBLISH_CAP_RETRY = 3600.0
POSTING_TOO_FAST = 1390008
DUPLICATE_POST = 506
BLOCKED = 368
UNKNOWN, SERVICE_DOWN = 1, 2
#: Page size of the timelines (Graph's maximum) and a safety stop on how many pages one
#: listing reads (100 x 100 posts: far more than a backfill window holds).
TIMELINE_PAGE = 100
MAX_TIMELINE_PAGES = 100
# A first comment is looked for among a post's first comments (it is made right after the post).
MAX_COMMENT_PAGES = 10
INVALID_PARAMETER = 100
# Our app's id or secret refused ("Error validating client secret." is an OAuthException 1).
CLIENT_CODES = frozenset({101})


def graph_error(body: JSON) -> JSON:
    error = body.get("error")
    if isinstance(error, dict):
        return error
    if "error_type" in body:  # api.instagram.com's flat shape
        return {
            "type": body["error_type"],
            "code": body.get("code"),
            "message": body.get("error_message"),
        }
    return {}


def regain_access_seconds(response: httpx.Response) -> float | None:
    """The longest ``estimated_time_to_regain_access`` (minutes) in X-Business-Use-Case-Usage:
    ``{"<id>": [{"type", "call_count", ..., "estimated_time_to_regain_access"}]}``."""
    raw = response.headers.get("x-business-use-case-usage")
    try:
        usage = json.loads(raw) if raw else {}
    except ValueError:
        return None
    minutes = [
        entry.get("estimated_time_to_regain_access")
        for entries in (usage.values() if isinstance(usage, dict) else [])
        if isinstance(entries, list)
        for entry in entries
        if isinstance(entry, dict)
    ]
    longest = max((m for m in minutes if isinstance(m, int | float) and m > 0), default=None)
    return None if longest is None else float(longest) * 60


def _percent(entry: Mapping[str, Any]) -> float | None:
    """The highest of Meta's three usage percentages (the one that throttles first)."""
    values = [entry.get(k) for k in ("call_count", "total_cputime", "total_time")]
    numbers = [float(v) for v in values if isinstance(v, int | float)]
    return max(numbers) if numbers else None


def usage_signals(headers: httpx.Headers | Mapping[str, str]) -> tuple[RateSignal, ...]:
    """The budgets a Graph answer reports: ``X-App-Usage`` (app and user tokens, bucket
    ``meta:app``) and ``X-Business-Use-Case-Usage`` (page and Instagram tokens: per object id
    and type, bucket ``meta:buc:<id>``, with ``estimated_time_to_regain_access`` in minutes).
    Unreadable headers give no signal rather than an error: they are advice, not data."""
    lowered = {k.lower(): v for k, v in headers.items()}
    signals: list[RateSignal] = []
    app = _json_header(lowered.get("x-app-usage"))
    if isinstance(app, dict):
        signals.append(RateSignal("meta:app", used_percent=_percent(app)))
    business = _json_header(lowered.get("x-business-use-case-usage"))
    for node, entries in business.items() if isinstance(business, dict) else []:
        usable = [e for e in entries if isinstance(e, dict)] if isinstance(entries, list) else []
        if not usable:
            continue
        percents = [p for p in map(_percent, usable) if p is not None]
        minutes = [
            float(m)
            for e in usable
            if isinstance(m := e.get("estimated_time_to_regain_access"), int | float)
        ]
        signals.append(
            RateSignal(
                f"meta:buc:{node}",
                used_percent=max(percents) if percents else None,
                regain_after_s=max(minutes) * 60 if minutes else None,
            )
        )
    return tuple(signals)


def _json_header(raw: str | None) -> Any:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return None


@dataclass(frozen=True)
class BatchAnswer:
    """One item of a Graph batch response: its own HTTP status, headers and JSON body."""

    status: int
    headers: Mapping[str, str]
    body: JSON

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


#: Graph batch requests take at most 50 items (Meta's Batch Requests page).
MAX_BATCH = 50

#: Meta's usage signals, read from every Graph answer: ``X-App-Usage`` (``meta:app``) and
#: ``X-Business-Use-Case-Usage`` (``meta:buc:<id>``). No count of ours (analytics reads Meta
#: with page and Instagram tokens, which the app limits do not count): only their blocks.
META_SIGNALS = (
    Rule(bucket="meta:app", limit=UNCOUNTED, window="signals"),
    Rule(bucket="meta:buc:{user}", scope="account", limit=UNCOUNTED, window="signals"),
)
NOT_FOUND_SUBCODE = 33  # "Object with ID ... does not exist, cannot be loaded ..."
NOT_ENOUGH_VIEWERS = "not enough viewers"


def item_gap(error: JSON) -> MetricsGap:
    """Why one batch item has no metrics, from its Graph error."""
    message = str(error.get("message") or "").lower()
    code = error.get("code")
    if code == INVALID_PARAMETER and (
        error.get("error_subcode") == NOT_FOUND_SUBCODE or "does not exist" in message
    ):
        return MetricsGap.DELETED
    if NOT_ENOUGH_VIEWERS in message:
        return MetricsGap.NOT_ENOUGH_VIEWERS
    return MetricsGap.UNAVAILABLE


def insight_values(body: JSON) -> dict[str, Any]:
    """``{"data": [{"name", "values": [{"value"}]} | {"name", "total_value": {"value"}}]}`` as
    name -> latest value."""
    found: dict[str, Any] = {}
    for entry in body.get("data") or []:
        if not isinstance(entry, dict) or not entry.get("name"):
            continue
        if isinstance(entry.get("total_value"), dict):
            found[str(entry["name"])] = entry["total_value"].get("value")
            continue
        values = [v for v in entry.get("values") or [] if isinstance(v, dict)]
        if values:
            found[str(entry["name"])] = values[-1].get("value")
    return found


def last_utc_day(moment: datetime) -> tuple[datetime, datetime]:
    """The last UTC day complete at ``moment``: (its start, its end)."""
    end = moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return end - timedelta(days=1), end


def picture_url(value: Any) -> str | None:
    """``picture`` is ``{"data": {"url": ...}}`` on Facebook, a plain URL elsewhere."""
    if isinstance(value, dict):
        value = (value.get("data") or {}).get("url")
    return value if isinstance(value, str) else None


class GraphProvider(BaseProvider):
    # Usage windows are a rolling hour; without an estimate, wait a few minutes.
    default_retry_after = 10 * 60.0
    graph_host: str
    #: Posts per page of a timeline (Graph's maximum; smaller in tests to see the cursors).
    timeline_page = TIMELINE_PAGE

    def graph_url(self, path: str) -> str:
        return self.url((self.graph_host, f"/{GRAPH_VERSION}{path}"))

    def classify(self, response: httpx.Response, call: Call) -> PlatformError | None:
        # Token endpoints answer Graph errors too (not RFC 6749 bodies): one classifier.
        if response.is_success:
            return None
        body = json_object(response) or {}
        if call is Call.EXCHANGE:
            return self.exchange_error(response, body)
        return self.api_error(response, body)

    def exchange_error(self, response: httpx.Response, body: JSON) -> PlatformError:
        error = graph_error(body)
        code = error.get("code")
        if code in CLIENT_CODES or (code == UNKNOWN and error.get("type") == "OAuthException"):
            message = str(error.get("message") or "")
            return self.fail(
                ErrorKind.BAD_REQUEST,
                response,
                detail=f"refused our app credentials ({message})",
                code=str(code),
            )
        if code == INVALID_PARAMETER or code == 400:  # 400: api.instagram.com's flat shape
            return self.code_refused(response, str(code))
        return self.api_error(response, body)

    def api_error(self, response: httpx.Response, body: JSON) -> PlatformError:
        error = graph_error(body)
        code = error.get("code") if isinstance(error.get("code"), int) else None
        subcode = error.get("error_subcode")
        label = f"{code}/{subcode}" if subcode else (str(code) if code is not None else None)
        message = str(error.get("message") or "") or None
        if code in REAUTH_CODES:
            detail = REAUTH_SUBCODES.get(subcode or 0, "says this connection is no longer valid")
            return self.fail(ErrorKind.REAUTH_REQUIRED, response, detail=detail, code=label)
        if code == BLOCKED and subcode == POSTING_TOO_FAST:
            return self.rate_limited(response, 60.0, detail="posting too fast", code=label)
        if code in RATE_LIMIT_CODES:
            wait = regain_access_seconds(response)
            if wait is None and code == PUBLISH_CAP:
                wait = PUBLISH_CAP_RETRY
            return self.rate_limited(response, wait, detail=message, code=label)
        if code == BLOCKED:
            # Meta's "deemed abusive" block: retrying on our own only prolongs it.
            return self.fail(ErrorKind.PERMANENT, response, detail=message, code=label)
        if code == DUPLICATE_POST:
            # The publisher reconciles on this code instead of failing the post.
            return self.fail(ErrorKind.PERMANENT, response, detail=message, code="duplicate")
        if (
            error.get("is_transient")
            or code in (UNKNOWN, SERVICE_DOWN)
            or response.status_code >= 500
        ):
            return self.fail(ErrorKind.TRANSIENT, response, code=label)
        return self.by_status(response, message, label)

    async def graph_get(self, path: str, tokens: TokenSet, **params: str) -> JSON:
        # The token goes in the Authorization header, never in a URL that proxies may log.
        return await self.send_json(
            Call.API, "GET", self.graph_url(path), params=params, headers=self.bearer(tokens)
        )

    def comment_id(self, body: JSON) -> str:
        if not body.get("id"):
            raise self.fail(ErrorKind.TRANSIENT, None, detail="answered without a comment id")
        return str(body["id"])

    async def comment_by(
        self,
        tokens: TokenSet,
        post_id: str,
        author_id: str,
        text: str,
        since: datetime,
        fields: tuple[str, str] = ("message", "created_time"),
    ) -> str | None:
        """A comment on ``post_id`` by ``author_id`` with ``text`` since ``since``: Graph's
        ``/{post-id}/comments`` (oldest first), following its cursors. ``fields``: the
        comment's text and time fields (Facebook ``message``/``created_time``, Instagram
        ``text``/``timestamp``)."""
        text_field, time_field = fields
        params = {"fields": f"id,{text_field},{time_field},from", "limit": "100"}
        for _ in range(MAX_COMMENT_PAGES):
            body = await self.graph_get(f"/{post_id}/comments", tokens, **params)
            for item in body.get("data") or []:
                if not isinstance(item, dict):
                    continue
                author = item.get("from") if isinstance(item.get("from"), dict) else {}
                created = item.get(time_field)
                if (
                    str((author or {}).get("id")) == author_id
                    and (created is None or posted_since(created, since))
                    and same_text(text, item.get(text_field))
                ):
                    return str(item["id"])
            paging = body.get("paging") or {}
            after = (paging.get("cursors") or {}).get("after")
            if not paging.get("next") or not after:
                return None
            params["after"] = str(after)
        return None

    async def graph_read(
        self, path: str, tokens: TokenSet, params: Mapping[str, str]
    ) -> tuple[JSON, tuple[RateSignal, ...]]:
        """A GET and the usage signals its answer carried."""
        response = await self.send(
            Call.API, "GET", self.graph_url(path), params=dict(params), headers=self.bearer(tokens)
        )
        body = json_object(response)
        if body is None:
            raise self.fail(
                ErrorKind.TRANSIENT, response, detail="answered with something other than JSON"
            )
        return body, usage_signals(response.headers)

    async def graph_batch(
        self, tokens: TokenSet, relative_urls: Sequence[str]
    ) -> tuple[list[BatchAnswer], tuple[RateSignal, ...]]:
        """Up to 50 GETs in one HTTP request (``POST /?batch=[...]``), answered item by item.

        Meta counts each item as one call against the rate limits. A failure of the request
        itself raises; so does an item refused for a reason that applies to every item (a rate
        limit, a refused token), since the batch's other answers are then no better. Any other
        item error (a deleted post, too few viewers) stays that item's, for the caller."""
        if len(relative_urls) > MAX_BATCH:
            raise ValueError(f"a Graph batch takes at most {MAX_BATCH} requests")
        batch = [{"method": "GET", "relative_url": url} for url in relative_urls]
        response = await self.send(
            Call.API,
            "POST",
            self.graph_url("/"),
            data={"batch": json.dumps(batch), "include_headers": "true"},
            headers=self.bearer(tokens),
        )
        try:
            items = response.json()
        except ValueError:
            items = None
        if not isinstance(items, list) or len(items) != len(relative_urls):
            raise self.fail(
                ErrorKind.TRANSIENT, response, detail="answered the batch with something unreadable"
            )
        answers = []
        for item in items:
            answer = self.batch_answer(item)
            if not answer.ok:
                item_response = httpx.Response(
                    answer.status,
                    headers=dict(answer.headers),
                    json=answer.body,
                    request=response.request,
                )
                error = self.api_error(item_response, answer.body)
                if error.kind in (ErrorKind.RATE_LIMITED, ErrorKind.REAUTH_REQUIRED):
                    raise error
            answers.append(answer)
        return answers, usage_signals(response.headers)

    @staticmethod
    def batch_answer(item: Any) -> BatchAnswer:
        """``{"code", "headers": [{"name", "value"}], "body": "<JSON text>"}``; a ``null`` item
        (Meta's answer to an item that timed out) is a 500 of that item only."""
        if not isinstance(item, dict):
            return BatchAnswer(500, {}, {"error": {"message": "no answer", "code": 2}})
        headers = {
            str(h.get("name")): str(h.get("value"))
            for h in item.get("headers") or []
            if isinstance(h, dict)
        }
        try:
            body = json.loads(item.get("body") or "{}")
        except (TypeError, ValueError):
            body = {}
        code = item.get("code")
        status = code if isinstance(code, int) else 500
        return BatchAnswer(status, headers, body if isinstance(body, dict) else {})

    def item_failure(self, post_id: str, answer: BatchAnswer) -> ItemFailure:
        error = graph_error(answer.body)
        message = str(error.get("message") or f"HTTP {answer.status}")
        return ItemFailure(post_id, item_gap(error), f"{self.name}: {message}")

    def out_of_window(self, post_id: str) -> ItemFailure:
        """Insights answered with no data: Graph's way of saying it keeps none for this post
        (past the retention window)."""
        return ItemFailure(
            post_id, MetricsGap.OUT_OF_WINDOW, f"{self.name} keeps no insights for this post"
        )

    async def timeline(
        self,
        tokens: TokenSet,
        path: str,
        params: Mapping[str, str],
        since: datetime,
        text_field: str,
        time_field: str,
        url_field: str,
    ) -> PostListing:
        """A newest-first edge (``/{page-id}/published_posts``, ``/{ig-user-id}/media``) read
        page by page through its ``after`` cursors until a post older than ``since``."""
        query = {**params, "limit": str(self.timeline_page)}
        posts: list[ListedPost] = []
        signals: tuple[RateSignal, ...] = ()
        calls = 0
        for _ in range(MAX_TIMELINE_PAGES):
            body, signals = await self.graph_read(path, tokens, query)
            calls += 1
            older = False
            for item in body.get("data") or []:
                published = parse_time(item.get(time_field)) if isinstance(item, dict) else None
                if published is None or not item.get("id"):
                    continue
                if published < since:
                    older = True
                    continue
                text = item.get(text_field)
                posts.append(
                    ListedPost(
                        id=str(item["id"]),
                        published_at=published,
                        url=item.get(url_field) or None,
                        text=text if isinstance(text, str) else None,
                    )
                )
                self.remember(item)
            paging = body.get("paging") or {}
            after = (paging.get("cursors") or {}).get("after")
            if older or not paging.get("next") or not after:
                break
            query["after"] = str(after)
        posts.sort(key=lambda p: p.published_at, reverse=True)
        return PostListing(tuple(posts), calls=calls, signals=signals)

    def remember(self, item: JSON) -> None:
        """What a listed post says that later metric requests need (Instagram: its type)."""

    def page_profile(self, node: JSON) -> Profile:
        """A Facebook page or Instagram account node as a ``Profile``."""
        followers = node.get("followers_count", node.get("fan_count"))
        # Facebook pages have no "following" nor post counter; Instagram accounts have both.
        return Profile(
            platform_user_id=str(node.get("user_id") or node.get("id") or ""),
            username=str(node.get("username") or node.get("name") or node.get("id") or ""),
            display_name=str(node.get("name") or node.get("username") or ""),
            avatar_url=picture_url(node.get("profile_picture_url") or node.get("picture")),
            followers=as_int(followers),
            following=as_int(node.get("follows_count")),
            post_count=as_int(node.get("media_count")),
        )
