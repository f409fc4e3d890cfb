"""One trace across every process: a post published through the gateway is one trace from the
gateway's request to the worker's platform call, and a sync is one trace from the refresh
request, through the fetch of its posts, to the ingest of its ``metrics.fetched``, with spans per the OpenTelemetry semantic conventions (HTTP,
messaging, database), as an OTLP/HTTP receiver sees them (spans decoded from the protobuf
``ExportTraceServiceRequest`` the services' exporters send)."""

from __future__ import annotations

import asyncio
import gzip
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.trace.v1.trace_pb2 import Span as ProtoSpan
from sqlalchemy import text

from analytics.app import create_app as create_analytics
from analytics.fetching.fetcher import FetchWorkers
from gateway.app import create_app as create_gateway
from gateway.settings import GatewaySettings
from publisher.app import create_app as create_publisher
from socialseed.bus import kafka_group
from socialseed.testing import Infra, free_port, serve
from tests.conftest import (
    RELAXED,
    Stack,
    analytics_settings,
    connect_account,
    own_database,
    owner_with_workspace,
    publisher_settings,
)

KIND = {
    ProtoSpan.SPAN_KIND_SERVER: "server",
    ProtoSpan.SPAN_KIND_CLIENT: "client",
    ProtoSpan.SPAN_KIND_PRODUCER: "producer",
    ProtoSpan.SPAN_KIND_CONSUMER: "consumer",
    ProtoSpan.SPAN_KIND_INTERNAL: "internal",
}


@dataclass(frozen=True)
class Seen:
    service: str
    name: str
    kind: str
    trace_id: str
    span_id: str
    parent_id: str
    attributes: dict[str, Any]


def attr(span: Seen, *names: str) -> Any:
    """The first of ``names`` the span has (the stable semantic conventions' name first, the
    older one after: which one a process emits is chosen once per process)."""
    return next((span.attributes[n] for n in names if n in span.attributes), None)


def _value(v: Any) -> Any:
    return getattr(v, v.WhichOneof("value")) if v.WhichOneof("value") else None


class Receiver:
    """An OTLP/HTTP traces endpoint (``POST /v1/traces``, protobuf) keeping what it gets."""

    def __init__(self) -> None:
        self.spans: list[Seen] = []
        self.lock = threading.Lock()

    def take(self, body: bytes) -> None:
        request = ExportTraceServiceRequest.FromString(body)
        for rs in request.resource_spans:
            resource = {a.key: _value(a.value) for a in rs.resource.attributes}
            for ss in rs.scope_spans:
                for span in ss.spans:
                    seen = Seen(
                        service=str(resource.get("service.name")),
                        name=span.name,
                        kind=KIND[span.kind],
                        trace_id=span.trace_id.hex(),
                        span_id=span.span_id.hex(),
                        parent_id=span.parent_span_id.hex(),
                        attributes={a.key: _value(a.value) for a in span.attributes},
                    )
                    with self.lock:
                        self.spans.append(seen)

    def trace(self, trace_id: str) -> list[Seen]:
        with self.lock:
            return [s for s in self.spans if s.trace_id == trace_id]

    def find(self, pred: Callable[[Seen], bool]) -> list[Seen]:
        with self.lock:
            return [s for s in self.spans if pred(s)]


@contextmanager
def otlp_receiver() -> Iterator[tuple[str, Receiver]]:
    receiver = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if self.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            assert self.path == "/v1/traces", self.path
            receiver.take(body)
            answer = ExportTraceServiceResponse().SerializeToString()
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", receiver
    finally:
        server.shutdown()


