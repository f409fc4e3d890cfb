"""The accounts service: connected social accounts, OAuth connect, encrypted token vault."""

from __future__ import annotations

import functools
from pathlib import Path

from fastapi import FastAPI

from accounts.background import run_background
from accounts.cipher import TokenCipher
from accounts.connections.endpoints import internal
from accounts.connections.endpoints import router as accounts_router
from accounts.connections.repository import account_facts
from accounts.context import AccountsContext
from accounts.models import inbox, member_changes, outbox
from accounts.oauth.endpoints import router as oauth_router
from accounts.settings import AccountsSettings
from socialseed.app import create_service_app
from socialseed.bus import EventConsumer, Inbox
from socialseed.clients import http_client
from socialseed.membership import track_member_changes
from socialseed.outbox import Outbox
from socialseed.platforms import Clock, build_providers
from socialseed.platforms.parsing import utcnow
from socialseed.runtime import service_runtime

MIGRATIONS = Path(__file__).with_name("migrations")


def create_app(
    settings: AccountsSettings | None = None,
    *,
    background: bool = True,
    clock: Clock = utcnow,
) -> FastAPI:
    """``clock`` is the service's "now" (token due dates and expiries, sync times, OAuth
    state expiry); tests pass one they can advance instead of sleeping."""
    settings = settings or AccountsSettings()
    http = http_client(settings.platforms.timeout)
    runtime = service_runtime(
        settings, outbox=outbox, client_id="accounts", http=http, member_changes=member_changes
    )
    if runtime.facts is not None:
        runtime.facts.add(account_facts)
    if runtime.broker is not None:
        consumer = EventConsumer(
            runtime.broker, runtime.database, Inbox(inbox), group_id="accounts"
        )
        track_member_changes(consumer, member_changes)
        runtime.consumers.append(consumer)
    ctx = AccountsContext(
        runtime=runtime,
        cipher=TokenCipher(settings.token_keys),
        outbox=Outbox(outbox, source="/socialseed/accounts"),
        providers=build_providers(
            settings.platforms, http, clock=clock, service=settings.service_name
        ),
        clock=clock,
    )
    if background:
        runtime.background.append(functools.partial(run_background, ctx))
    app = create_service_app(
        runtime, title="SocialSeed accounts", routers=[accounts_router, oauth_router, internal]
    )
    app.state.accounts = ctx
    return app
