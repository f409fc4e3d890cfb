"""Prometheus metrics (one module of named constants) and the
request layer that gives every request its id, access metrics and logging context."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from contextvars import Token
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request, Response
from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.trace import Tracer
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from socialseed.errors import Unauthorized
from socialseed.logs import REQUEST_ID
from socialseed.metrics import Facts
from socialseed.workers import MULTIPROC_DIR, forget_dead_workers

_REQUEST_ID = re.compile(rb"[A-Za-z0-9._-]{1,128}")

HTTP_REQUESTS = Counter(
    "socialseed_http_requests_total",
    "HTTP requests served",
    ["service", "method", "route", "status"],
)
HTTP_LATENCY = Histogram(
    "socialseed_http_request_duration_seconds",
    "HTTP request latency",
    ["service", "method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
OUTBOX_RELAYED = Counter(
    "socialseed_outbox_relayed_total", "Outbox rows published to Kafka", ["topic"]
)
OUTBOX_PARKED = Counter(
    "socialseed_outbox_parked_total",
    "Outbox rows the broker kept refusing, parked (not retried) so other keys keep flowing",
    ["topic"],
)
EVENTS_CONSUMED = Counter(
    "socialseed_events_consumed_total",
    "Events handled by consumers, by outcome (processed, duplicate, dead_lettered)",
    ["consumer", "topic", "outcome"],
)
EVENT_HANDLER_RETRIES = Counter(
    "socialseed_event_handler_retries_total",
    "Handler attempts that failed and were retried",
    ["consumer", "topic"],
)
CONSUMER_INFRA_RETRIES = Counter(
    "socialseed_consumer_infra_retries_total",
    "Handler attempts that failed on the database or broker and are retried without limit",
    ["consumer", "topic", "reason"],
)
CONSUMER_PAUSED = Gauge(
    "socialseed_consumer_paused",
    "1 while a consumer's partition waits for its database or broker to come back",
    ["consumer", "topic"],
    # With several workers: 1 while any live worker's partition of the topic waits.
    multiprocess_mode="livemax",
)
RATE_LIMITED = Counter(
    "socialseed_rate_limited_total", "Requests refused by a rate limit", ["service", "limit"]
)


def metrics_router(operator: Callable[[Request], bool], facts: Facts | None = None) -> APIRouter:
    """``/metrics`` for whoever ``operator`` lets in (see ``ServiceSettings.metrics_token``):
    the process's (or every worker's) metrics, then the service's ``facts`` of the database
    (``socialseed.metrics.Facts``)."""
    router = APIRouter()

    @router.get("/metrics", include_in_schema=False)
    async def metrics(request: Request) -> Response:
        if not operator(request):
            raise Unauthorized(
                "Metrics are for operators: send the service's metrics token as a bearer token.",
                headers={"WWW-Authenticate": "Bearer"},
            )
        body = generate_latest(_exposed_registry())
        if facts is not None:
            body += await facts.exposition()
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    return router


def _exposed_registry() -> CollectorRegistry:
    """The process's registry; with several workers (``socialseed.workers``) one that merges
    what every worker wrote, so ``/metrics`` answers for the whole service whichever worker
    serves it."""
    directory = os.environ.get(MULTIPROC_DIR)
    if not directory:
        return REGISTRY
    forget_dead_workers(Path(directory))
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return registry


class RequestContext:
    """The one layer every request passes (pure ASGI: no task, no stream per request).

    Gives the request its id (a well-formed incoming ``X-Request-ID`` or a new one) in
    ``request.state.request_id``, the logging context and the response header; counts it in
    the access metrics under its route template (never the raw path: ids would explode the
    label set; ``unmatched`` when no route matched); and, when tracing is off, still carries
    an incoming ``traceparent`` on: a non-recording span of ours under the caller's trace is
    the current span, so events written and calls made while serving keep the caller's trace
    id. With tracing on, the OpenTelemetry instrumentation does that instead."""

    def __init__(self, app: ASGIApp, *, service: str, tracer: Tracer | None) -> None:
        self.app = app
        self.service = service
        self.tracer = tracer  # None: tracing is on and instrumented elsewhere
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id, traceparent = _request_headers(scope)
        scope.setdefault("state", {})["request_id"] = request_id
        header = (b"x-request-id", request_id.encode())
        status = 500  # what the client gets if the app raises before answering

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        log_token = REQUEST_ID.set(request_id)
        trace_token = self._continue_trace(traceparent)
        start = time.perf_counter()
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            self._observe(scope, status, time.perf_counter() - start)
            if trace_token is not None:
                otel_context.detach(trace_token)
            REQUEST_ID.reset(log_token)

    def _continue_trace(self, traceparent: str | None) -> Token[Context] | None:
        if self.tracer is None or traceparent is None:
            return None
        parent = propagate.extract({"traceparent": traceparent})
        span = self.tracer.start_span("request", context=parent)
        return otel_context.attach(trace.set_span_in_context(span, parent))

    def _observe(self, scope: Scope, status: int, seconds: float) -> None:
        route = getattr(scope.get("route"), "path", "unmatched")
        key = (scope["method"], route, status)
        children = self._children.get(key)
        if children is None:  # once per (method, route, status): labels() takes a lock
            children = (
                HTTP_REQUESTS.labels(self.service, key[0], route, str(status)),
                HTTP_LATENCY.labels(self.service, key[0], route),
            )
            self._children[key] = children
        children[0].inc()
        children[1].observe(seconds)


def _request_headers(scope: Scope) -> tuple[str, str | None]:
    """The request id (the incoming one when well-formed, else a new one) and the incoming
    ``traceparent``, in one pass over the headers."""
    request_id: str | None = None
    traceparent: str | None = None
    for name, value in scope["headers"]:
        if name == b"x-request-id" and _REQUEST_ID.fullmatch(value):
            request_id = value.decode()
        elif name == b"traceparent":
            traceparent = value.decode("latin-1")
    return request_id or os.urandom(16).hex(), traceparent