async def start_at_the_end(bootstrap: str, group: str, topic: str = "metrics.fetched") -> None:
    """Commit ``group``'s offsets on ``topic`` at the topic's current end (if it exists)."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False
    )
    await consumer.start()
    try:
        # The whole cluster's metadata (aiokafka keeps the consumer's for its subscriptions).
        cluster = await consumer._client.fetch_all_metadata()
        partitions = [TopicPartition(topic, p) for p in cluster.partitions_for_topic(topic) or ()]
        if not partitions:  # not made yet: no history to skip
            return
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        await consumer.commit({tp: offset for tp, offset in ends.items()})
    finally:
        await consumer.stop()


@dataclass
class Traced:
    receiver: Receiver
    gateway_url: str
    publisher_url: str
    analytics_settings: Any
    analytics_db: str


@pytest.fixture
async def traced(
    infra: Infra, stack: Stack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Traced]:
    """A publisher, analytics and gateway of the test's own (own databases and consumer
    groups), exporting every trace to the receiver; auth and accounts are the shared stack's."""
    monkeypatch.setenv("OTEL_BSP_SCHEDULE_DELAY", "200")  # export spans within 0.2 s
    name = uuid.uuid4().hex[:6]
    pub_db = await own_database(infra, "publisher", "socialseed_traced_pub")
    ana_db = await own_database(infra, "analytics", "socialseed_traced_ana")
    with ExitStack() as servers:
        endpoint, receiver = servers.enter_context(otlp_receiver())
        tracing = {"otel_exporter_otlp_endpoint": endpoint, "trace_sample_ratio": 1.0}
        common = {
            "sandbox_url": stack.sandbox_url,
            "auth_url": stack.auth_url,
            "accounts_url": stack.accounts_url,
        }
        port = free_port()
        pub = publisher_settings(
            infra,
            **common,
            database_url=pub_db,
            consumer_group=f"publisher-traced-{name}",
            media_dir=str(tmp_path / "media"),
            public_media_url=f"http://127.0.0.1:{port}",
            **tracing,
        )
        publisher_url = servers.enter_context(serve(create_publisher(pub), port=port))
        ana = analytics_settings(
            infra,
            **common,
            database_url=ana_db,
            consumer_group=f"analytics-traced-{name}",
            **tracing,
        )
        # A new group reads a topic from its start, and metrics.fetched holds every earlier
        # test's fetches, some dated where this database has no partition: each of those
        # would be retried and dead-lettered before this test's own fetch is read. The
        # traced ingester starts at the topic's end instead.
        await start_at_the_end(
            infra.kafka_bootstrap, kafka_group(f"{ana.consumer_group}-ingest", "metrics.fetched")
        )
        analytics_url = servers.enter_context(serve(create_analytics(ana, background=False)))
        gw = GatewaySettings(
            dev_mode=True,
            upstreams={
                "auth": stack.auth_url,
                "accounts": stack.accounts_url,
                "publisher": publisher_url,
                "analytics": analytics_url,
            },
            limit_per_ip=RELAXED,
            limit_per_user=RELAXED,
            limit_login_per_ip=RELAXED,
            **tracing,
        )
        gateway_url = servers.enter_context(serve(create_gateway(gw)))
        yield Traced(receiver, gateway_url, publisher_url, ana, ana_db)


async def eventually(probe: Callable[[], Any], what: str, timeout: float = 90) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := await probe()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.2)
    return value


def messaging(span: Seen, operation: str, topic: str) -> bool:
    a = span.attributes
    return (
        a.get("messaging.system") == "kafka"
        and a.get("messaging.destination.name") == topic
        and a.get("messaging.operation") == operation
        and span.name == f"{operation} {topic}"
        and span.kind == {"publish": "producer", "process": "consumer"}[operation]
    )


def is_database(span: Seen) -> bool:
    a = span.attributes
    return span.kind == "client" and "postgresql" in (a.get("db.system"), a.get("db.system.name"))


def ancestors(trace: list[Seen], span: Seen) -> list[Seen]:
    by_id = {s.span_id: s for s in trace}
    chain = []
    while span.parent_id in by_id:
        span = by_id[span.parent_id]
        chain.append(span)
    return chain


