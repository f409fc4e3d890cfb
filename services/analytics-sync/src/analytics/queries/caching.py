"""ETags for the read API. An answer is a function of the request (the route, its parsed and
validated parameters, the period it resolved to) and of the data of the workspaces it reads;
the data part is each workspace's ``data_versions.version``, which the ingester bumps in
every batch that names the workspace. So an ETag changes as soon as new metrics land, not
when a TTL runs out, and checking one costs a primary-key read before any other work (a 304
skips the query itself).

The key is built from what the endpoint parsed, never from the raw query string: a repeated
parameter (``interval=week&interval=day``) is read once by FastAPI (the last one), and the key
says the value the answer was computed from, whatever the order; parameters the route does not
know, and spellings of the same value (``from`` given or defaulted, a UUID in capitals), make
no key, and so no stored answer, of their own."""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from cachetools import LRUCache
from fastapi import Request
from fastapi.responses import Response
from pydantic import BaseModel

from analytics.queries.periods import Period

#: Changed when answers change shape, so that no client keeps an answer of an older shape.
SHAPE_VERSION = "1"

NOT_MODIFIED_DOC: dict[int | str, dict[str, Any]] = {
    304: {"description": "Not modified: the `If-None-Match` ETag is current"}
}


def etag(
    route: str,
    params: Mapping[str, object],
    versions: Mapping[uuid.UUID, int],
    period: Period | None,
) -> str:
    """``route``: the route's path template; ``params``: the parsed parameters the answer
    depends on (path ids included; the period apart)."""
    parts = [
        SHAPE_VERSION,
        route,
        json.dumps(params, sort_keys=True, default=str),
        f"{period.start.isoformat()}/{period.end.isoformat()}" if period else "",
        ",".join(f"{k}:{v}" for k, v in sorted(versions.items(), key=lambda kv: str(kv[0]))),
    ]
    return '"' + hashlib.sha256("|".join(parts).encode()).hexdigest()[:32] + '"'


def not_modified(request: Request, tag: str) -> bool:
    """Whether ``If-None-Match`` names ``tag`` (or ``*``); weak tags compare by value."""
    header = request.headers.get("if-none-match")
    if not header:
        return False
    candidates = {c.strip().removeprefix("W/") for c in header.split(",")}
    return tag in candidates or "*" in candidates


def cache_headers(tag: str, max_age: int) -> dict[str, str]:
    # private: answers depend on the caller's workspaces; shared caches must not keep them.
    return {"ETag": tag, "Cache-Control": f"private, max-age={max_age}", "Vary": "Authorization"}


def not_modified_response(tag: str, max_age: int) -> Response:
    return Response(status_code=304, headers=cache_headers(tag, max_age))


class Answers:
    """The encoded answers of this process by ETag. An ETag names the request and the data
    version it was computed from, and the caller's access is checked before the lookup, so a
    stored answer is right for anyone allowed to ask: a dashboard polled by a team is computed
    once per new batch of metrics, not once per poll. Bounded (least recently used out), and
    fresh for the clients' ``max-age`` (``ttl``): what the version does not count (an account
    connected or renamed, a post newly tracked) shows within that time, as it does in a
    client's cache.

    One computation per ETag at a time: requests that miss while it runs wait for it rather
    than computing the same answer side by side (when new metrics land, every poller of a
    dashboard at that moment misses at once). An answer past ``ttl`` is computed again by the
    request that finds it so; the others are served the stored one meanwhile, which is still
    right for its data version (so no poller waits for a recomputation but the one making it).
    Should a computation fail or be cancelled, a waiter computes the answer itself."""

    def __init__(
        self, maxsize: int, ttl: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.cache: LRUCache[str, tuple[float, bytes]] = LRUCache(maxsize=maxsize)
        self.ttl = ttl
        self.clock = clock
        self.computing: dict[str, asyncio.Future[None]] = {}

    async def respond(
        self, request: Request, tag: str, max_age: int, compute: Callable[[], Awaitable[BaseModel]]
    ) -> Response:
        """304 for a current ``If-None-Match``; else the stored answer, or a computed one."""
        if not_modified(request, tag):
            return not_modified_response(tag, max_age)
        body = await self.body(tag, compute)
        return Response(body, media_type="application/json", headers=cache_headers(tag, max_age))

    async def body(self, tag: str, compute: Callable[[], Awaitable[BaseModel]]) -> bytes:
        """The encoded answer for ``tag``: stored, being computed (waited for), or computed."""
        while True:
            stored = self.cache.get(tag)
            running = self.computing.get(tag)
            if stored is not None:
                stored_at, body = stored
                if running is not None or self.clock() - stored_at < self.ttl:
                    return body
                return await self._compute(tag, compute)  # expired: this request renews it
            if running is None:
                return await self._compute(tag, compute)
            # Shielded: a waiter that is cancelled (its client left) leaves the computation be.
            await asyncio.shield(running)

    async def _compute(self, tag: str, compute: Callable[[], Awaitable[BaseModel]]) -> bytes:
        done = asyncio.get_running_loop().create_future()
        self.computing[tag] = done
        try:
            body = (await compute()).model_dump_json(by_alias=True).encode()
            self.cache[tag] = (self.clock(), body)
            return body
        finally:
            del self.computing[tag]
            done.set_result(None)  # waiters look again: the answer, or their turn to compute
