"""What Facebook and Instagram share: the Graph API's shape.

Graph paths are ``[/vXX.X]/{node}[/{edge}]`` with the version optional, parameters in the query
string, a form or JSON alike, and the token in ``access_token`` or a Bearer header. Each Meta
module serves its OAuth pages on fixed routes and everything else through one catch-all that
parses a ``GraphCall`` and dispatches on the path segments; node ids are numeric (or ``me``), so
fixed routes such as ``/oauth/access_token`` cannot collide with nodes.
"""

from __future__ import annotations

import base64
import json
import math
import re
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from fastapi import Request
from fastapi.responses import Response

from sandbox.ratelimit import Usage
from sandbox.state import Comment, Post, SandboxState, Token, TokenProblem
from sandbox.web import Reject, bearer, json_response, request_record, sandbox

VERSION = re.compile(r"v\d+\.\d+")
NOT_ENOUGH_VIEWERS = "(#10) Not enough viewers for the media to show insights"


@dataclass
class GraphCall:
    state: SandboxState
    request: Request
    method: str
    segments: list[str]
    params: dict[str, str]
    files: dict[str, bytes] = field(default_factory=dict)
    # Set once the token is known: who is calling, the usage headers every answer carries, and
    # the per-endpoint hourly limits (code 613) of this platform, keyed "<METHOD> <template>".
    token: Token | None = None
    headers: dict[str, str] = field(default_factory=dict)
    endpoint_limits: dict[str, int] = field(default_factory=dict)

    @property
    def token_value(self) -> str | None:
        return self.params.get("access_token") or bearer(self.request)

    def fields(self, default: str) -> list[str]:
        """The ``fields`` asked, split at the top-level commas only, so a field expansion
        such as ``insights.metric(a,b)`` or ``comments.limit(0).summary(true)`` stays whole."""
        return split_fields(self.params.get("fields", default))

    def name(self, platform: str, *parts: str) -> None:
        """Name the endpoint for ``/_sandbox/stats`` (the route itself is a catch-all).

        Only the path template: the middleware puts the method in front, as for every other
        route, so each stats key reads ``"<METHOD> <path template>"`` exactly once.
        """
        template = "/" + "/".join(parts)
        self.request.scope["sandbox.endpoint"] = template
        self.endpoint_limit(platform, f"{self.method} {template}")

    def endpoint_limit(self, platform: str, endpoint: str) -> None:
        """Code 613, "calls within one hour exceeded": Meta's custom per-endpoint throttles,
        counted here per endpoint and per object the token acts for (user, page, IG account)."""
        limit = self.endpoint_limits.get(endpoint)
        if limit is None or self.token is None:
            return
        usage = self.state.limits.sliding(
            (platform, "endpoint", endpoint, self.token.account_id),
            limit,
            3_600,
            self.state.clock.now(),
        )
        if not usage.allowed:
            raise self.throttled("(#613) Calls to this api have exceeded the rate limit.", 613)

    def throttled(self, message: str, code: int) -> Reject:
        """A rate-limit error (Meta answers them with HTTP 400, not 429) with the usage headers."""
        return Reject(with_headers(error(message, code, is_transient=True), self.headers))

    def name_unresolved(self) -> None:
        """A provisional name for calls refused before routing (bad token, rate limit), which
        only the token could resolve to a page, post or media node."""
        node = self.segments[0] if self.segments[0] == "me" else "{node-id}"
        self.name("", node, *self.segments[1:])


Dispatcher = Callable[[GraphCall], Awaitable[Response]]
MODIFIER = re.compile(r"\.(\w+)\(([^()]*)\)")


def split_fields(text: str) -> list[str]:
    fields, depth, start = [], 0, 0
    for index, char in enumerate(text + ","):
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "," and depth == 0:
            if text[start:index].strip():
                fields.append(text[start:index].strip())
            start = index + 1
    return fields


def expansion(field: str) -> tuple[str, dict[str, str]]:
    """``comments.limit(0).summary(true)`` -> ``("comments", {"limit": "0", "summary":
    "true"})``: a field and its modifiers."""
    name = field.split(".", 1)[0].split("{", 1)[0]
    return name, {m.group(1): m.group(2) for m in MODIFIER.finditer(field)}


# Graph error codes that mean "rate limited" (Meta answers them with HTTP 400, not 429): app
# (4), user (17), page (32), custom endpoint (613), Pages BUC (80001), Instagram BUC (80002).
THROTTLE_CODES = frozenset({4, 17, 32, 613, 80001, 80002})


