"""The request layer of every service: request ids, access metrics per route template, the
logging context, and trace context carried on with tracing off (and spans only with it on)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import APIRouter, FastAPI, Request
from opentelemetry import propagate
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client import REGISTRY
from starlette.middleware.base import BaseHTTPMiddleware

from socialseed.app import Runtime, create_service_app
from socialseed.logs import LogContextFilter
from socialseed.settings import ServiceSettings
from socialseed.testing import asgi_client

CALLER_SPAN = "1" * 16


async def _echo_headers(scope, receive, send) -> None:  # type: ignore[no-untyped-def]
    """A downstream service that answers with the headers it was sent."""
    body = repr(dict((k.decode(), v.decode()) for k, v in scope["headers"])).encode()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body})


async def _chunks(*chunks: bytes) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk


def _app(service: str, **settings: object) -> tuple[FastAPI, list[logging.LogRecord]]:
    """A service app whose endpoints report what they see: the request id, the trace context
    an event written now would carry, and what a downstream call is sent."""
    downstream = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=_echo_headers), base_url="http://down"
    )
    records: list[logging.LogRecord] = []
    router = APIRouter()

    @router.get("/items/{item_id}")
    async def item(item_id: int, request: Request) -> dict[str, object]:
        record = logging.makeLogRecord({"msg": "serving"})
        LogContextFilter().filter(record)
        records.append(record)
        carrier: dict[str, str] = {}
        propagate.inject(carrier)  # what the outbox stores with an event
        sent = (await downstream.get("/")).text
        return {"request_id": request.state.request_id, "carrier": carrier, "sent": sent}

    @router.get("/boom")
    async def boom() -> None:
        raise RuntimeError("a bug")

    @router.post("/upload")
    async def upload(request: Request) -> dict[str, int]:
        return {"size": len(await request.body())}

    runtime = Runtime(
        settings=ServiceSettings(service_name=service, max_body_bytes=100, **settings),  # type: ignore[arg-type]
        http_clients=[downstream],
        cleanups=[downstream.aclose],
    )
    return create_service_app(runtime, title=service, routers=[router]), records


def _count(service: str, route: str, status: str) -> float:
    labels = {"service": service, "method": "GET", "route": route, "status": status}
    return REGISTRY.get_sample_value("socialseed_http_requests_total", labels) or 0.0


def test_no_middleware_is_a_base_http_middleware() -> None:
    app, _ = _app("probe-stack")
    assert app.user_middleware
    assert not [m for m in app.user_middleware if issubclass(m.cls, BaseHTTPMiddleware)]  # type: ignore[arg-type]


async def test_request_ids_are_kept_when_well_formed_and_reach_state_logs_and_errors() -> None:
    app, records = _app("probe-ids")
    async with asgi_client(app) as client:
        r = await client.get("/items/1", headers={"X-Request-ID": "trace-me-123"})
        assert r.headers["x-request-id"] == "trace-me-123"
        assert r.json()["request_id"] == "trace-me-123"
        assert records[-1].request_id == "trace-me-123"  # type: ignore[attr-defined]
        for hostile in ("bad id; drop", "x" * 129, "ok\n"):
            r = await client.get("/items/1", headers={"X-Request-ID": hostile})
            assert r.headers["x-request-id"] != hostile
            assert r.json()["request_id"] == r.headers["x-request-id"]
        assert r.json()["sent"].count(r.headers["x-request-id"]) == 0  # not leaked downstream
        # Error answers get one too, the body limit's 413 included.
        r = await client.post("/upload", content=b"x" * 101)
        assert (r.status_code, r.json()["error"]) == (413, "PayloadTooLarge")
        assert len(r.headers["x-request-id"]) == 32
        r = await client.post("/upload", content=_chunks(b"x" * 60, b"x" * 60))  # no length
        assert (r.status_code, r.json()["error"]) == (413, "PayloadTooLarge")
        assert r.headers["x-request-id"]
        r = await client.get("/nothing/here")
        assert r.status_code == 404 and r.headers["x-request-id"]


async def test_an_unhandled_error_names_its_request_id_in_the_answer_and_the_log(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app, _ = _app("probe-500")
    # Starlette re-raises after answering 500; the client must see the answer, not the raise.
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        r = await client.get("/boom", headers={"X-Request-ID": "find-me-500"})
    assert (r.status_code, r.json()["error"]) == (500, "InternalError")
    assert r.headers["x-request-id"] == "find-me-500"
    assert any("find-me-500" in rec.getMessage() for rec in caplog.records)


async def test_access_metrics_are_counted_per_route_template() -> None:
    service = f"probe-{uuid.uuid4().hex[:6]}"
    app, _ = _app(service)
    async with asgi_client(app) as client:
        for item_id in (1, 2, 3):
            assert (await client.get(f"/items/{item_id}")).status_code == 200
        assert (await client.get("/items/not-a-number")).status_code == 422
        assert (await client.get("/no/such/route/42")).status_code == 404
    assert _count(service, "/items/{item_id}", "200") == 3
    assert _count(service, "/items/{item_id}", "422") == 1
    assert _count(service, "unmatched", "404") == 1
    assert _count(service, "/items/1", "200") == 0


async def test_with_tracing_off_the_callers_trace_reaches_events_and_downstream_calls() -> None:
    trace_id = uuid.uuid4().hex
    app, _ = _app("probe-notrace")
    exporter = InMemorySpanExporter()
    app.state.tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    async with asgi_client(app) as client:
        r = await client.get("/items/1", headers={"traceparent": f"00-{trace_id}-{CALLER_SPAN}-01"})
        carried = r.json()["carrier"]["traceparent"].split("-")
        assert carried[1] == trace_id and carried[2] != CALLER_SPAN  # ours, under the caller's
        assert "-".join(carried) in r.json()["sent"]
        r = await client.get("/items/1")  # no caller trace: none is made up
        assert r.json()["carrier"] == {} and "traceparent" not in r.json()["sent"]
    assert exporter.get_finished_spans() == ()  # nothing recorded


async def test_with_tracing_on_requests_are_spans_sampled_as_configured() -> None:
    trace_id = uuid.uuid4().hex
    app, _ = _app("probe-trace", tracing_enabled=True, trace_sample_ratio=0.0)
    exporter = InMemorySpanExporter()
    app.state.tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    async with asgi_client(app) as client:
        await client.get("/items/1")  # a new trace, ratio 0: not recorded
        assert exporter.get_finished_spans() == ()
        # The caller sampled it: recorded, whatever the ratio.
        r = await client.get("/items/1", headers={"traceparent": f"00-{trace_id}-{CALLER_SPAN}-01"})
        assert r.json()["carrier"]["traceparent"].split("-")[1] == trace_id
    spans = exporter.get_finished_spans()
    assert spans and {format(s.context.trace_id, "032x") for s in spans} == {trace_id}
    assert any(s.name == "GET /items/{item_id}" for s in spans)
