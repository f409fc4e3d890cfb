"""Body ceilings and the per-client in-flight cap, over real HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import httpx
import jwt
import pytest
from fastapi import FastAPI, Request

from gateway.app import create_app as create_gateway
from gateway.proxy import Gateway
from gateway.settings import GatewaySettings
from socialseed.testing import serve
from tests.conftest import RELAXED, Stack, make_user

KIB = 1024
JSON_LIMIT = 64 * KIB
MEDIA_LIMIT = 256 * KIB


def chunks(count: int, size: int) -> AsyncIterator[bytes]:
    """A body sent chunked (no Content-Length), ``count`` chunks of ``size`` bytes."""

    async def body() -> AsyncIterator[bytes]:
        for _ in range(count):
            yield b"x" * size

    return body()


async def held(gate: asyncio.Event, sent: asyncio.Event) -> AsyncIterator[bytes]:
    """An upload that stays open until ``gate`` is set; ``sent`` once its headers are out."""
    sent.set()
    yield b'{"name": '
    await gate.wait()
    yield b'"held"}'


def from_address(address: str, base_url: str) -> httpx.AsyncClient:
    """A client whose connections come from ``address`` (another loopback IP: another client)."""
    transport = httpx.AsyncHTTPTransport(local_address=address)
    return httpx.AsyncClient(base_url=base_url, transport=transport, timeout=20)


async def until_held(
    gateway: Gateway, key: str, uploads: list[asyncio.Task[httpx.Response]]
) -> None:
    """Wait until the gateway holds ``len(uploads)`` slots for ``key``: the held requests have
    reached it (on a loaded machine that can take a while after their first bytes left)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 30
    while gateway.in_flight.counts[key] < len(uploads):
        done = [task.result().status_code for task in uploads if task.done()]
        assert not done, f"held uploads answered early: {done}"
        assert loop.time() < deadline, f"slots held: {dict(gateway.in_flight.counts)}"
        await asyncio.sleep(0.02)


async def raw_post(url: str, target: str, content_length: int) -> tuple[int, bytes]:
    """Headers only: the declared body is never sent, so only an answer that does not wait
    for it can arrive."""
    host, port = url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    head = (
        f"POST {target} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {content_length}\r\n\r\n"
    )
    writer.write(head.encode())
    await writer.drain()
    data = await asyncio.wait_for(reader.read(), timeout=15)
    writer.close()
    head_bytes, _, body = data.partition(b"\r\n\r\n")
    return int(head_bytes.split(b" ", 2)[1]), body


class Echo:
    """An upstream that reads each body whole and says how long it was. ``arrived``: every
    request it saw begin; ``hits``: those whose body it received whole."""

    def __init__(self) -> None:
        self.arrived: list[str] = []
        self.hits: list[str] = []
        self.gateway: Gateway | None = None  # the gateway in front of it
        self.app = FastAPI()

        @self.app.api_route("/{path:path}", methods=["GET", "POST"])
        async def echo(request: Request, path: str) -> dict[str, int]:
            self.arrived.append(path)
            body = await request.body()
            self.hits.append(path)
            return {"bytes": len(body)}


@pytest.fixture
def echo_gateway(stack: Stack) -> Iterator[tuple[str, Echo]]:
    """The real auth service behind it, and the echo in the publisher's place."""
    echo = Echo()
    with serve(echo.app) as upstream:
        settings = GatewaySettings(
            upstreams={"auth": stack.auth_url, "publisher": upstream},
            max_body_bytes=JSON_LIMIT,
            max_media_body_bytes=MEDIA_LIMIT,
            max_in_flight_per_client=2,
            limit_per_ip=RELAXED,
            limit_per_user=RELAXED,
            limit_login_per_ip=RELAXED,
        )
        app = create_gateway(settings)
        echo.gateway = app.state.gateway
        with serve(app) as url:
            yield url, echo


def assert_too_large(response: httpx.Response) -> None:
    assert response.status_code == 413, response.text
    assert response.json()["error"] == "PayloadTooLarge"


async def test_gateway_counts_chunked_bodies_per_route_class(
    echo_gateway: tuple[str, Echo],
) -> None:
    url, echo = echo_gateway
    async with httpx.AsyncClient(base_url=url, timeout=20) as client:
        user = await make_user(client)
        client.headers["Authorization"] = f"Bearer {user.access}"
        # JSON API: 5 x 16 KiB goes over 64 KiB on the last chunk; no Content-Length at all.
        r = await client.post("/api/v1/posts", content=chunks(5, 16 * KIB))
        assert_too_large(r)
        assert "content-length" not in r.request.headers
        # Media: the same body is fine, a body over its own ceiling is not.
        r = await client.post("/api/v1/media/upload", content=chunks(5, 16 * KIB))
        assert r.status_code == 200, r.text
        assert r.json() == {"bytes": 80 * KIB}
        r = await client.post("/api/v1/media/upload", content=chunks(17, 16 * KIB))
        assert_too_large(r)
        # Just at the JSON ceiling passes whole.
        r = await client.post("/api/v1/posts", content=chunks(4, 16 * KIB))
        assert r.json() == {"bytes": 64 * KIB}
    # An oversize stream is cut off: the upstream never gets it whole.
    assert echo.hits == ["api/v1/media/upload", "api/v1/posts"]


