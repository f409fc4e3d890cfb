"""What Instagram and Facebook share: Meta's Graph API errors and rate-limit headers.

Graph errors are ``{"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}`` (the
older api.instagram.com answers flat ``{"error_type", "code", "error_message"}``). Rate limits are
error codes, not HTTP 429; ``X-Business-Use-Case-Usage`` says in minutes when access comes back.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from socialseed.platforms.base import ErrorKind, PlatformError, Profile, TokenSet
from socialseed.platforms.parsing import JSON, as_int, json_object
from socialseed.platforms.provider import BaseProvider, Call

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


def picture_url(value: Any) -> str | None:
    """``picture`` is ``{"data": {"url": ...}}`` on Facebook, a plain URL elsewhere."""
    if isinstance(value, dict):
        value = (value.get("data") or {}).get("url")
    return value if isinstance(value, str) else None


class GraphProvider(BaseProvider):
    # Usage windows are a rolling hour; without an estimate, wait a few minutes.
    default_retry_after = 10 * 60.0
    graph_host: str

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
