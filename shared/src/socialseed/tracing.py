"""OpenTelemetry tracing of one service: its tracer provider and exporter (from the service's
settings or the standard ``OTEL_*`` environment variables), the database spans of its engine,
and the messaging spans of the outbox relay and the event consumers (semantic conventions:
``messaging.system=kafka``, ``messaging.destination.name``, ``messaging.operation``
publish/process, span kinds PRODUCER/CONSUMER).

Tracing is off unless an OTLP endpoint is configured (or ``tracing_enabled`` asks for spans
without one): then no span is recorded, nothing is exported and none of these spans is even
started; an incoming ``traceparent`` is still carried on to events and outgoing calls.

The provider is the service's own object, never installed as the process-global one: several
services may share a process (the test stack), each naming itself in its spans.
"""

from __future__ import annotations

import asyncio
import os
import weakref
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import httpx
from opentelemetry import context as otel_context
from opentelemetry import metrics, propagate, trace
from opentelemetry.context import Context
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ParentBased, Sampler, TraceIdRatioBased
from opentelemetry.trace import INVALID_SPAN, Link, Span, SpanKind, Status, StatusCode, Tracer
from sqlalchemy.ext.asyncio import AsyncEngine

from socialseed.settings import ServiceSettings

# The standard variables, read when the provider is built (never at import).
ENDPOINT_VARS = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")
MESSAGING_SYSTEM = "kafka"
# Links of one batch's consumer span (the SDK keeps 128 by default).
MAX_LINKS = 128


def _env(name: str) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or None


def _sdk_disabled() -> bool:
    return (_env("OTEL_SDK_DISABLED") or "").lower() == "true" or (
        _env("OTEL_TRACES_EXPORTER") or ""
    ).lower() == "none"


def otlp_endpoint(settings: ServiceSettings) -> str | None:
    """Where spans go: the service's own setting (``<PREFIX>_OTEL_EXPORTER_OTLP_ENDPOINT``)
    first, else ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` / ``OTEL_EXPORTER_OTLP_ENDPOINT``."""
    if _sdk_disabled():
        return None
    if settings.otel_exporter_otlp_endpoint:
        return settings.otel_exporter_otlp_endpoint
    return next((v for v in map(_env, ENDPOINT_VARS) if v), None)


def tracing_enabled(settings: ServiceSettings) -> bool:
    if _sdk_disabled():
        return False
    return settings.tracing_enabled or otlp_endpoint(settings) is not None


def _sampler(settings: ServiceSettings) -> Sampler | None:
    """``OTEL_TRACES_SAMPLER`` (and ``_ARG``) when set (None: the SDK reads them), else the
    service's ``trace_sample_ratio`` of new traces, following the caller's decision."""
    if _env("OTEL_TRACES_SAMPLER"):
        return None
    return ParentBased(TraceIdRatioBased(settings.trace_sample_ratio))


def tracer_provider(settings: ServiceSettings) -> TracerProvider:
    """A tracer provider for one service (an object the app owns, not a process global). With
    tracing off it records nothing: its spans only carry trace ids on. ``OTEL_SERVICE_NAME``
    renames the service, ``OTEL_RESOURCE_ATTRIBUTES`` adds attributes, and the exporter reads
    ``OTEL_EXPORTER_OTLP_HEADERS``, ``_TIMEOUT`` and ``_COMPRESSION`` as usual."""
    resource = Resource.create({"service.name": _env("OTEL_SERVICE_NAME") or settings.service_name})
    if not tracing_enabled(settings):
        return TracerProvider(resource=resource, sampler=ALWAYS_OFF)
    # The stable HTTP and database conventions (``http.request.method``, ``server.port``,
    # ``db.system.name``...), unless the operator chose: read once, by the first instrumentation.
    os.environ.setdefault("OTEL_SEMCONV_STABILITY_OPT_IN", "http,database")
    provider = TracerProvider(resource=resource, sampler=_sampler(settings))
    if settings.otel_exporter_otlp_endpoint:
        base = settings.otel_exporter_otlp_endpoint.rstrip("/")
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(f"{base}/v1/traces")))
    elif otlp_endpoint(settings):
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))  # from the env
    return provider


async def shutdown(provider: TracerProvider) -> None:
    """Export what is still buffered (off the event loop: the exporter blocks)."""
    await asyncio.to_thread(provider.shutdown)


