"""The broker's Prometheus middleware (FastStream's): consumed and published messages,
their sizes and durations, per topic."""

from __future__ import annotations

import functools

from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from prometheus_client import REGISTRY, CollectorRegistry


def broker_metrics(registry: CollectorRegistry = REGISTRY) -> KafkaPrometheusMiddleware:
    """FastStream's Prometheus middleware. It registers its metrics in ``registry``, so a
    process makes one per registry (the service, once, where it builds its app) and hands it to
    every broker it creates."""
    return KafkaPrometheusMiddleware(registry=registry, app_name="socialseed")


@functools.cache
def process_broker_metrics() -> KafkaPrometheusMiddleware:
    """The process's one middleware on the default registry: its collectors may be
    registered only once, and every broker a service builds shares it."""
    return broker_metrics()
