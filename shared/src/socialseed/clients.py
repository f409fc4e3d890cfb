"""The HTTP client a service calls the platforms (and the other services) with.

It is an ``httpx.AsyncClient``, so the providers, the token vault and their tests speak httpx
(requests, responses, ``httpx.TransportError``), but its connections are aiohttp's
(``httpx-aiohttp``'s transport over an ``aiohttp.TCPConnector``). httpcore's pool walks all
its connections on every request and every response; with the hundreds of publishes or
fetches a process keeps in flight that bookkeeping was most of a platform call's CPU.
``bench/platform_clients.py`` (a local server answering in 50 ms, 256 requests in flight,
medians of 3): httpcore's pools of 32 took 2.3 ms of the client's CPU a request, aiohttp's
connector behind httpx 0.46 ms, aiohttp alone 0.19 ms.

Every failure without an answer is an ``httpx.TransportError``, named for what happened. The
library maps every ``aiohttp.ClientConnectionError`` to ``ConnectTimeout``; here a connection
dropped after the request went out is a ``ReadError`` and a refused one a ``ConnectError``,
and an answer that is not HTTP is a ``RemoteProtocolError``. A caller that must know whether
the platform may have acted (the publisher) treats every one of them as "perhaps", as before.
"""

from __future__ import annotations

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport


class PooledTransport(AiohttpTransport):
    """``httpx-aiohttp``'s transport with aiohttp's failures named as httpx names them."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return await super().handle_async_request(request)
        except httpx.ConnectTimeout as exc:
            cause = exc.__cause__
            if isinstance(cause, aiohttp.ConnectionTimeoutError):
                raise  # no connection within the timeout: it is one
            if isinstance(cause, aiohttp.ClientConnectorError):  # refused, unreachable, DNS
                raise httpx.ConnectError(str(cause), request=request) from cause
            # Dropped or reset once connected: the request may have gone out.
            raise httpx.ReadError(str(cause) or type(cause).__name__, request=request) from cause
        except aiohttp.ClientError as exc:  # what the library leaves unmapped
            raise httpx.RemoteProtocolError(str(exc), request=request) from exc


def http_client(timeout: float, *, connections: int = 100) -> httpx.AsyncClient:
    """A client keeping up to ``connections`` kept-alive connections (per process; each is
    made once, with its TLS handshake), every request bounded by ``timeout`` seconds."""
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    return httpx.AsyncClient(timeout=timeout, transport=PooledTransport(limits=limits))
