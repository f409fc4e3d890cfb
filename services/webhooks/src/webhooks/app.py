"""The webhooks service: workspaces' webhook endpoints, and their events delivered to them
signed (Standard Webhooks), retried, one at a time per endpoint, SSRF-guarded."""

from __future__ import annotations

import random
from pathlib import Path

import httpx
from fastapi import FastAPI

from socialseed.app import create_service_app
from socialseed.bus import EventConsumer, Inbox
from socialseed.membership import track_member_changes
from socialseed.notify import Listener
from socialseed.platforms import Clock
from socialseed.platforms.parsing import utcnow
from socialseed.runtime import service_runtime
from webhooks.context import WebhooksContext
from webhooks.delivery.guard import GuardedTransport, Resolver, system_resolver
from webhooks.delivery.retention import run_retention
from webhooks.delivery.sender import Sender
from webhooks.delivery.subscribers import deliver_events
from webhooks.hooks.endpoints import router
from webhooks.models import inbox, member_changes, outbox
from webhooks.secrets import SecretCipher
from webhooks.settings import WebhooksSettings

MIGRATIONS = Path(__file__).with_name("migrations")


def create_app(
    settings: WebhooksSettings | None = None,
    *,
    background: bool = True,
    clock: Clock = utcnow,
    resolver: Resolver = system_resolver,
    rng: random.Random | None = None,
) -> FastAPI:
    """``background``: run the sender and the deliveries' retention (tests of the API alone
    turn them off); ``resolver``: host names to addresses (the SSRF guard checks what it
    answers)."""
    settings = settings or WebhooksSettings()
    http = httpx.AsyncClient(
        transport=GuardedTransport(allow_private=settings.private_urls_allowed, resolver=resolver),
        follow_redirects=False,
        timeout=settings.timeout,
        trust_env=False,  # never through a proxy the environment names
    )
    runtime = service_runtime(
        settings, outbox=outbox, client_id="webhooks", http=http, member_changes=member_changes
    )
    ctx = WebhooksContext(
        runtime=runtime,
        cipher=SecretCipher(settings.secret_keys),
        http=http,
        resolver=resolver,
        clock=clock,
        rng=rng or random.Random(),
    )
    if runtime.broker is not None:
        consumer = EventConsumer(
            runtime.broker, runtime.database, Inbox(inbox), group_id="webhooks"
        )
        track_member_changes(consumer, member_changes)
        deliver_events(consumer, ctx)
        runtime.consumers.append(consumer)
    # One LISTEN connection (socialseed.notify), opened when it runs: queued deliveries wake
    # the sender at once.
    listener = Listener(settings.database_url)
    sender = Sender(ctx, listener)
    if background:
        runtime.background += [listener.run, sender.run, lambda: run_retention(ctx)]
    app = create_service_app(runtime, title="SocialSeed webhooks", routers=[router])
    app.state.webhooks = ctx
    app.state.sender = sender
    app.state.listener = listener
    return app
