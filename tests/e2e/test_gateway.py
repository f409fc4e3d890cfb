"""Gateway behaviour of its own: rate limits, CORS, request ids, streaming, upstream down."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request
import uuid

import httpx

from gateway.app import create_app as create_gateway
from gateway.settings import GatewaySettings
from socialseed.testing import Infra, free_port, serve
from tests.bus.conftest import read_topic
from tests.conftest import Stack, make_user


async def test_login_and_user_rate_limits(stack: Stack) -> None:
    settings = GatewaySettings(
        upstreams={"auth": stack.auth_url},
        limit_login_per_ip="3/minute",
        limit_per_user="5/minute",
        limit_per_ip="1000/minute",
    )
    with serve(create_gateway(settings)) as url:
        async with httpx.AsyncClient(base_url=url) as gw:
            async with httpx.AsyncClient(base_url=stack.gateway_url) as relaxed:
                user = await make_user(relaxed)
            body = {"email": user.email, "password": "wrong password here"}
            codes = [(await gw.post("/api/v1/auth/login", json=body)).status_code for _ in range(5)]
            assert codes == [401, 401, 401, 429, 429]
            r = await gw.post("/api/v1/auth/login", json=body)
            assert r.json()["error"] == "RateLimited" and int(r.headers["retry-after"]) >= 1
            codes = [
                (await gw.get("/api/v1/auth/me", headers=user.headers)).status_code
                for _ in range(7)
            ]
            assert codes == [200] * 5 + [429] * 2


async def test_cors_request_id_and_upstream_down(stack: Stack) -> None:
    async with httpx.AsyncClient(base_url=stack.gateway_url) as gw:
        pre = await gw.options(
            "/api/v1/auth/login",
            headers={
                "Origin": "http://localhost:3000",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type",
            },
        )
        assert pre.status_code == 200
        assert pre.headers["access-control-allow-origin"] == "http://localhost:3000"
        evil = await gw.options(
            "/api/v1/auth/login",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
        )
        assert "access-control-allow-origin" not in evil.headers
        r = await gw.get("/.well-known/jwks.json", headers={"X-Request-ID": "trace-me-123"})
        assert r.headers["x-request-id"] == "trace-me-123" and r.json()["keys"]
        r = await gw.get("/.well-known/jwks.json", headers={"X-Request-ID": "bad id; drop"})
        assert r.headers["x-request-id"] != "bad id; drop"
    dead = GatewaySettings(upstreams={"auth": f"http://127.0.0.1:{free_port()}"}, dev_mode=True)
    with serve(create_gateway(dead)) as url:
        async with httpx.AsyncClient(base_url=url) as gw:
            r = await gw.post("/api/v1/auth/login", json={"email": "a@b.c", "password": "x"})
            assert (r.status_code, r.json()["error"]) == (503, "ServiceUnavailable")
            health = await gw.get("/healthz")
            assert health.status_code == 503 and health.json()["checks"]["auth"].startswith(
                "failing"
            )


async def test_trace_context_flows_from_the_client_into_kafka_headers(
    stack: Stack, infra: Infra
) -> None:
    trace_id = uuid.uuid4().hex
    # urllib, not httpx: our httpx instrumentation would replace the caller's traceparent.
    request = urllib.request.Request(
        f"{stack.gateway_url}/api/v1/auth/register",
        data=json.dumps(
            {
                "email": f"trace-{trace_id[:8]}@example.com",
                "password": "a long enough passphrase",
                "name": "Trace",
            }
        ).encode(),
        headers={
            "content-type": "application/json",
            "traceparent": f"00-{trace_id}-{'1' * 16}-01",
        },
    )
    with await asyncio.to_thread(urllib.request.urlopen, request) as response:
        assert response.status == 201
        user_id = json.loads(response.read())["id"]
    # The message as published on Kafka (not the outbox row): poll the topic until it is there.
    deadline = time.monotonic() + 60
    published: dict[str, bytes] | None = None
    while published is None and time.monotonic() < deadline:
        for record in await read_topic(infra.kafka_bootstrap, "user.registered"):
            if record.key == str(user_id).encode():  # user.registered is keyed by user id
                published = dict(record.headers)
    assert published is not None, "user.registered never published"
    traceparent = published["traceparent"].decode()
    assert traceparent.split("-")[1] == trace_id
    assert traceparent.split("-")[2] != "1" * 16  # a span of ours, under the caller's
