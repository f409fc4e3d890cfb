"""The FastStream Kafka broker of a service, and the names of its topics and groups."""

from __future__ import annotations

import logging
from typing import Any

from faststream.kafka import KafkaBroker
from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from opentelemetry.sdk.trace import TracerProvider

from socialseed import tracing


def make_broker(
    bootstrap: str,
    *,
    client_id: str,
    metrics: KafkaPrometheusMiddleware | None = None,
    tracer_provider: TracerProvider | None = None,
) -> KafkaBroker:
    """A broker with ``metrics`` (see ``broker_metrics``) when given, and traced with
    ``tracer_provider`` (the service's own; never the process-global one) when given: its
    consumers' and dead letters' spans are ours (``socialseed.tracing``), one per partition's
    batch as it is applied, so no FastStream tracing middleware runs."""
    middlewares: list[Any] = [metrics] if metrics is not None else []
    broker = KafkaBroker(
        bootstrap,
        client_id=client_id,
        enable_idempotence=True,
        acks="all",
        middlewares=middlewares,
        logger=logging.getLogger(f"faststream.{client_id}"),
        log_level=logging.DEBUG,  # "Received"/"Processed" per message is debug detail
    )
    if tracer_provider is not None:
        tracing.register_broker(broker, tracer_provider)
    return broker


def kafka_group(consumer: str, topic: str) -> str:
    """The Kafka consumer group of one consumer's subscription to one topic.

    One group per topic, not one per consumer: each subscription is its own Kafka client, and
    clients of one group rebalance together, so a consumer of six topics in one group went
    through six rebalances at start-up (minutes before it read anything). Replicas of a service
    still share each topic's partitions. The inbox keys on ``consumer``, whatever the group."""
    return f"{consumer}.{topic}"


def dlq_topic(topic: str) -> str:
    return f"{topic}.dlq"
