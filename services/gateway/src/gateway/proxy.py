"""Streaming reverse proxy to the services, with JWT check and rate limits in front."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable

import aiohttp
import yarl
from fastapi import Request
from opentelemetry import propagate
from starlette.responses import Response, StreamingResponse
from starlette.types import Message, Receive, Scope, Send

from gateway.apikeys import ApiKeys, is_api_key
from gateway.inflight import InFlight
from gateway.paths import normalise, refuse_upstream_internals
from gateway.routes import Route, match
from gateway.settings import GatewaySettings
from socialseed.bodylimit import declared_length
from socialseed.errors import BadRequest, NotFound, PayloadTooLarge, ServiceUnavailable
from socialseed.ratelimit import Throttle
from socialseed.security import JWTVerifier

HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailers",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
}
# The client's own claims about where it comes from are dropped; the gateway says it once.
CLIENT_ORIGIN_HEADERS = {"x-forwarded-for", "forwarded", "x-real-ip"}
HOP_BY_HOP_BYTES = {name.encode() for name in HOP_BY_HOP}
# The gateway's server sends its own (as nginx does, the upstream's are not passed on): kept,
# every answer would carry two of each.
SERVER_OWN_BYTES = {b"date", b"server"}


# A key revoked through this gateway (``DELETE /api/v1/api-keys/{id}`` answered 204).
REVOKE_PATH = re.compile(r"/api/v1/api-keys/([0-9a-fA-F-]{36})")

# What an upstream gets only if the client sent it: the proxy adds none of its own.
NO_AUTO_HEADERS = ("Accept", "Accept-Encoding", "Content-Type", "User-Agent")


# An upstream answer declaring at most this many bytes is read whole and sent in one message
# (with its length): no chunked encoding, no task watching for the client to go away meanwhile.
WHOLE_BODY_BYTES = 256 * 1024


class ForwardedResponse(StreamingResponse):
    """An upstream's answer, headers as it sent them (repeated ones kept); ``on_finish`` runs
    once, as soon as the last byte has been handed to the server (or sending failed) — not
    when this call returns, which can be after the client has read the answer and sent its
    next request on the same connection."""

    def __init__(
        self,
        upstream: aiohttp.ClientResponse,
        *,
        on_finish: Callable[[], None],
    ) -> None:
        super().__init__(upstream.content.iter_any(), status_code=upstream.status)
        self.raw_headers = [
            (name.lower(), value)
            for name, value in upstream.raw_headers
            if name.lower() not in HOP_BY_HOP_BYTES
            and name.lower() not in SERVER_OWN_BYTES
            and name.lower() != b"x-request-id"
        ]
        self.upstream = upstream
        self.on_finish = on_finish

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_then_finish(message: Message) -> None:
            try:
                await send(message)
            finally:
                if message["type"] == "http.response.body" and not message.get("more_body"):
                    self.on_finish()

        try:
            length = self.upstream.content_length
            if length is not None and length <= WHOLE_BODY_BYTES:
                await self._send_whole(scope["method"], length, send_then_finish)
            else:
                await super().__call__(scope, receive, send_then_finish)
        finally:
            self.upstream.release()  # back to the pool when read to its end, else closed
            self.on_finish()

    async def _send_whole(self, method: str, length: int, send: Send) -> None:
        try:
            body = await self.upstream.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise ServiceUnavailable("The service failed while answering.") from exc
        # A HEAD answer has no body but the length a GET would have.
        size = length if method == "HEAD" else len(body)
        headers = [*self.raw_headers, (b"content-length", str(size).encode())]
        await send({"type": "http.response.start", "status": self.status_code, "headers": headers})
        await send({"type": "http.response.body", "body": body})


class LimitedBody:
    """The request body as it streams to the upstream, cut off as soon as more than ``limit``
    bytes came. ``failure``: what went wrong on the client's side (too large, cut off), for
    the proxy to answer instead of the upstream failure it causes."""

    def __init__(self, body: AsyncIterator[bytes], limit: int) -> None:
        self.body = body
        self.limit = limit
        self.failure: Exception | None = None

    async def __aiter__(self) -> AsyncIterator[bytes]:
        total = 0
        try:
            async for chunk in self.body:
                total += len(chunk)
                if total > self.limit:
                    raise PayloadTooLarge(f"The request body exceeds {self.limit} bytes.")
                yield chunk
        except Exception as exc:
            self.failure = exc
            raise


def has_body(request: Request) -> bool:
    return "transfer-encoding" in request.headers or request.headers.get(
        "content-length", "0"
    ) not in ("", "0")


def upstream_headers(
    request: Request, ip: str, authorization: str | None = None
) -> list[tuple[str, str]]:
    """The client's headers less hop-by-hop ones and its claims about where it comes from;
    the gateway's own forwarded-for, request id and (when tracing) traceparent instead.
    ``authorization``: sent instead of the client's (an API key's exchanged token)."""
    ours = {"x-forwarded-for": ip, "x-request-id": request.state.request_id}
    if authorization is not None:
        ours["authorization"] = authorization
    propagate.inject(ours)  # the gateway's span, when there is one; else the client's is kept
    kept = [
        (k, v)
        for k, v in request.headers.items()
        if k not in HOP_BY_HOP and k not in CLIENT_ORIGIN_HEADERS and k not in ours
    ]
    return kept + list(ours.items())


def upstream_url(base: str, request: Request, raw_path: bytes) -> yarl.URL:
    """Path and query exactly as received (still percent-encoded); the path was checked by
    normalise() to mean the same to every reader."""
    query: bytes = request.scope.get("query_string", b"")
    try:
        target = (raw_path + (b"?" + query if query else b"")).decode("ascii")
        return yarl.URL(base + target, encoded=True)
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadRequest("The URL is malformed.") from exc


class Gateway:
    """Forwards with one aiohttp session per process (pooled keep-alive connections to the
    upstreams), opened on the first request: aiohttp binds it to the running event loop."""

    def __init__(self, settings: GatewaySettings) -> None:
        self.settings = settings
        self._session: aiohttp.ClientSession | None = None
        auth_url = settings.upstreams.get("auth", "")
        self.verifier = JWTVerifier(
            f"{auth_url}/.well-known/jwks.json",
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            cache_size=settings.jwt_cache_size,
        )
        self.throttle = Throttle("gateway")
        self.per_ip = Throttle.limit(settings.limit_per_ip)
        self.per_user = Throttle.limit(settings.limit_per_user)
        self.login_per_ip = Throttle.limit(settings.limit_login_per_ip)
        self.in_flight = InFlight(settings.max_in_flight_per_client)
        self.api_keys = ApiKeys(
            f"{auth_url}/internal/api-keys/exchange",
            settings.exchange_secret(),
            cache_seconds=settings.api_key_cache_seconds,
        )

    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(
                    limit=self.settings.upstream_max_connections,
                    limit_per_host=0,
                    # Below the services' own idle timeout (uvicorn's 5 s), so a pooled
                    # connection is never one the upstream is closing.
                    keepalive_timeout=4.0,
                ),
                timeout=aiohttp.ClientTimeout(
                    total=None,
                    sock_connect=self.settings.upstream_connect_timeout,
                    sock_read=self.settings.upstream_timeout,
                ),
                auto_decompress=False,  # bodies pass through as the upstream encoded them
                skip_auto_headers=NO_AUTO_HEADERS,
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    def body_limit(self, route: Route) -> int:
        if route.media:
            return self.settings.max_media_body_bytes
        return self.settings.max_body_bytes

    async def forward(self, request: Request) -> Response:
        # Route and forward the same bytes: the raw path, proven free of anything an upstream
        # could resolve differently (dot segments, encoded slashes, ...).
        raw_path: bytes = request.scope.get("raw_path") or request.scope["path"].encode()
        path = normalise(raw_path)
        refuse_upstream_internals(path)
        route = match(path)
        if route is None or route.service not in self.settings.upstreams:
            raise NotFound(f"No API at {path}.")
        limit = self.body_limit(route)
        length = declared_length(request.headers)
        if length is not None and length > limit:
            raise PayloadTooLarge(f"The request body exceeds {limit} bytes.")
        ip = request.client.host if request.client else "unknown"
        releases = [self.in_flight.acquire(f"ip:{ip}")]

        def release() -> None:
            for release_one in releases:
                release_one()

        try:
            await self.throttle.hit(self.per_ip, "ip", ip)
            if route.login:
                await self.throttle.hit(self.login_per_ip, "login-ip", ip)
            authorization = None
            if not route.public:
                authorization = request.headers.get("authorization")
                if (key := is_api_key(authorization)) is not None:
                    token = await self.api_keys.token(self.session(), key)
                    authorization = f"Bearer {token}"
                principal = await self.verifier.principal_from(authorization)
                # An API key's principal is the key itself: its limits are its own.
                await self.throttle.hit(self.per_user, "user", str(principal.user_id))
                releases.append(self.in_flight.acquire(f"user:{principal.user_id}"))
            response = await self._send(request, route, ip, raw_path, limit, release, authorization)
            if (
                route.service == "auth"
                and request.method == "DELETE"
                and response.status_code == 204
            ):
                revoked = REVOKE_PATH.fullmatch(path)
                if revoked:  # this process forgets the key at once (others: the cache bound)
                    self.api_keys.forget(revoked.group(1))
            return response
        except BaseException:
            release()
            raise

    async def _send(
        self,
        request: Request,
        route: Route,
        ip: str,
        raw_path: bytes,
        limit: int,
        on_finish: Callable[[], None],
        authorization: str | None = None,
    ) -> Response:
        body = LimitedBody(request.stream(), limit) if has_body(request) else None
        try:
            upstream = await self.session().request(
                request.method,
                upstream_url(self.settings.upstreams[route.service], request, raw_path),
                headers=upstream_headers(request, ip, authorization),
                data=body,
                allow_redirects=False,
            )
        except (aiohttp.ClientError, TimeoutError) as exc:
            if body is not None and body.failure is not None:
                raise body.failure from None
            raise ServiceUnavailable(f"The {route.service} service is unavailable.") from exc
        return ForwardedResponse(upstream, on_finish=on_finish)
