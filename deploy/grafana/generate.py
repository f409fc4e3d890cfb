"""SocialSeed's Grafana dashboards, built with grafana-foundation-sdk.

    uv run python deploy/grafana/generate.py          # writes deploy/grafana/dashboards/*.json

The committed JSON must equal what this script makes (a test checks it), and every panel's
query must parse and return data against a Prometheus scraping a running stack (another test).
Every query uses only the metric names of the services' ``/metrics`` and the Prometheus jobs of
``deploy/prometheus/prometheus.yml`` (auth, accounts, publisher, analytics-sync, webhooks,
gateway). Gauges
computed from the database are reported alike by every replica, so they are aggregated with
``max``; counters and histograms add up across replicas.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grafana_foundation_sdk.builders.dashboard import Dashboard, DatasourceVariable, Row
from grafana_foundation_sdk.builders.prometheus import Dataquery
from grafana_foundation_sdk.builders.stat import Panel as Stat
from grafana_foundation_sdk.builders.timeseries import Panel as TimeSeries
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.dashboard import DataSourceRef

OUT = Path(__file__).resolve().parent / "dashboards"
DATASOURCE = DataSourceRef(type_val="prometheus", uid="${datasource}")
JOBS = ("auth", "accounts", "publisher", "analytics-sync", "webhooks", "gateway")
ALL_JOBS = f'job=~"{"|".join(JOBS)}"'
# Grafana's own rate window: at least four scrape intervals, whatever the zoom.
WINDOW = "$__rate_interval"


@dataclass(frozen=True)
class Query:
    expr: str
    legend: str = ""


@dataclass(frozen=True)
class Graph:
    title: str
    queries: Sequence[Query]
    unit: str = "short"
    description: str = ""
    stat: bool = False  # a single big number instead of a time series
    width: int = 12


def _series(metric: str, selector: str) -> str:
    return f"{metric}{{{selector}}}" if selector else metric


def rate(metric: str, by: str, selector: str = "") -> str:
    return f"sum by ({by}) (rate({_series(metric, selector)}[{WINDOW}]))"


def quantile(q: float, histogram: str, by: str, selector: str = "") -> str:
    buckets = f"rate({_series(histogram + '_bucket', selector)}[{WINDOW}])"
    return f"histogram_quantile({q}, sum by ({by}, le) ({buckets}))"


def http_panels(job: str) -> list[Graph]:
    sel = f'job="{job}"'
    requests = "socialseed_http_requests_total"
    latency = "socialseed_http_request_duration_seconds"
    return [
        Graph("Up", [Query(f"up{{{sel}}}", "{{instance}}")], stat=True, width=6),
        Graph(
            "Build",
            [Query(f"max by (version, commit) (socialseed_build_info{{{sel}}})", "{{version}}")],
            stat=True,
            width=6,
            description="The version and commit running (the value is always 1).",
        ),
        Graph(
            "Server error share",
            [
                Query(
                    f'1 - sum(rate({requests}{{{sel}, status!~"5.."}}[{WINDOW}]))'
                    f" / sum(rate({requests}{{{sel}}}[{WINDOW}]))",
                    "5xx",
                )
            ],
            unit="percentunit",
            stat=True,
            width=12,
        ),
        Graph("Requests by route", [Query(rate(requests, "route", sel), "{{route}}")], "reqps"),
        Graph("Responses by status", [Query(rate(requests, "status", sel), "{{status}}")], "reqps"),
        Graph(
            "Latency",
            [
                Query(quantile(0.5, latency, "job", sel), "p50"),
                Query(quantile(0.99, latency, "job", sel), "p99"),
            ],
            "s",
        ),
        Graph(
            "p99 latency by route", [Query(quantile(0.99, latency, "route", sel), "{{route}}")], "s"
        ),
    ]


def consumer_panels(job: str) -> list[Graph]:
    sel = f'job="{job}"'
    return [
        Graph(
            "Events consumed by outcome",
            [
                Query(
                    rate("socialseed_events_consumed_total", "topic, outcome", sel),
                    "{{topic}} {{outcome}}",
                )
            ],
            "ops",
        ),
        Graph(
            "Consumer lag",
            [
                Query(
                    f"max by (consumer, topic) (socialseed_consumer_lag_messages{{{sel}}})",
                    "{{consumer}} {{topic}}",
                )
            ],
            description="Messages waiting: high watermark minus committed offset, over partitions.",
        ),
    ]


def outbox_panels(job: str) -> list[Graph]:
    sel = f'job="{job}"'
    return [
        Graph(
            "Outbox backlog",
            [Query(f"max by (service) (socialseed_outbox_backlog{{{sel}}})", "{{service}}")],
            description="Events written but not yet sent to Kafka.",
        ),
        Graph(
            "Events sent to Kafka",
            [Query(rate("socialseed_outbox_relayed_total", "topic", sel), "{{topic}}")],
            "ops",
        ),
    ]


PUBLISHING = [
    Graph(
        "Targets by state",
        [Query("max by (state) (socialseed_publish_targets)", "{{state}}")],
        description="Every publish target that is not a draft, by state.",
    ),
    Graph(
        "Lateness (due to accepted by the platform)",
        [
            Query(
                quantile(0.5, "socialseed_publish_lateness_seconds", "platform"), "p50 {{platform}}"
            ),
            Query(
                quantile(0.99, "socialseed_publish_lateness_seconds", "platform"),
                "p99 {{platform}}",
            ),
        ],
        "s",
    ),
    Graph(
        "Attempts by outcome",
        [
            Query(
                rate("socialseed_publish_attempts_total", "platform, outcome"),
                "{{platform}} {{outcome}}",
            )
        ],
        "ops",
    ),
    Graph(
        "Attempts by error class",
        [
            Query(
                rate("socialseed_publish_attempts_total", "platform, error_class"),
                "{{platform}} {{error_class}}",
            )
        ],
        "ops",
        description="`none` for attempts that succeeded.",
    ),
    Graph(
        "In doubt",
        [Query("max(socialseed_publish_in_doubt_targets)", "targets in doubt")],
        description="Publishes sent without an answer: looked up on the platform before any retry.",
    ),
    Graph(
        "Oldest in doubt",
        [Query("max(socialseed_publish_in_doubt_oldest_age_seconds)", "age")],
        "s",
    ),
    Graph(
        "Circuit state",
        [
            Query(
                "max by (service, platform) (socialseed_platform_circuit_state)",
                "{{service}} {{platform}}",
            )
        ],
        description="0 closed, 1 half-open, 2 open (calls refused locally).",
    ),
    Graph(
        "Rate-limit waits",
        [Query(rate("socialseed_publish_rate_limit_waits_total", "platform"), "{{platform}}")],
        "ops",
        description="Publishes put back until the platform's rate limit allows them.",
    ),
]

ANALYTICS = [
    Graph(
        "Platform calls by status",
        [
            Query(
                rate("socialseed_platform_calls_total", "platform, status"),
                "{{platform}} {{status}}",
            )
        ],
        "reqps",
    ),
    Graph(
        "Platform calls by endpoint",
        [
            Query(
                rate("socialseed_platform_calls_total", "platform, endpoint"),
                "{{platform}} {{endpoint}}",
            )
        ],
        "reqps",
    ),
    Graph(
        "Budget used",
        [
            Query(
                "max by (platform, rule) (socialseed_platform_budget_used)"
                " / max by (platform, rule) (socialseed_platform_budget_limit)",
                "{{platform}} {{rule}}",
            )
        ],
        "percentunit",
        description="Calls (or units) used in each rule's current window, as a share of its limit.",
    ),
    Graph(
        "429s received from the platforms",
        [
            Query(
                "sum by (service, platform)"
                f" (increase(socialseed_platform_rate_limited_total[{WINDOW}]))",
                "{{service}} {{platform}}",
            )
        ],
        description="The budgets keep every call under the platforms' limits: the goal is none.",
    ),
    Graph("Sync lag behind plan", [Query("max(socialseed_sync_lag_seconds)", "lag")], "s"),
    Graph(
        "Snapshots ingested",
        [Query(rate("socialseed_snapshots_ingested_total", "kind"), "{{kind}}")],
        "ops",
    ),
    Graph(
        "Ingest batch duration",
        [
            Query(quantile(0.5, "socialseed_ingest_batch_seconds", "job"), "p50"),
            Query(quantile(0.99, "socialseed_ingest_batch_seconds", "job"), "p99"),
        ],
        "s",
    ),
]

BUS = [
    Graph(
        "Consumer lag",
        [
            Query(
                "max by (consumer, topic) (socialseed_consumer_lag_messages)",
                "{{consumer}} {{topic}}",
            )
        ],
    ),
    Graph(
        "Events consumed by outcome",
        [
            Query(
                rate("socialseed_events_consumed_total", "consumer, outcome"),
                "{{consumer}} {{outcome}}",
            )
        ],
        "ops",
    ),
    Graph(
        "Dead-lettered events",
        [
            Query(
                f"sum by (consumer, topic) (increase(socialseed_dead_letters_total[{WINDOW}]))",
                "{{consumer}} {{topic}}",
            )
        ],
        description="Sent to <topic>.dlq: their effect did not happen.",
    ),
    Graph(
        "Partitions waiting for the database or broker",
        [Query("max by (consumer, topic) (socialseed_consumer_paused)", "{{consumer}} {{topic}}")],
    ),
    Graph(
        "Outbox backlog",
        [Query("max by (service) (socialseed_outbox_backlog)", "{{service}}")],
    ),
    Graph(
        "Oldest unsent event",
        [Query("max by (service) (socialseed_outbox_oldest_age_seconds)", "{{service}}")],
        "s",
    ),
    Graph(
        "Relay throughput",
        [Query(rate("socialseed_outbox_relayed_total", "topic"), "{{topic}}")],
        "ops",
    ),
]

OVERVIEW = [
    Graph("Services up", [Query(f"sum(up{{{ALL_JOBS}}})", "up")], stat=True, width=6),
    Graph("Up by service", [Query(f"min by (job) (up{{{ALL_JOBS}}})", "{{job}}")], width=18),
    Graph(
        "Requests by service",
        [Query(rate("socialseed_http_requests_total", "job", ALL_JOBS), "{{job}}")],
        "reqps",
    ),
    Graph(
        "Server error share by service",
        [
            Query(
                "1 - sum by (job)"
                f' (rate(socialseed_http_requests_total{{{ALL_JOBS}, status!~"5.."}}[{WINDOW}]))'
                f" / sum by (job) (rate(socialseed_http_requests_total{{{ALL_JOBS}}}[{WINDOW}]))",
                "{{job}}",
            )
        ],
        "percentunit",
    ),
    Graph(
        "p99 latency by service",
        [
            Query(
                quantile(0.99, "socialseed_http_request_duration_seconds", "job", ALL_JOBS),
                "{{job}}",
            )
        ],
        "s",
    ),
    Graph(
        "Requests refused by our rate limits",
        [Query(rate("socialseed_rate_limited_total", "service, limit"), "{{service}} {{limit}}")],
        "reqps",
    ),
    Graph(
        "Publish attempts by outcome",
        [Query(rate("socialseed_publish_attempts_total", "outcome"), "{{outcome}}")],
        "ops",
    ),
    Graph(
        "Snapshots ingested",
        [Query(rate("socialseed_snapshots_ingested_total", "kind"), "{{kind}}")],
        "ops",
    ),
    Graph(
        "Events consumed by outcome",
        [Query(rate("socialseed_events_consumed_total", "outcome"), "{{outcome}}")],
        "ops",
    ),
    Graph(
        "Consumer lag (largest)",
        [Query("max(socialseed_consumer_lag_messages)", "messages")],
    ),
]

ACCOUNTS = [
    Graph(
        "Token refreshes by outcome",
        [
            Query(
                rate("socialseed_token_refreshes_total", "platform, outcome"),
                "{{platform}} {{outcome}}",
            )
        ],
        "ops",
    ),
    Graph(
        "Accounts by status",
        [Query("max by (platform, status) (socialseed_accounts)", "{{platform}} {{status}}")],
        description="`reauth_required`: their user must reconnect them.",
    ),
]

AUTH = [
    Graph(
        "Sign-ins by status",
        [
            Query(
                rate("socialseed_http_requests_total", "status", 'job="auth", route=~".*/login"'),
                "{{status}}",
            )
        ],
        "reqps",
        description="401: wrong email or password; 429: throttled.",
    ),
]

GATEWAY = [
    Graph(
        "Requests refused by the gateway's limits",
        [Query(rate("socialseed_rate_limited_total", "limit", 'service="gateway"'), "{{limit}}")],
        "reqps",
    ),
]

WEBHOOKS = [
    Graph(
        "Deliveries by outcome",
        [
            Query(
                rate("socialseed_webhook_deliveries_total", "outcome", 'job="webhooks"'),
                "{{outcome}}",
            )
        ],
        "ops",
        description="Attempts: succeeded (a 2xx), retry (failed, another attempt scheduled), "
        "failed (the last attempt failed: the endpoint was turned off).",
    ),
    Graph(
        "Attempt latency",
        [
            Query(
                quantile(
                    0.5, "socialseed_webhook_attempt_duration_seconds", "job", 'job="webhooks"'
                ),
                "p50",
            ),
            Query(
                quantile(
                    0.99, "socialseed_webhook_attempt_duration_seconds", "job", 'job="webhooks"'
                ),
                "p99",
            ),
        ],
        "s",
        description="The receivers' answer times (a timeout counts as WEBHOOKS_TIMEOUT).",
    ),
    Graph(
        "Endpoints turned off",
        [
            Query(
                "sum(increase(socialseed_webhook_endpoints_disabled_total"
                f'{{job="webhooks"}}[{WINDOW}]))',
                "turned off",
            )
        ],
        description="Endpoints disabled after every attempt of a delivery failed; their "
        "workspace's admins turn them on again.",
    ),
]


def _panel(graph: Graph, panel_id: int) -> Any:
    builder = Stat() if graph.stat else TimeSeries()
    builder = (
        builder.id(panel_id)
        .title(graph.title)
        .datasource(DATASOURCE)
        .unit(graph.unit)
        .height(4 if graph.stat else 8)
        .span(graph.width)
    )
    if graph.description:
        builder = builder.description(graph.description)
    for i, query in enumerate(graph.queries):
        target = Dataquery().expr(query.expr).ref_id(chr(ord("A") + i))
        builder = builder.with_target(target.legend_format(query.legend or "__auto"))
    return builder


def dashboard(uid: str, title: str, rows: Sequence[tuple[str, Sequence[Graph]]]) -> Any:
    builder = (
        Dashboard(title)
        .uid(uid)
        .tags(["socialseed"])
        .refresh("30s")
        .time("now-1h", "now")
        .with_variable(DatasourceVariable("datasource").label("Data source").type("prometheus"))
    )
    panel_id = 0
    for row_title, graphs in rows:
        panel_id += 1
        builder = builder.with_row(Row(row_title).id(panel_id))
        for graph in graphs:
            panel_id += 1
            builder = builder.with_panel(_panel(graph, panel_id))
    return builder.build()


def service_dashboard(
    job: str, extra: Sequence[Graph], *, consumes: bool, outbox: bool, relays: bool = True
) -> Any:
    """``outbox``: its backlog; ``relays``: and the events it sends (a service whose outbox
    stays empty — the webhooks service writes no events — shows the backlog only)."""
    rows: list[tuple[str, Sequence[Graph]]] = [("HTTP", http_panels(job))]
    if extra:
        rows.append((job, extra))
    if consumes:
        rows.append(("Events consumed", consumer_panels(job)))
    if outbox:
        rows.append(("Outbox", outbox_panels(job) if relays else outbox_panels(job)[:1]))
    return dashboard(f"socialseed-{job}", f"SocialSeed / {job}", rows)


def dashboards() -> dict[str, Any]:
    """File name -> dashboard model."""
    return {
        "overview.json": dashboard(
            "socialseed-overview", "SocialSeed / Overview", [("Overview", OVERVIEW)]
        ),
        "publishing.json": dashboard(
            "socialseed-publishing", "SocialSeed / Publishing", [("Publishing", PUBLISHING)]
        ),
        "analytics-sync.json": dashboard(
            "socialseed-analytics-sync-overview",
            "SocialSeed / Analytics sync",
            [("Analytics sync", ANALYTICS)],
        ),
        "kafka-outbox.json": dashboard(
            "socialseed-bus", "SocialSeed / Kafka & outbox", [("Kafka & outbox", BUS)]
        ),
        "service-auth.json": service_dashboard("auth", AUTH, consumes=False, outbox=True),
        "service-accounts.json": service_dashboard(
            "accounts", ACCOUNTS, consumes=True, outbox=True
        ),
        "service-publisher.json": service_dashboard(
            "publisher", PUBLISHING[:3], consumes=True, outbox=True
        ),
        "service-analytics-sync.json": service_dashboard(
            "analytics-sync", ANALYTICS[:1] + ANALYTICS[4:6], consumes=True, outbox=True
        ),
        "service-gateway.json": service_dashboard("gateway", GATEWAY, consumes=False, outbox=False),
        "service-webhooks.json": service_dashboard(
            "webhooks", WEBHOOKS, consumes=True, outbox=True, relays=False
        ),
    }


def render(model: Any) -> str:
    return json.dumps(model, cls=JSONEncoder, indent=2, sort_keys=True) + "\n"


def main(argv: Sequence[str]) -> None:
    out = Path(argv[0]) if argv else OUT
    out.mkdir(parents=True, exist_ok=True)
    for name, model in dashboards().items():
        (out / name).write_text(render(model))


if __name__ == "__main__":
    main(sys.argv[1:])
