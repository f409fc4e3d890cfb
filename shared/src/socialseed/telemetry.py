"""Prometheus metrics (one module of named constants) and OpenTelemetry tracing setup."""

from __future__ import annotations

import os
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
from fastapi import APIRouter, FastAPI, Request, Response
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
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

from socialseed.workers import MULTIPROC_DIR, forget_dead_workers

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

metrics_router = APIRouter()


@metrics_router.get("/metrics", include_in_schema=False)
async def metrics() -> Response:
    return Response(generate_latest(_exposed_registry()), media_type=CONTENT_TYPE_LATEST)


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


def install_http_metrics(app: FastAPI, service: str) -> None:
    @app.middleware("http")
    async def _measure(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        start = time.perf_counter()
        status = 500
        try:
            response = await call_next(request)
            status = response.status_code
            return response
        finally:
            route = request.scope.get("route")
            # The route template, never the raw path: ids would explode the label set.
            path = getattr(route, "path", "unmatched")
            HTTP_REQUESTS.labels(service, request.method, path, str(status)).inc()
            HTTP_LATENCY.labels(service, request.method, path).observe(time.perf_counter() - start)


def tracer_provider(service: str, otlp_endpoint: str | None) -> TracerProvider:
    """A tracer provider for one service (an object the app owns, not a process global); spans
    are exported over OTLP/HTTP when an endpoint is set."""
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    if otlp_endpoint:
        provider.add_span_processor(
            BatchSpanProcessor(OTLPSpanExporter(endpoint=f"{otlp_endpoint}/v1/traces"))
        )
    return provider


def instrument_client(client: httpx.AsyncClient, provider: TracerProvider) -> None:
    """Outgoing calls of this client (gateway -> services, services -> platforms) carry
    traceparent; other httpx clients in the process are left alone."""
    HTTPXClientInstrumentor.instrument_client(client, tracer_provider=provider)
