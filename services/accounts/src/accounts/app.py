"""The accounts service: connected social accounts, OAuth connect, encrypted token vault."""

from __future__ import annotations

import functools
from pathlib import Path

import httpx
from fastapi import FastAPI
from faststream.kafka import KafkaBroker
from faststream.kafka.prometheus import KafkaPrometheusMiddleware

from accounts.accounts.endpoints import internal
from accounts.accounts.endpoints import router as accounts_router
from accounts.background import run_background
from accounts.context import AccountsContext
from accounts.models import inbox, member_changes, outbox
from accounts.oauth.endpoints import router as oauth_router
from accounts.settings import AccountsSettings
from accounts.vault import Vault
from socialseed import telemetry
from socialseed.bus import EventConsumer, Inbox, broker_metrics, make_broker
from socialseed.db import Database
from socialseed.membership import track_member_changes
from socialseed.outbox import Outbox, OutboxRelay
from socialseed.platforms import Clock, build_providers
from socialseed.platforms.parsing import utcnow
from socialseed.security import JWTVerifier
from socialseed.service import Runtime, create_service_app

MIGRATIONS = Path(__file__).with_name("migrations")


@functools.cache
def _broker_metrics() -> KafkaPrometheusMiddleware:
    # Its metrics register in the process-wide registry, so one per process however many apps
    # (tests build several) it serves.
    return broker_metrics()


def create_app(
    settings: AccountsSettings | None = None,
    *,
    background: bool = True,
    clock: Clock = utcnow,
) -> FastAPI:
    """``clock`` is the service's "now" (token due dates and expiries, sync times, OAuth
    state expiry); tests pass one they can advance instead of sleeping."""
    settings = settings or AccountsSettings()
    db = Database(
        settings.database_url, pool_size=settings.db_pool_size, name=settings.service_name
    )
    http = httpx.AsyncClient(timeout=settings.platforms.timeout)
    relay = (
        OutboxRelay(
            db, outbox, settings.kafka_bootstrap, poll_interval=settings.outbox_poll_interval
        )
        if settings.kafka_enabled
        else None
    )
    broker: KafkaBroker | None = None
    consumers: list[EventConsumer] = []
    tracer = telemetry.tracer_provider(settings)
    if settings.kafka_enabled:
        broker = make_broker(
            settings.kafka_bootstrap,
            client_id="accounts",
            metrics=_broker_metrics(),
            tracer_provider=tracer,
        )
        consumer = EventConsumer(broker, db, Inbox(inbox), group_id="accounts")
        track_member_changes(consumer, member_changes)
        consumers.append(consumer)
    runtime = Runtime(
        settings=settings,
        http_clients=[http],
        db=db,
        relay=relay,
        cleanups=[http.aclose],
        verifier=JWTVerifier.for_service(settings),
        broker=broker,
        consumers=consumers,
        member_changes=member_changes,
        tracer_provider=tracer,
    )
    ctx = AccountsContext(
        runtime=runtime,
        vault=Vault(settings.token_keys),
        outbox=Outbox(outbox, source="/socialseed/accounts"),
        providers=build_providers(settings.platforms, http, clock=clock),
        clock=clock,
    )
    if background:
        runtime.background.append(functools.partial(run_background, ctx))
    app = create_service_app(
        runtime, title="SocialSeed accounts", routers=[accounts_router, oauth_router, internal]
    )
    app.state.accounts = ctx
    return app