@pytest.mark.timeout(300)
async def test_a_published_post_and_a_sync_are_each_one_trace_across_the_services(
    api: httpx.AsyncClient, stack: Stack, traced: Traced
) -> None:
    receiver = traced.receiver
    owner, ws = await owner_with_workspace(api)
    [account] = await connect_account(api, owner, ws, "x", f"tr{uuid.uuid4().hex[:8]}")
    async with httpx.AsyncClient(base_url=traced.gateway_url, timeout=20) as gw:

        async def created() -> str | None:
            r = await gw.post(
                "/api/v1/posts",
                json={
                    "workspace_id": ws,
                    "text": "traced",
                    "targets": [{"account_id": account["id"]}],
                },
                headers=owner.headers,
            )
            # Until the publisher's directory has the account (its own consumer group).
            return str(r.json()["id"]) if r.status_code == 201 else None

        post_id = await eventually(created, "the traced publisher to take the post")

        async def published() -> bool:
            r = await gw.get(f"/api/v1/posts/{post_id}", headers=owner.headers)
            return r.status_code == 200 and r.json()["status"] == "published"

        await eventually(published, "the post published")

        # -- the publish: gateway -> publisher -> Kafka -> worker -> platform ---------------
        [request] = await eventually(
            lambda: asyncio.sleep(
                0,
                receiver.find(
                    lambda s: (
                        s.service == "publisher"
                        and s.kind == "server"
                        and s.name == "POST /api/v1/posts"
                        and attr(s, "http.response.status_code", "http.status_code") == 201
                    )
                ),
            ),
            "the publisher's request span",
        )
        sandbox_port = httpx.URL(stack.sandbox_url).port

        def platform_call(s: Seen) -> bool:
            return (
                s.service == "publisher"
                and s.kind == "client"
                and attr(s, "http.request.method", "http.method") == "POST"
                and attr(s, "server.port", "net.peer.port") == sandbox_port
            )

        async def whole_publish() -> list[Seen] | None:
            spans = receiver.trace(request.trace_id)
            return spans if any(platform_call(s) for s in spans) else None

        trace = await eventually(whole_publish, "the platform call in the request's trace")
        gateway = [s for s in trace if s.service == "gateway"]
        assert any(
            s.kind == "server" and attr(s, "http.request.method", "http.method") == "POST"
            for s in gateway
        )
        # The publisher's request is the gateway's request's child (its proxy sends the
        # gateway's span on in traceparent).
        assert request.parent_id in {s.span_id for s in gateway if s.kind == "server"}
        [produce] = [s for s in trace if messaging(s, "publish", "post.publish_requested")]
        [consume] = [s for s in trace if messaging(s, "process", "post.publish_requested")]
        assert produce.service == consume.service == "publisher"
        assert consume.parent_id == produce.span_id
        assert consume.attributes["messaging.consumer.group.name"].startswith("publisher-traced-")
        assert produce.attributes["messaging.message.id"]
        call = next(s for s in trace if platform_call(s))
        assert consume in ancestors(trace, call)  # the worker's platform call, under its message
        dispatch = next(s for s in trace if s.name == "dispatch post")
        assert dispatch in ancestors(trace, produce)
        assert request in ancestors(trace, dispatch)  # the request that scheduled it
        assert any(is_database(s) and request in ancestors(trace, s) for s in trace)
        assert any(is_database(s) and consume in ancestors(trace, s) for s in trace)

    # -- a sync: the refresh request -> fetch -> platform -> metrics.fetched -> ingest ------
    fetcher_app = create_analytics(traced.analytics_settings, background=False)
    ctx = fetcher_app.state.analytics
    fetch = FetchWorkers(ctx, name="traced")
    try:

        async def tracked() -> bool:  # analytics tracks the published post
            async with ctx.db.transaction() as session:
                found = await session.execute(
                    text(
                        "SELECT 1 FROM analytics.tracked_posts p"
                        " JOIN analytics.accounts a ON a.id = p.account_id"
                        " WHERE a.id = :id AND a.tracking AND p.status = 'active'"
                    ),
                    {"id": uuid.UUID(str(account["id"]))},
                )
                return found.first() is not None

        await eventually(tracked, "analytics tracking the published post")
        async with httpx.AsyncClient(base_url=traced.gateway_url, timeout=20) as gw:
            r = await gw.post(
                "/api/v1/analytics/refresh", json={"workspace_id": ws}, headers=owner.headers
            )
        assert r.status_code == 202 and r.json()["total_posts"] >= 1, r.text
        [refresh] = await eventually(
            lambda: asyncio.sleep(
                0,
                receiver.find(
                    lambda s: (
                        s.service == "analytics"
                        and s.kind == "server"
                        and s.name == "POST /api/v1/analytics/refresh"
                    )
                ),
            ),
            "the refresh request's span",
        )

        def ingested(s: Seen) -> bool:
            return s.service == "analytics" and messaging(s, "process", "metrics.fetched")

        async def synced() -> list[Seen] | None:
            await fetch.drain()
            ctx.runtime.tracer_provider.force_flush()
            spans = receiver.trace(refresh.trace_id)
            return spans if any(ingested(s) for s in spans) else None

        # The sync's fetch continues the trace of the request that asked for it.
        trace = await eventually(synced, "the sync's fetch and ingest in the refresh's trace")
    finally:
        for client in ctx.runtime.http_clients:
            await client.aclose()
        await ctx.db.dispose()
        ctx.runtime.tracer_provider.shutdown()
    [job] = [s for s in trace if s.name == "fetch post metrics"]
    assert job.kind == "internal" and job.attributes["socialseed.platform"] == "x"
    assert refresh in ancestors(trace, job)  # started by the refresh request...
    assert any(
        s.service == "gateway" and s.kind == "server" and s in ancestors(trace, job) for s in trace
    )  # ...as the gateway received it
    produce = next(
        s
        for s in trace
        if messaging(s, "publish", "metrics.fetched") and job in ancestors(trace, s)
    )
    # The ingester takes a partition's records as one batch, its span a child of the first
    # record's: the post fetch's, or the account fetch's of the same sync (same trace).
    produced = {s.span_id for s in trace if messaging(s, "publish", "metrics.fetched")}
    assert produce.span_id in produced
    [consume, *_] = [s for s in trace if ingested(s) and s.parent_id in produced]
    assert any(
        s.kind == "client"
        and attr(s, "server.port", "net.peer.port") == sandbox_port
        and job in ancestors(trace, s)
        for s in trace
    )  # the platform call
    writes = [s for s in trace if is_database(s) and consume in ancestors(trace, s)]
    assert any(s.name.startswith("INSERT") for s in writes), [s.name for s in writes]