def is_throttle(body: bytes) -> bool:
    try:
        code = json.loads(body).get("error", {}).get("code")
    except (ValueError, AttributeError):
        return False
    return code in THROTTLE_CODES


def fbtrace_id() -> str:
    return secrets.token_urlsafe(8)


def error(
    message: str,
    code: int,
    subcode: int | None = None,
    status: int = 400,
    kind: str = "OAuthException",
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response:
    body: dict[str, Any] = {"message": message, "type": kind, "code": code}
    if subcode is not None:
        body["error_subcode"] = subcode
    body.update(extra)
    body["fbtrace_id"] = fbtrace_id()
    return json_response({"error": body}, status, headers)


def require_scope(token: Token, action: str, *scopes: str) -> None:
    """Meta's permission errors when the grant lacks every one of ``scopes``: (#200) for
    publishing, (#10) for reads such as insights (both OAuthException, HTTP 400 or 403)."""
    if any(scope in token.scopes for scope in scopes):
        return
    names = " or ".join(scopes)
    if action == "publish":
        raise Reject(
            error(
                f"(#200) The user hasn't authorized the application to perform this action "
                f"(requires {names})",
                200,
                status=403,
            )
        )
    raise Reject(error(f"(#10) This endpoint requires the '{names}' permission", 10, status=403))


def invalid_param(message: str) -> Response:
    return error(f"(#100) {message}", 100)


def unsupported(call: GraphCall) -> Response:
    path = "/".join(call.segments)
    return error(
        f"Unsupported {call.method.lower()} request. Object with ID '{path}' does not exist, "
        "cannot be loaded due to missing permissions, or does not support this operation.",
        100,
        33,
        kind="GraphMethodException",
    )


REVOKE_SUBCODES = {
    "password_changed": (
        460,
        "Error validating access token: The session has been invalidated because the user "
        "changed their password or Facebook has changed the session for security reasons.",
    ),
    "app_removed": (
        458,
        "Error validating access token: The user has not authorized application socialseed.",
    ),
}


def token_error(state: SandboxState, value: str | None, problem: TokenProblem) -> Response:
    """OAuthException 190 with the subcode that says why (463 expired, 460, 458, 467)."""
    if problem is TokenProblem.MISSING:
        return error("An active access token must be used to query information.", 2500)
    if problem is TokenProblem.EXPIRED:
        token = state.tokens.by_value.get(value or "")
        when = "" if token is None else " The current time is later than the expiry time."
        return error(f"Error validating access token: Session has expired.{when}", 190, 463)
    if problem is TokenProblem.REVOKED:
        token = state.tokens.by_value.get(value or "")
        reason = token.revoked_reason if token else None
        subcode, message = REVOKE_SUBCODES.get(reason or "", REVOKE_SUBCODES["app_removed"])
        return error(message, 190, subcode)
    return error("Invalid OAuth access token - Cannot parse access token", 190, 467)


def authenticate(call: GraphCall, platform: str) -> Token:
    found = call.state.tokens.check(platform, call.token_value)
    if isinstance(found, TokenProblem):
        raise Reject(token_error(call.state, call.token_value, found))
    return found


async def read_call(request: Request, path: str) -> GraphCall:
    segments = [s for s in path.split("/") if s]
    if segments and VERSION.fullmatch(segments[0]):
        segments = segments[1:]
    params = dict(request.query_params)
    files: dict[str, bytes] = {}
    content_type = request.headers.get("content-type", "")
    if request.method != "GET":
        if "json" in content_type:
            raw = await request.body()
            try:
                body = json.loads(raw) if raw else {}
            except ValueError:
                raise Reject(invalid_param("Invalid JSON body")) from None
            params.update({k: v if isinstance(v, str) else json.dumps(v) for k, v in body.items()})
        elif "form" in content_type or "multipart" in content_type:
            form = await request.form()
            for key, value in form.items():
                if isinstance(value, str):
                    params[key] = value
                else:
                    files[key] = await value.read()
    return GraphCall(sandbox(request), request, request.method, segments, params, files)


def usage_percent(usage: Usage) -> int:
    return min(100, usage.used * 100 // max(1, usage.limit))


def business_usage(node_id: str, kind: str, usage: Usage, now: float) -> dict[str, str]:
    pct = usage_percent(usage)
    entry = {
        "type": kind,
        "call_count": pct,
        "total_cputime": pct // 2,
        "total_time": pct // 2,
        # Minutes until the oldest call of the rolling hour drops out and a call fits again.
        "estimated_time_to_regain_access": 0
        if usage.allowed
        else max(1, math.ceil((usage.reset_at - now) / 60)),
    }
    return {"X-Business-Use-Case-Usage": json.dumps({node_id: [entry]})}


def app_usage(usage: Usage) -> dict[str, str]:
    pct = usage_percent(usage)
    return {
        "X-App-Usage": json.dumps(
            {"call_count": pct, "total_cputime": pct // 2, "total_time": pct // 2}
        )
    }


def with_headers(response: Response, headers: dict[str, str]) -> Response:
    for key, value in headers.items():
        response.headers[key] = value
    return response


def parse_time(value: str | None, default: float) -> float:
    """Graph ``since``/``until``: unix seconds, ``YYYY-MM-DD`` or an ISO 8601 moment."""
    if not value:
        return default
    if value.isdigit():
        return float(value)
    if "T" in value:
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise Reject(invalid_param(f"Invalid time: {value}")) from None
        return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()
    try:
        return datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC).timestamp()
    except ValueError:
        raise Reject(invalid_param(f"Invalid time: {value}")) from None


def insight(
    node_id: str,
    name: str,
    value: Any,
    period: str = "lifetime",
    values: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    title = name.replace("_", " ").capitalize()
    return {
        "name": name,
        "period": period,
        "values": values if values is not None else [{"value": value}],
        "title": title,
        "description": f"{title} ({period})",
        "id": f"{node_id}/insights/{name}/{period}",
    }


MAX_PAGE = 100


def encode_cursor(created_at: float, node_id: str) -> str:
    return base64.urlsafe_b64encode(f"{created_at!r}:{node_id}".encode()).decode().rstrip("=")


def decode_cursor(value: str) -> tuple[float, str]:
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
        created_at, _, node_id = raw.partition(":")
        return float(created_at), node_id
    except (ValueError, UnicodeDecodeError):
        raise Reject(invalid_param("Invalid cursor")) from None


def timeline_page(
    call: GraphCall, posts: list[Post], render: Callable[[Post], dict[str, Any]]
) -> dict[str, Any]:
    """One page of an edge listed newest first (``/{page-id}/feed``, ``/{ig-user-id}/media``):
    ``since``/``until`` bound ``created_time``, ``limit`` (25, at most 100) sizes the page, and
    the ``after``/``before`` cursors of ``paging.cursors`` (also in ``paging.next`` and
    ``paging.previous``, which SDKs follow) move to older/newer posts. A cursor names a
    position, not an index, so posts published meanwhile never shift a page."""
    p, now = call.params, call.state.clock.now()
    limit_text = p.get("limit", "25")
    if not limit_text.isdigit() or not 1 <= int(limit_text) <= MAX_PAGE:
        raise Reject(invalid_param(f"limit must be between 1 and {MAX_PAGE}"))
    limit = int(limit_text)
    since, until = parse_time(p.get("since"), 0), parse_time(p.get("until"), math.inf)
    ordered = sorted(
        (post for post in posts if since <= post.created_at <= until and post.created_at <= now),
        key=lambda post: (post.created_at, post.id),
        reverse=True,
    )
    start = 0
    if p.get("after"):
        mark = decode_cursor(p["after"])
        start = next(
            (i for i, q in enumerate(ordered) if (q.created_at, q.id) < mark), len(ordered)
        )
    elif p.get("before"):
        mark = decode_cursor(p["before"])
        newer = sum(1 for q in ordered if (q.created_at, q.id) > mark)
        start = max(0, newer - limit)
        limit = newer - start
    window = ordered[start : start + limit]
    body: dict[str, Any] = {"data": [render(post) for post in window]}
    if window:
        first, last = window[0], window[-1]
        before = encode_cursor(first.created_at, first.id)
        after = encode_cursor(last.created_at, last.id)
        paging: dict[str, Any] = {"cursors": {"before": before, "after": after}}
        url = call.request.url.remove_query_params(["after", "before"])
        if start + len(window) < len(ordered):
            paging["next"] = str(url.include_query_params(after=after))
        if start > 0:
            paging["previous"] = str(url.include_query_params(before=before))
        body["paging"] = paging
    return body


MAX_BATCH = 50
USAGE_HEADERS = ("x-app-usage", "x-business-use-case-usage")


async def batch(call: GraphCall, platform: str, dispatch: Dispatcher) -> Response:
    """``POST /?batch=[...]``: up to 50 calls in one HTTP request, each answered in place as
    ``{code, headers, body}`` (a failed item never fails the others). Meta's Batch Requests
    page: every item counts as one call against the rate limits, the items' ``relative_url``
    and ``body`` are URL-encoded, and the batch's own token (query, form or Bearer header) is
    each item's unless the item names its own. The batch answer carries the usage headers as
    they stood after its last item (X-Business-Use-Case-Usage merged over the ids met). A
    batch any of whose items was throttled counts as rate limited in ``/_sandbox/stats``."""
    try:
        items = json.loads(call.params["batch"])
    except ValueError:
        return invalid_param("The batch parameter must be a JSON array")
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        return invalid_param("The batch parameter must be a JSON array of requests")
    if len(items) > MAX_BATCH:
        return invalid_param(
            f"Too many requests in batch message. Maximum batch size is {MAX_BATCH}"
        )
    token = call.token_value or ""
    results: list[dict[str, Any]] = []
    usage: dict[str, str] = {}
    business: dict[str, Any] = {}
    for item in items:
        path, _, query = str(item.get("relative_url", "")).partition("?")
        params = dict(parse_qsl(query, keep_blank_values=True))
        if isinstance(item.get("body"), str):
            params.update(parse_qsl(item["body"], keep_blank_values=True))
        params.setdefault("access_token", token)
        segments = [s for s in path.split("/") if s]
        if segments and VERSION.fullmatch(segments[0]):
            segments = segments[1:]
        method = str(item.get("method", "GET")).upper()
        sub = GraphCall(call.state, call.request, method, segments, params)
        try:
            response = await dispatch(sub)
        except Reject as rejected:
            response = rejected.response
        if is_throttle(bytes(response.body)):
            call.request.scope["sandbox.throttled"] = True
        headers = {k.lower(): v for k, v in response.headers.items()}
        if "x-app-usage" in headers:
            usage["X-App-Usage"] = headers["x-app-usage"]
        if "x-business-use-case-usage" in headers:
            business.update(json.loads(headers["x-business-use-case-usage"]))
        results.append(
            {
                "code": response.status_code,
                "headers": [
                    {"name": k, "value": v}
                    for k, v in response.headers.items()
                    if k.lower() in ("content-type", *USAGE_HEADERS)
                ],
                "body": bytes(response.body).decode(),
            }
        )
    if business:
        usage["X-Business-Use-Case-Usage"] = json.dumps(business)
    call.name(platform, "batch")  # the items renamed the request: the batch is what it was
    return json_response(results, headers=usage)


def data_page(items: list[dict[str, Any]]) -> dict[str, Any]:
    body: dict[str, Any] = {"data": items}
    if items:
        body["paging"] = {"cursors": {"before": "QVFIUm1", "after": "QVFIUm2"}}
    return body


# comments ----------------------------------------------------------------------------------
def create_comment(
    call: GraphCall, platform: str, post: Post, author_id: str, max_length: int, comment_id: str
) -> Response:
    """``POST /{post-id}/comments?message=``: a comment by the caller (the page or the IG
    account) on its own post. An empty or missing message is (#100); one longer than the
    platform takes is (#100) too, and nothing is stored."""
    message = call.params.get("message", "")
    if not message.strip():
        return invalid_param("The parameter message is required")
    if len(message) > max_length:
        return invalid_param(f"Comment message must be at most {max_length} characters")
    body = {k: v for k, v in call.params.items() if k != "access_token"}
    call.state.add_comment(
        Comment(
            platform=platform,
            id=comment_id,
            post_id=post.id,
            author_id=author_id,
            text=message,
            created_at=call.state.clock.now(),
            request=request_record(call.request, body),
        )
    )
    return json_response({"id": comment_id})


def comments_page(
    call: GraphCall, platform: str, post: Post, render: Callable[[Comment], dict[str, Any]]
) -> Response:
    """``GET /{post-id}/comments``: oldest first (Graph's chronological order), ``limit`` (25,
    at most 100) per page, ``after`` the cursor of the last one read."""
    limit_text = call.params.get("limit", "25")
    if not limit_text.isdigit() or not 1 <= int(limit_text) <= MAX_PAGE:
        raise Reject(invalid_param(f"limit must be between 1 and {MAX_PAGE}"))
    limit = int(limit_text)
    items = call.state.comments_on(platform, post.id)
    start = 0
    if call.params.get("after"):
        try:
            start = int(base64.urlsafe_b64decode(call.params["after"].encode()).decode())
        except ValueError:
            raise Reject(invalid_param("Invalid cursor")) from None
    page = items[start : start + limit]
    body: dict[str, Any] = {"data": [render(c) for c in page]}
    if page:
        after = base64.urlsafe_b64encode(str(start + len(page)).encode()).decode()
        body["paging"] = {"cursors": {"after": after}}
        if start + len(page) < len(items):
            body["paging"]["next"] = f"{call.request.url.path}?after={after}&limit={limit}"
    return json_response(body)