def instrument_client(
    client: httpx.AsyncClient, provider: TracerProvider, *, tracing: bool
) -> None:
    """Outgoing calls of this client (gateway -> services, services -> platforms) carry
    traceparent; other httpx clients in the process are left alone. With tracing off no client
    span is made: the current trace context is injected as is."""
    if tracing:
        HTTPXClientInstrumentor.instrument_client(client, tracer_provider=provider)
    else:
        client.event_hooks["request"] = [*client.event_hooks["request"], _inject_trace_context]


async def _inject_trace_context(request: httpx.Request) -> None:
    propagate.inject(request.headers)


# database -------------------------------------------------------------------------------------


class _ChildSpansOnly(Tracer):
    """A tracer whose spans exist only under a current span: a database statement is part of
    some trace (a request, a message, a job's turn) or of none, never a trace of its own (the
    relay's and the jobs' polling would otherwise be thousands of one-span traces)."""

    def __init__(self, tracer: Tracer) -> None:
        self._tracer = tracer

    def start_span(self, name: str, context: Context | None = None, *a: Any, **kw: Any) -> Span:
        if not trace.get_current_span(context).get_span_context().is_valid:
            return INVALID_SPAN
        return self._tracer.start_span(name, context, *a, **kw)

    @contextmanager
    def start_as_current_span(  # type: ignore[override]
        self, name: str, context: Context | None = None, *a: Any, **kw: Any
    ) -> Iterator[Span]:
        span = self.start_span(name, context, *a, **kw)
        with trace.use_span(span, end_on_exit=True) as current:
            yield current


def instrument_engine(engine: AsyncEngine, provider: TracerProvider) -> None:
    """Database client spans (``db.system``, the statement, the server) for this engine only,
    by the OpenTelemetry SQLAlchemy instrumentation's per-engine tracer (no global patching)."""
    usage = (
        metrics.NoOpMeterProvider()
        .get_meter("socialseed")
        .create_up_down_counter("db.client.connections.usage")
    )
    tracer = _ChildSpansOnly(provider.get_tracer("opentelemetry.instrumentation.sqlalchemy"))
    EngineTracer(tracer, engine.sync_engine, usage)


# messaging ------------------------------------------------------------------------------------

# The tracer of each traced broker (``make_broker``), for the consumers built on it.
_broker_tracers: weakref.WeakKeyDictionary[object, Tracer] = weakref.WeakKeyDictionary()


def register_broker(broker: object, provider: TracerProvider) -> None:
    _broker_tracers[broker] = provider.get_tracer("socialseed.bus")


def broker_tracer(broker: object) -> Tracer | None:
    """The tracer of a broker made with tracing on; None with tracing off."""
    return _broker_tracers.get(broker)


def relay_tracer(provider: TracerProvider) -> Tracer:
    return provider.get_tracer("socialseed.outbox")


def _messaging(topic: str, operation: str) -> dict[str, Any]:
    return {
        "messaging.system": MESSAGING_SYSTEM,
        "messaging.destination.name": topic,
        "messaging.operation": operation,  # the older name, still read by many backends
        "messaging.operation.type": operation,
        "messaging.operation.name": operation,
    }


def start_publish(
    tracer: Tracer, topic: str, headers: Mapping[str, str], *, message_id: str, key: str | None
) -> tuple[Span, dict[str, str]]:
    """A PRODUCER span ``publish <topic>`` under the trace in ``headers`` (for an outbox row:
    the transaction that wrote it), and the headers to send, carrying this span on. End the
    span when the broker answers (``end_span``)."""
    attributes = _messaging(topic, "publish") | {"messaging.message.id": message_id}
    if key is not None:
        attributes["messaging.kafka.message.key"] = key
    span = tracer.start_span(
        f"publish {topic}",
        context=propagate.extract(headers),
        kind=SpanKind.PRODUCER,
        attributes=attributes,
    )
    if not span.is_recording():
        return span, dict(headers)
    carrier = dict(headers)
    propagate.inject(carrier, context=trace.set_span_in_context(span))
    return span, carrier


def end_span(span: Span, error: BaseException | None, *, partition: int | None = None) -> None:
    """End a span, marked failed when ``error`` is given."""
    if error is not None:
        span.record_exception(error)
        span.set_status(Status(StatusCode.ERROR, type(error).__name__))
        span.set_attribute("error.type", type(error).__name__)
    elif partition is not None:
        span.set_attribute("messaging.destination.partition.id", str(partition))
    span.end()


