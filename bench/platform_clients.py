"""The client's CPU per platform call, for the HTTP clients a service could call platforms with.

A local upstream (pure ASGI under uvicorn + httptools + uvloop, in its own process) answers
every request 50 ms late with a small JSON body, as the publish bench's platforms do. This
process then sends ``--requests`` POSTs with ``--concurrency`` in flight through each client
and prints the CPU milliseconds this process spent per request (``time.process_time``) and
the requests/s, medians of ``--runs`` rounds, with the load average:

- ``httpx (httpcore pools of 32)``: httpx's own transport, its connections split into pools
  of 32 (how the publisher called the platforms before ``socialseed.clients``);
- ``socialseed.clients``: ``httpx.AsyncClient`` over aiohttp's pool (what the services use);
- ``aiohttp``: aiohttp's ``ClientSession`` alone (the floor for this event loop).

    uv run python bench/platform_clients.py [--runs 3] [--requests 6000] [--concurrency 256]
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import socket
import statistics
import sys
import time
from collections.abc import Awaitable, Callable

import aiohttp
import httpx

from socialseed.clients import http_client

UPSTREAM = r"""
import asyncio, uvicorn
BODY = b'{"data":{"id":"1234567890","text":"hello"}}'
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    await asyncio.sleep(0.05)
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(BODY))]
    await send({"type": "http.response.start", "status": 201, "headers": headers})
    await send({"type": "http.response.body", "body": BODY})
uvicorn.run(app, host="127.0.0.1", port=PORT, log_level="warning", loop="uvloop",
            http="httptools", backlog=4096)
"""
PAYLOAD = {"text": "hello world"}
HEADERS = {"authorization": "Bearer bench"}


class HttpcorePools(httpx.AsyncBaseTransport):
    """httpx's transport, requests handed to ``pools`` of them in turn."""

    def __init__(self, connections: int, pools: int) -> None:
        limits = httpx.Limits(
            max_connections=connections,
            max_keepalive_connections=math.ceil(connections / pools),
        )
        self.transports = [httpx.AsyncHTTPTransport(limits=limits) for _ in range(pools)]
        self.turn = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.turn = (self.turn + 1) % len(self.transports)
        return await self.transports[self.turn].handle_async_request(request)

    async def aclose(self) -> None:
        for transport in self.transports:
            await transport.aclose()


async def measure(
    call: Callable[[], Awaitable[None]], n: int, concurrency: int
) -> tuple[float, float]:
    """(client CPU ms per request, requests/s)."""
    gate = asyncio.Semaphore(concurrency)

    async def one() -> None:
        async with gate:
            await call()

    await asyncio.gather(*(one() for _ in range(min(n, 500))))  # connections made, warm
    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(one() for _ in range(n)))
    return (time.process_time() - cpu) / n * 1e3, n / (time.perf_counter() - wall)


async def main(args: argparse.Namespace) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    upstream = await asyncio.create_subprocess_exec(
        sys.executable, "-c", UPSTREAM.replace("PORT", str(port))
    )
    url = f"http://127.0.0.1:{port}/2/tweets"
    try:
        for _ in range(100):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.1):
                    break
            except OSError:
                await asyncio.sleep(0.1)
        results: dict[str, list[tuple[float, float]]] = {}
        n, c = args.requests, args.concurrency
        for _ in range(args.runs):
            pools = HttpcorePools(c, max(1, math.ceil(c / 32)))
            async with httpx.AsyncClient(transport=pools, timeout=10) as client:

                async def by_httpx() -> None:
                    (await client.post(url, json=PAYLOAD, headers=HEADERS)).json()

                results.setdefault("httpx (httpcore pools of 32)", []).append(
                    await measure(by_httpx, n, c)
                )
            async with http_client(10, connections=c) as ours:

                async def by_ours() -> None:
                    (await ours.post(url, json=PAYLOAD, headers=HEADERS)).json()

                results.setdefault("socialseed.clients", []).append(await measure(by_ours, n, c))
            connector = aiohttp.TCPConnector(limit=c)
            async with aiohttp.ClientSession(connector=connector) as session:

                async def by_aiohttp() -> None:
                    async with session.post(url, json=PAYLOAD, headers=HEADERS) as r:
                        await r.json()

                results.setdefault("aiohttp", []).append(await measure(by_aiohttp, n, c))
    finally:
        upstream.terminate()
        await upstream.wait()
    print(f"{n} requests, {c} in flight, upstream 50 ms late; medians of {args.runs} runs")
    print(f"{'client':32} {'CPU ms/request':>15} {'requests/s':>11}")
    for name, runs in results.items():
        cpu = statistics.median(r[0] for r in runs)
        rate = statistics.median(r[1] for r in runs)
        print(f"{name:32} {cpu:>15.3f} {rate:>11,.0f}")
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--requests", type=int, default=6000)
    parser.add_argument("--concurrency", type=int, default=256)
    asyncio.run(main(parser.parse_args()))
