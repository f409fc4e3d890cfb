"""The per-client in-flight cap over real HTTP: a client that never has more than the limit in
flight is never refused, and one over it is (public routes: no tokens, no other service)."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI

from gateway.app import create_app
from gateway.settings import GatewaySettings
from socialseed.testing import serve

LIMIT = 4
UNLIMITED = "1000000000/minute"
LIGHT = "/.well-known/jwks.json"  # public, auth's
HELD = "/api/v1/oauth/x/callback"  # public, accounts': held until the gate opens


class Upstream:
    """Answers at once, except on the held path, which waits for ``gate``."""

    def __init__(self) -> None:
        self.gate = threading.Event()  # the upstream runs in a thread of its own
        self.app = FastAPI()

        @self.app.get("/.well-known/jwks.json")
        async def light() -> dict[str, list[str]]:
            return {"keys": []}

        @self.app.get("/api/v1/oauth/x/callback")
        async def held() -> dict[str, bool]:
            return {"opened": await asyncio.to_thread(self.gate.wait, 30)}


@pytest.fixture(scope="module")
def gateway() -> Iterator[tuple[str, Upstream]]:
    upstream = Upstream()
    with serve(upstream.app) as base:
        settings = GatewaySettings(
            upstreams={"auth": base, "accounts": base},
            max_in_flight_per_client=LIMIT,
            limit_per_ip=UNLIMITED,
            limit_per_user=UNLIMITED,
            limit_login_per_ip=UNLIMITED,
        )
        with serve(create_app(settings)) as url:
            yield url, upstream


def keep_alive_client(url: str, connections: int) -> httpx.AsyncClient:
    """At most ``connections`` connections, each kept open and reused."""
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    return httpx.AsyncClient(base_url=url, limits=limits, timeout=30)


async def test_a_client_at_the_limit_is_never_refused(gateway: tuple[str, Upstream]) -> None:
    """LIMIT keep-alive connections, each sending its next request as soon as the answer to the
    last one has arrived: never more than LIMIT in flight, so never a 429."""
    url, _ = gateway
    async with keep_alive_client(url, LIMIT) as client:

        async def one_connection() -> Counter[int]:
            statuses: Counter[int] = Counter()
            for _ in range(150):
                statuses[(await client.get(LIGHT)).status_code] += 1
            return statuses

        per_connection = await asyncio.gather(*(one_connection() for _ in range(LIMIT)))
    assert sum(per_connection, Counter()) == {200: 150 * LIMIT}


async def test_a_client_over_the_limit_is_refused_the_excess(
    gateway: tuple[str, Upstream],
) -> None:
    """LIMIT + 2 requests at once, none answered before the refused ones are: exactly the
    two over the limit get 429, the others are served once the upstream answers."""
    url, upstream = gateway
    upstream.gate.clear()
    async with keep_alive_client(url, LIMIT + 2) as client:
        requests = [asyncio.create_task(client.get(HELD)) for _ in range(LIMIT + 2)]
        refused: list[httpx.Response] = []
        for done in asyncio.as_completed(requests):
            refused.append(await done)
            if len(refused) == 2:
                break
        upstream.gate.set()
        answers = [await request for request in requests]
    assert [r.status_code for r in refused] == [429, 429]
    assert all(r.json()["error"] == "TooManyConcurrentRequests" for r in refused)
    assert Counter(r.status_code for r in answers) == {200: LIMIT, 429: 2}