def _headers(record: Any) -> dict[str, str]:
    return {k: v.decode() for k, v in record.headers if k in ("traceparent", "tracestate")}


@contextmanager
def processing(
    tracer: Tracer | None,
    topic: str,
    group: str,
    records: Sequence[Any],
    message_ids: Sequence[str],
) -> Iterator[None]:
    """A CONSUMER span ``process <topic>`` current while ``records`` (one partition's, applied
    in one transaction) are handled. One record: a child of the trace that published it. A
    batch: linked to every record's trace, and a child of the first sampled one's, so a
    sampled trace goes on through its consumer. Nothing with tracing off (``tracer`` None)."""
    if tracer is None or not records:
        yield
        return
    contexts = [propagate.extract(_headers(r)) for r in records]
    spans = [trace.get_current_span(c).get_span_context() for c in contexts]
    parent = next(
        (c for c, s in zip(contexts, spans, strict=True) if s.is_valid and s.trace_flags.sampled),
        contexts[0],
    )
    first = records[0]
    attributes = _messaging(topic, "process") | {
        "messaging.consumer.group.name": group,
        "messaging.destination.partition.id": str(first.partition),
    }
    links: list[Link] = []
    if len(records) == 1:
        attributes["messaging.message.id"] = message_ids[0] if message_ids else ""
        attributes["messaging.kafka.offset"] = first.offset
        if first.key is not None:
            attributes["messaging.kafka.message.key"] = first.key.decode(errors="replace")
    else:
        attributes["messaging.batch.message_count"] = len(records)
        links = [Link(s) for s in spans[:MAX_LINKS] if s.is_valid]
    span = tracer.start_span(
        f"process {topic}", context=parent, kind=SpanKind.CONSUMER, attributes=attributes,
        links=links,
    )  # fmt: skip
    token = otel_context.attach(trace.set_span_in_context(span, parent))
    try:
        yield
    except BaseException as exc:
        end_span(span, exc)
        raise
    else:
        span.end()
    finally:
        otel_context.detach(token)


@contextmanager
def job(
    tracer: Tracer | None, name: str, *, traceparents: Sequence[str] = (), **attributes: Any
) -> Iterator[None]:
    """An INTERNAL span ``name`` for one unit of a background job's work (a fetch turn that
    found work), under which its calls, writes and events go. ``traceparents``: the stored
    traces of the requests that asked for this work (a sync's refresh). Of one, the span
    continues that trace; of several, it is the root of its own, linked to each; of none, the
    root of its own. With tracing off, one stored trace is still carried on to the events."""
    parents = [propagate.extract({"traceparent": t}) for t in dict.fromkeys(traceparents)]
    parent = parents[0] if len(parents) == 1 else None
    if tracer is None:
        if parent is None:
            yield
            return
        token = otel_context.attach(parent)
        try:
            yield
        finally:
            otel_context.detach(token)
        return
    links = (
        [Link(trace.get_current_span(p).get_span_context()) for p in parents[:MAX_LINKS]]
        if len(parents) > 1
        else None
    )
    with tracer.start_as_current_span(
        name,
        # Several: a root of its own (whatever is current), linked to each.
        context=parent if parent is not None else (Context() if parents else None),
        links=links,
        attributes=attributes,
        record_exception=True,
    ):
        yield


def job_tracer(settings: ServiceSettings, provider: TracerProvider | None) -> Tracer | None:
    """The tracer of a background job of the service (None with tracing off)."""
    if provider is None or not tracing_enabled(settings):
        return None
    return provider.get_tracer("socialseed.jobs")


def current_traceparent() -> str | None:
    """The current trace as a W3C ``traceparent`` (None outside any), for a row that hands
    work to a later job (a scheduled post's targets) so the job continues the trace."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier.get("traceparent")


def continued(
    tracer: Tracer | None, name: str, traceparent: str | None, **attributes: Any
) -> Context | None:
    """The context an event continuing ``traceparent`` is written in: with tracing on, an
    INTERNAL span ``name`` (ended at once) under it; off, the stored trace itself, carried on.
    None without a stored trace."""
    if traceparent is None:
        return None
    parent = propagate.extract({"traceparent": traceparent})
    if tracer is None:
        return parent
    span = tracer.start_span(name, context=parent, attributes=attributes)
    span.end()
    return trace.set_span_in_context(span, parent)
