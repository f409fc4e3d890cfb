"""Path tricks, forwarded-for spoofing and the header rules, sent as raw bytes to the gateway
over real HTTP."""

from __future__ import annotations

import asyncio
import json
import uuid

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from gateway.app import create_app as create_gateway
from gateway.settings import GatewaySettings
from socialseed.testing import serve
from tests.conftest import Stack

ACCOUNT = uuid.uuid4()
TRICKS = [
    f"/api/v1/oauth/../../../internal/accounts/{ACCOUNT}/access-token",
    f"/api/v1/oauth/x/../../../internal/accounts/{ACCOUNT}/access-token",
    f"/api/v1/oauth/%2e%2e/%2e%2e/%2e%2e/internal/accounts/{ACCOUNT}/access-token",
    f"/api/v1/oauth/%2E%2e/%2e%2E/%2e%2e/internal/accounts/{ACCOUNT}/access-token",
    f"/api/v1/oauth/..%2f..%2f..%2finternal/accounts/{ACCOUNT}/access-token",
    f"/api/v1/oauth/..%5c..%5c..%5cinternal/accounts/{ACCOUNT}/access-token",
    f"/api/v1/oauth/..\\..\\..\\internal/accounts/{ACCOUNT}/access-token",
    f"/api/v1/oauth/.//..//..//../internal/accounts/{ACCOUNT}/access-token",
    f"/api/v1/oauth/..;/..;/..;/internal/accounts/{ACCOUNT}/access-token",
    "/.well-known/jwks.json/../../metrics",
    "/.well-known/jwks.json/../../openapi.json",
    "/.well-known/jwks.json/../../docs",
    "/.well-known/jwks.json/../../healthz",
    "/api/v1/auth/./../../metrics",
    "/api/v1/auth/login%00",
]


async def raw_request(url: str, method: str, target: str, headers: dict[str, str]) -> bytes:
    """Send the request line exactly as written: no client library normalises it."""
    host, port = url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    lines = [f"{method} {target} HTTP/1.1", f"Host: {host}", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    body = b"{}" if method == "POST" else b""
    lines.append(f"Content-Length: {len(body)}")
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
    await writer.drain()
    data = await reader.read()
    writer.close()
    return data


def status_and_body(data: bytes) -> tuple[int, bytes]:
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


async def test_dot_segments_never_reach_an_upstream(stack: Stack) -> None:
    for target in TRICKS:
        for method in ("GET", "POST"):
            status, body = status_and_body(
                await raw_request(stack.gateway_url, method, target, {"X-Service-Token": "x"})
            )
            assert status in (400, 404), (target, method, status, body)
            error = json.loads(body)["error"]
            assert error in ("AmbiguousPath", "NotFound"), (target, error)
            if ".." in target or "%2e" in target.lower():
                assert error == "AmbiguousPath", target


async def through_gateway(headers: dict[str, str]) -> tuple[bytes, dict[str, str], str]:
    """A GET sent raw through a gateway to an upstream that answers with repeated and
    hop-by-hop headers of its own: the raw answer, the headers the upstream got, its URL."""
    seen: list[dict[str, str]] = []
    echo = FastAPI()

    @echo.get("/.well-known/jwks.json")
    async def jwks(request: Request) -> JSONResponse:
        seen.append(dict(request.headers))
        response = JSONResponse(
            {"keys": []}, headers={"Keep-Alive": "timeout=99", "X-Request-ID": "upstream's"}
        )
        response.set_cookie("a", "1")
        response.set_cookie("b", "2")
        return response

    with (
        serve(echo) as upstream,
        serve(create_gateway(GatewaySettings(upstreams={"auth": upstream}))) as url,
    ):
        data = await raw_request(url, "GET", "/.well-known/jwks.json", headers)
    (upstream_got,) = seen
    return data, upstream_got, upstream


async def test_client_sent_forwarded_headers_are_replaced() -> None:
    spoof = {
        "X-Forwarded-For": "203.0.113.9",
        "Forwarded": "for=203.0.113.9",
        "X-Real-IP": "203.0.113.9",
    }
    data, headers, _ = await through_gateway(spoof)
    assert status_and_body(data)[0] == 200
    assert headers["x-forwarded-for"] == "127.0.0.1"
    assert "forwarded" not in headers and "x-real-ip" not in headers


async def test_header_rules_both_ways() -> None:
    """Authorization passes; hop-by-hop headers stop at the gateway both ways; the upstream's
    Host is its own; the request id is the client's (well-formed) and the traceparent a child
    of the gateway's span in the client's trace; repeated response headers survive."""
    trace_id, client_span = uuid.uuid4().hex, "1" * 16
    sent = {
        "Authorization": "Bearer opaque-to-the-gateway",
        "TE": "trailers",
        "Keep-Alive": "300",
        "Proxy-Authorization": "Basic eDp4",
        "X-Request-ID": "client-id-1",
        "traceparent": f"00-{trace_id}-{client_span}-01",
    }
    data, headers, upstream = await through_gateway(sent)
    head, _, _ = data.partition(b"\r\n\r\n")
    back = [line.split(b": ", 1) for line in head.split(b"\r\n")[1:]]
    assert [v for k, v in back if k.lower() == b"set-cookie"] == [
        b"a=1; Path=/; SameSite=lax",
        b"b=2; Path=/; SameSite=lax",
    ]
    assert [v for k, v in back if k.lower() == b"x-request-id"] == [b"client-id-1"]
    assert not [v for k, v in back if k.lower() == b"keep-alive"]
    # One Date and one Server: the gateway's own, not the upstream's as well.
    assert len([v for k, v in back if k.lower() == b"date"]) == 1
    assert len([v for k, v in back if k.lower() == b"server"]) == 1
    assert headers["authorization"] == "Bearer opaque-to-the-gateway"
    assert headers["host"] == upstream.removeprefix("http://")
    assert not {"te", "keep-alive", "proxy-authorization"} & headers.keys()
    assert headers["x-request-id"] == "client-id-1"
    _, upstream_trace, parent, _ = headers["traceparent"].split("-")
    assert upstream_trace == trace_id and parent != client_span
