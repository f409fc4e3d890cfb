"""The publisher service: posts, approval, scheduling and publishing."""

from __future__ import annotations

import functools
from pathlib import Path

import httpx
from fastapi import FastAPI
from faststream.kafka import KafkaBroker
from sqlalchemy.ext.asyncio import AsyncSession

from publisher.context import PublisherContext
from publisher.directory.service import Directory
from publisher.directory.subscribers import track_directory
from publisher.idempotency.service import run_purge as run_idempotency_purge
from publisher.media.endpoints import files as media_files
from publisher.media.endpoints import router as media_router
from publisher.media.probe import ProbeLimits, Prober
from publisher.media.storage import LocalFiles, MediaStore
from publisher.models import inbox, member_changes, outbox
from publisher.posts.endpoints import router as posts_router
from publisher.posts.service import posts
from publisher.publishing.comments import Commenter
from publisher.publishing.dispatcher import Dispatcher
from publisher.publishing.repository import target_facts
from publisher.publishing.warmup import TokenWarmup
from publisher.publishing.worker import Worker
from publisher.settings import PublisherSettings
from socialseed.app import create_service_app
from socialseed.bus import EventConsumer, EventMeta, Inbox
from socialseed.clients import http_client
from socialseed.contracts import PostPublishRequested
from socialseed.membership import track_member_changes
from socialseed.outbox import Outbox
from socialseed.platforms import PROVIDERS, Clock, Platform, build_providers
from socialseed.platforms.parsing import utcnow
from socialseed.runtime import Runtime, service_runtime
from socialseed.vault import TokenVault

MIGRATIONS = Path(__file__).with_name("migrations")


def create_app(
    settings: PublisherSettings | None = None, *, clock: Clock = utcnow, dispatch: bool = True
) -> FastAPI:
    """``dispatch``: run the dispatcher in this process (tests drive their own)."""
    settings = settings or PublisherSettings()
    http = http_client(settings.platforms.timeout)
    runtime = service_runtime(
        settings, outbox=outbox, client_id="publisher", http=http, member_changes=member_changes
    )
    ctx = PublisherContext(
        runtime=runtime,
        outbox=Outbox(outbox, source="/socialseed/publisher"),
        directory=Directory(http, settings.auth_url, settings.accounts_url),
        media=MediaStore(
            LocalFiles(Path(settings.media_dir)),
            settings.public_media_url,
            settings.media_url_key,
            settings.media_url_ttl,
        ),
        prober=Prober(
            ProbeLimits(
                memory_bytes=settings.probe_memory_bytes,
                cpu_seconds=settings.probe_cpu_seconds,
                timeout=settings.probe_timeout,
            ),
            settings.probe_concurrency,
        ),
        clock=clock,
    )
    if runtime.facts is not None:
        runtime.facts.add(target_facts)
    if runtime.broker is not None:
        _consumers(runtime, runtime.broker, ctx, http)
    if dispatch:
        runtime.background.append(Dispatcher(ctx).run)
    runtime.background.append(functools.partial(run_idempotency_purge, runtime.database, clock))
    app = create_service_app(
        runtime,
        title="SocialSeed publisher",
        routers=[posts_router, media_router, media_files],
        # Uploads: the largest file taken, plus room for the multipart framing. The gateway
        # keeps its own, lower ceilings for the JSON API.
        max_body_bytes=max(settings.max_image_bytes, settings.max_video_bytes) + 64 * 1024,
    )
    app.state.publisher = ctx
    return app


def _platform_clients(settings: PublisherSettings) -> dict[Platform, httpx.AsyncClient]:
    # As many kept-alive connections per platform as publishes may be in flight.
    return {
        platform: http_client(settings.platforms.timeout, connections=settings.publish_concurrency)
        for platform in PROVIDERS
    }


def _consumers(
    runtime: Runtime[PublisherSettings],
    broker: KafkaBroker,
    ctx: PublisherContext,
    http: httpx.AsyncClient,
) -> None:
    """The projections' consumer, and the workers' consumer of publish commands."""
    settings, db = runtime.settings, runtime.database
    directory = EventConsumer(broker, db, Inbox(inbox), group_id=settings.consumer_group)
    track_member_changes(directory, member_changes)
    track_directory(
        directory,
        on_disconnect=lambda session, event: posts.cancel_for_account(session, ctx, event),
    )
    # The platforms' calls get pooled clients of their own, one per platform, with as many
    # kept-alive connections as publishes may be in flight: a connection (its TCP and TLS
    # handshakes) is made once and reused, not per call.
    clients = _platform_clients(settings)
    runtime.http_clients += clients.values()  # traced like the service's own client
    providers = {
        platform: build_providers(
            settings.platforms, client, clock=ctx.clock, service=settings.service_name
        )[platform]
        for platform, client in clients.items()
    }
    vault = TokenVault(http, settings.accounts_url, settings.vault_token, clock=ctx.clock)
    worker = Worker(ctx, providers, vault)
    # First comments: a small step of their own after the publish, woken by the worker's
    # record of a published post that asks for one (``publishing/comments.py``).
    commenter = Commenter(ctx, providers, vault)
    worker.on_comments_due = commenter.wake
    runtime.background.append(commenter.run)
    if settings.token_warmup_ahead > 0:
        runtime.background.append(TokenWarmup(ctx, vault).run)
    commands = EventConsumer(
        broker, db, Inbox(inbox), group_id=f"{settings.consumer_group}-workers"
    )

    # Commands come in batches (a dispatcher's turn hands out hundreds at once): one inbox
    # insert for the batch, and the worker claims the batch's targets together.
    @commands.batch_handler(
        PostPublishRequested,
        max_records=settings.publish_concurrency,
        timeout_ms=settings.publish_batch_wait_ms,
    )
    async def on_publish(
        events: list[tuple[PostPublishRequested, EventMeta]], _: AsyncSession
    ) -> None:
        await worker.accept_many([event for event, _ in events])

    async def close_clients() -> None:
        for provider in providers.values():
            await provider.client.aclose()  # type: ignore[attr-defined]

    runtime.consumers += [directory, commands]
    runtime.cleanups.insert(0, worker.close)
    runtime.cleanups.append(close_clients)
