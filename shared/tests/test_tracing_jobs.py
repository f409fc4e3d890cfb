"""A background job's unit of work continues the trace of the request that asked for it (a
sync's refresh), links to each when several did, and starts its own when none did."""

from __future__ import annotations

from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from socialseed import tracing

A = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
B = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


def _traced() -> tuple[trace.Tracer, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider.get_tracer("test"), exporter


def _only(exporter: InMemorySpanExporter) -> ReadableSpan:
    [span] = exporter.get_finished_spans()
    return span


def test_one_stored_trace_is_continued() -> None:
    tracer, exporter = _traced()
    with tracing.job(tracer, "fetch post metrics", traceparents=[A, A], **{"k": "v"}):
        pass
    span = _only(exporter)
    assert f"{span.context.trace_id:032x}" == A.split("-")[1]
    assert span.parent is not None and f"{span.parent.span_id:016x}" == A.split("-")[2]
    assert span.attributes == {"k": "v"} and not span.links


def test_several_stored_traces_are_linked_from_a_root_of_its_own() -> None:
    tracer, exporter = _traced()
    with tracing.job(tracer, "fetch post metrics", traceparents=[A, B]):
        pass
    span = _only(exporter)
    assert span.parent is None
    assert f"{span.context.trace_id:032x}" not in {A.split("-")[1], B.split("-")[1]}
    linked = {f"{link.context.trace_id:032x}" for link in span.links}
    assert linked == {A.split("-")[1], B.split("-")[1]}


def test_no_stored_trace_starts_one() -> None:
    tracer, exporter = _traced()
    with tracing.job(tracer, "fetch post metrics"):
        pass
    span = _only(exporter)
    assert span.parent is None and not span.links


def test_with_tracing_off_the_stored_trace_is_still_carried_on() -> None:
    with tracing.job(None, "fetch post metrics", traceparents=[A]):
        assert tracing.current_traceparent() == A
    assert tracing.current_traceparent() is None
