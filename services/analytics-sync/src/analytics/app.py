"""The analytics-sync service: tracking, ingestion of fetched metrics, retention."""

from __future__ import annotations

import functools
import uuid
from pathlib import Path

from fastapi import FastAPI
from faststream.kafka import KafkaBroker

from analytics.context import AnalyticsContext
from analytics.fetching.fetcher import FetchWorkers
from analytics.fetching.repository import fetch_facts
from analytics.ingest.consumer import ingest_metrics
from analytics.ingest.repository import DATA_VERSIONS_CHANNEL
from analytics.models import OUTBOX, inbox, member_changes, outbox
from analytics.queries.caching import Answers
from analytics.queries.endpoints import router as queries_router
from analytics.queries.reads import ACCOUNT_OWNERS_HELD, AccountOwners
from analytics.retention.job import run_retention
from analytics.settings import AnalyticsSettings
from analytics.syncs.endpoints import router as refresh_router
from analytics.tracking.subscribers import track_accounts
from socialseed.app import create_service_app
from socialseed.bus import EventConsumer, Inbox
from socialseed.clients import http_client
from socialseed.membership import MembershipCache, track_member_changes
from socialseed.notify import Listener, NotifiedCache
from socialseed.platforms import Clock, build_providers
from socialseed.platforms.parsing import utcnow
from socialseed.runtime import Runtime, service_runtime
from socialseed.vault import TokenVault

MIGRATIONS = Path(__file__).with_name("migrations")


def create_app(
    settings: AnalyticsSettings | None = None, *, clock: Clock = utcnow, background: bool = True
) -> FastAPI:
    """``background``: run the retention leader and the fetch workers in this process; tests
    drive their own."""
    settings = settings or AnalyticsSettings()
    http = http_client(settings.platforms.timeout)
    runtime = service_runtime(
        settings, outbox=outbox, client_id="analytics", http=http, member_changes=member_changes
    )
    if runtime.facts is not None:
        runtime.facts.add(fetch_facts(settings.budgets))
    ctx = AnalyticsContext(
        runtime=runtime,
        outbox=OUTBOX,
        vault=TokenVault(http, settings.accounts_url, settings.vault_token, clock=clock),
        providers=build_providers(
            settings.platforms, http, clock=clock, service=settings.service_name
        ),
        clock=clock,
    )
    if runtime.broker is not None:
        _consumers(runtime, runtime.broker, ctx)
    if background:
        runtime.background.append(functools.partial(run_retention, ctx))
        runtime.background.append(FetchWorkers(ctx).run)
    app = create_service_app(
        runtime, title="SocialSeed analytics", routers=[refresh_router, queries_router]
    )
    app.state.analytics = ctx
    app.state.analytics_answers = Answers(settings.answer_cache_size, ttl=settings.cache_max_age)
    app.state.analytics_account_owners = AccountOwners(maxsize=ACCOUNT_OWNERS_HELD)
    # Membership changes and data versions held in memory, dropped on NOTIFY: a repeated
    # answer makes no query at all.
    listener = Listener(settings.database_url, heartbeat=settings.notify_heartbeat)
    runtime.listener = listener
    runtime.membership = MembershipCache(listener, member_changes)
    app.state.analytics_versions = NotifiedCache(listener, DATA_VERSIONS_CHANNEL, uuid.UUID)
    return app


def _consumers(
    runtime: Runtime[AnalyticsSettings], broker: KafkaBroker, ctx: AnalyticsContext
) -> None:
    """Tracking (projections, published posts, membership) in one group; ingestion of fetched
    metrics in its own, so a burst of metrics never delays tracking."""
    settings, db = runtime.settings, runtime.database
    tracking = EventConsumer(broker, db, Inbox(inbox), group_id=settings.consumer_group)
    track_member_changes(tracking, member_changes)
    track_accounts(tracking, ctx)
    ingest = EventConsumer(broker, db, Inbox(inbox), group_id=f"{settings.consumer_group}-ingest")
    ingest_metrics(ingest, settings)
    runtime.consumers += [tracking, ingest]