async def test_gateway_refuses_a_declared_oversize_body_before_any_upstream(
    echo_gateway: tuple[str, Echo],
) -> None:
    url, echo = echo_gateway
    for target, length in [
        ("/api/v1/posts", JSON_LIMIT + 1),  # over the JSON class, under the media one
        ("/api/v1/media/upload", MEDIA_LIMIT + 1),
        ("/api/v1/posts", 10**12),
    ]:
        status, body = await raw_post(url, target, length)
        assert status == 413, (target, length, body)
        assert b'"error":"PayloadTooLarge"' in body
    assert echo.arrived == []


async def test_a_service_refuses_oversize_bodies_itself(stack: Stack) -> None:
    async with httpx.AsyncClient(base_url=stack.auth_url, timeout=20) as client:
        # 17 x 64 KiB: over the default 1 MiB on the last chunk, sent chunked.
        r = await client.post("/api/v1/auth/login", content=chunks(17, 64 * KIB))
        assert_too_large(r)
        assert "content-length" not in r.request.headers
    status, body = await raw_post(stack.auth_url, "/api/v1/auth/login", 2 * 1024 * KIB)
    assert status == 413
    assert b'"error":"PayloadTooLarge"' in body


async def test_in_flight_cap_per_ip(echo_gateway: tuple[str, Echo]) -> None:
    url, echo = echo_gateway
    assert echo.gateway is not None
    gate = asyncio.Event()
    sent = [asyncio.Event(), asyncio.Event()]
    async with (
        from_address("127.0.0.1", url) as uploader,
        from_address("127.0.0.1", url) as a,
        from_address("127.0.0.2", url) as b,
    ):
        # Two users, one upload each: only the IP's slots fill up.
        tokens = [(await make_user(a, name=n)).access for n in ("One", "Two")]
        uploads = [
            asyncio.create_task(
                uploader.post(
                    "/api/v1/posts",
                    content=held(gate, event),
                    headers={"Authorization": f"Bearer {token}"},
                )
            )
            for token, event in zip(tokens, sent, strict=True)
        ]
        for event in sent:
            await event.wait()
        await until_held(echo.gateway, "ip:127.0.0.1", uploads)
        refused = await a.get("/.well-known/jwks.json")
        assert refused.status_code == 429, refused.text
        assert refused.json()["error"] == "TooManyConcurrentRequests"
        # Another client is served meanwhile.
        assert (await b.get("/.well-known/jwks.json")).status_code == 200
        assert not any(upload.done() for upload in uploads)
        gate.set()
        for response in await asyncio.gather(*uploads):
            assert response.status_code == 200
        # Their slots are back: given back as their answers were sent.
        assert (await a.get("/.well-known/jwks.json")).status_code == 200
        # Refused and failed requests give theirs back too.
        for _ in range(3):
            too_large = await a.post(
                "/api/v1/posts",
                content=chunks(5, 16 * KIB),
                headers={"Authorization": f"Bearer {tokens[0]}"},
            )
            assert_too_large(too_large)
        assert (await a.get("/.well-known/jwks.json")).status_code == 200


async def test_in_flight_cap_per_user(stack: Stack) -> None:
    settings = GatewaySettings(
        upstreams={"auth": stack.auth_url},
        max_in_flight_per_client=2,
        limit_per_ip=RELAXED,
        limit_per_user=RELAXED,
        limit_login_per_ip=RELAXED,
    )
    gate = asyncio.Event()
    sent = [asyncio.Event(), asyncio.Event()]
    app = create_gateway(settings)
    with serve(app) as url:
        async with from_address("127.0.0.1", url) as a, from_address("127.0.0.2", url) as b:
            user, other = await make_user(a, name="Held"), await make_user(a, name="Free")
            mine = {"Authorization": f"Bearer {user.access}"}
            theirs = {"Authorization": f"Bearer {other.access}"}
            uploads = [
                asyncio.create_task(
                    a.post("/api/v1/workspaces", content=held(gate, event), headers=mine)
                )
                for event in sent
            ]
            for event in sent:
                await event.wait()
            await until_held(app.state.gateway, f"user:{user.id}", uploads)
            # From another IP, the same user is refused: the user's own slots are taken.
            refused = await b.get("/api/v1/auth/me", headers=mine)
            assert refused.status_code == 429, refused.text
            assert refused.json()["error"] == "TooManyConcurrentRequests"
            assert (await b.get("/api/v1/auth/me", headers=theirs)).status_code == 200
            gate.set()
            for response in await asyncio.gather(*uploads):
                assert response.status_code != 429, response.text
            assert (await b.get("/api/v1/auth/me", headers=mine)).status_code == 200


async def test_a_busy_client_costs_one_signature_check_per_token(
    echo_gateway: tuple[str, Echo], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, echo = echo_gateway
    async with httpx.AsyncClient(base_url=url) as client:
        user = await make_user(client, name="Busy")
        # A token the gateway has not seen yet (make_user's went through it already).
        login = {"email": user.email, "password": user.password}
        token = (await client.post("/api/v1/auth/login", json=login)).json()["access_token"]
        checked: list[str] = []
        real = jwt.decode

        def decode(token: str, *args: object, **kwargs: object) -> object:
            checked.append(token)
            return real(token, *args, **kwargs)

        monkeypatch.setattr(jwt, "decode", decode)
        headers = {"Authorization": f"Bearer {token}"}
        for _ in range(5):
            assert (await client.get("/api/v1/posts", headers=headers)).status_code == 200
    # The echo (not a service) answered: only the gateway checked the token, once.
    assert echo.hits.count("api/v1/posts") == 5
    assert sum(seen == token for seen in checked) == 1  # (no token in a failure message)
