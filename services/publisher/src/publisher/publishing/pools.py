"""Connection pools for the platforms' calls: several smaller pools behind one client.

httpcore's pool walks all its connections on every request and every response (each idle
one checked for expiry with a poll of its socket, and the idle ones counted once per idle
connection): with a pool sized for hundreds of publishes in flight, that bookkeeping cost
about a third of a call's CPU in the publisher's profile. ``SplitPools`` hands the requests
to ``pools`` ordinary httpx transports in turn, each walking only its own connections. Each
may open as many connections as the whole limit (so no request ever waits for a pool that a
single pool would have served) and keeps ``1 / pools`` of the idle ones. The requests, their
errors and timeouts are httpx's own: a platform call fails exactly as before.
"""

from __future__ import annotations

import itertools
import math

import httpx


class SplitPools(httpx.AsyncBaseTransport):
    def __init__(self, limits: httpx.Limits, pools: int) -> None:
        connections = limits.max_connections or 100
        kept = limits.max_keepalive_connections or connections
        self.transports = [
            httpx.AsyncHTTPTransport(
                limits=httpx.Limits(
                    max_connections=connections,
                    max_keepalive_connections=max(1, math.ceil(kept / pools)),
                    keepalive_expiry=limits.keepalive_expiry,
                )
            )
            for _ in range(max(1, pools))
        ]
        self._turn = itertools.cycle(self.transports)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await next(self._turn).handle_async_request(request)

    async def aclose(self) -> None:
        for transport in self.transports:
            await transport.aclose()
