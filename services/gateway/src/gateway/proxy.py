"""Streaming reverse proxy to the services, with JWT check and rate limits in front."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
from fastapi import Request
from starlette.background import BackgroundTask
from starlette.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send

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


class ForwardedResponse(StreamingResponse):
    """An upstream's streamed answer; ``on_finish`` runs once it is sent, or has failed."""

    def __init__(self, *args: Any, on_finish: Callable[[], None], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.on_finish = on_finish

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.on_finish()


async def limited(body: AsyncIterator[bytes], limit: int) -> AsyncIterator[bytes]:
    """``body``, refused with PayloadTooLarge as soon as more than ``limit`` bytes came."""
    total = 0
    async for chunk in body:
        total += len(chunk)
        if total > limit:
            raise PayloadTooLarge(f"The request body exceeds {limit} bytes.")
        yield chunk


class Gateway:
    def __init__(self, settings: GatewaySettings, client: httpx.AsyncClient) -> None:
        self.settings = settings
        self.client = client
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
            if not route.public:
                principal = await self.verifier.principal_from(request.headers.get("authorization"))
                await self.throttle.hit(self.per_user, "user", str(principal.user_id))
                releases.append(self.in_flight.acquire(f"user:{principal.user_id}"))
            return await self._send(request, route, ip, raw_path, limit, release)
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
    ) -> Response:
        base = self.settings.upstreams[route.service]
        headers = [
            (k, v)
            for k, v in request.headers.items()
            if k.lower() not in HOP_BY_HOP and k.lower() not in CLIENT_ORIGIN_HEADERS
        ]
        headers.append(("x-forwarded-for", ip))
        headers.append(("x-request-id", request.state.request_id))
        # Path and query are passed on exactly as received (still percent-encoded); the path
        # was checked by normalise() to mean the same to every reader.
        query: bytes = request.scope.get("query_string", b"")
        try:
            url = httpx.URL(base).copy_with(raw_path=raw_path + (b"?" + query if query else b""))
        except httpx.InvalidURL as exc:
            raise BadRequest("The URL is malformed.") from exc
        upstream = self.client.build_request(
            request.method,
            url,
            headers=headers,
            content=limited(request.stream(), limit),
        )
        try:
            response = await self.client.send(upstream, stream=True)
        except httpx.TransportError as exc:
            raise ServiceUnavailable(f"The {route.service} service is unavailable.") from exc
        return ForwardedResponse(
            response.aiter_raw(),
            status_code=response.status_code,
            headers={
                k: v
                for k, v in response.headers.items()
                if k.lower() not in HOP_BY_HOP and k.lower() != "x-request-id"
            },
            background=BackgroundTask(response.aclose),
            on_finish=on_finish,
        )
