"""Tracking from other services' events: workspaces' timezones, connected accounts (tracked,
their history listed), posts published through SocialSeed (tracked with the publisher's ids),
disconnected accounts (tracking off, history kept). Redeliveries are absorbed by the inbox."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from analytics.context import AnalyticsContext
from analytics.fetching.schedule import account_phase, first_fetch
from analytics.models import AccountStatus
from analytics.tracking.repository import TrackingRepository
from socialseed.bus import EventConsumer, EventMeta
from socialseed.contracts import (
    AccountConnected,
    AccountDisconnected,
    AccountReauthRequired,
    AccountUpdated,
    PostPublished,
    WorkspaceUpdated,
)
from socialseed.projections import account_values


def track_accounts(consumer: EventConsumer, ctx: AnalyticsContext) -> None:
    first_after = ctx.settings.first_fetch_after

    @consumer.handler(WorkspaceUpdated)
    async def on_workspace(event: WorkspaceUpdated, session: AsyncSession, _: EventMeta) -> None:
        await TrackingRepository(session).upsert_workspace(
            event.workspace_id, event.name, event.timezone, event.updated_at
        )

    @consumer.handler(AccountConnected)
    async def on_connected(event: AccountConnected, session: AsyncSession, _: EventMeta) -> None:
        await record_connected(session, event)

    @consumer.handler(AccountUpdated)
    async def on_updated(event: AccountUpdated, session: AsyncSession, _: EventMeta) -> None:
        await TrackingRepository(session).rename_account(event.account_id, event.username)

    @consumer.handler(AccountReauthRequired)
    async def on_reauth(event: AccountReauthRequired, session: AsyncSession, _: EventMeta) -> None:
        await TrackingRepository(session).set_account_status(
            account_values(event, event.at), AccountStatus.REAUTH_REQUIRED
        )

    @consumer.handler(AccountDisconnected)
    async def on_disconnected(
        event: AccountDisconnected, session: AsyncSession, _: EventMeta
    ) -> None:
        await TrackingRepository(session).set_account_status(
            account_values(event, event.at), AccountStatus.DISCONNECTED, stop=True
        )

    # A publisher's burst reaches analytics as a burst: one statement per batch of posts.
    @consumer.batch_handler(PostPublished, max_records=500, timeout_ms=50)
    async def on_published(
        events: list[tuple[PostPublished, EventMeta]], session: AsyncSession
    ) -> None:
        await TrackingRepository(session).track_published_many(
            [
                {
                    "account_id": event.account_id,
                    "workspace_id": event.workspace_id,
                    "platform": event.platform,
                    "platform_post_id": event.platform_post_id,
                    "publisher_post_id": event.post_id,
                    "publisher_target_id": event.target_id,
                    "published_at": event.published_at,
                    "url": event.url,
                    # Not at once: a burst's posts of one account come due together, later.
                    "next_fetch_at": first_fetch(
                        event.published_at, first_after, account_phase(event.account_id)
                    ),
                }
                for event, _ in events
            ]
        )


async def record_connected(session: AsyncSession, event: AccountConnected) -> None:
    """An account connected (or reconnected): projected, and marked for its backfill."""
    await TrackingRepository(session).connect_account(
        account_values(
            event,
            event.connected_at,
            platform_user_id=event.platform_user_id,
            username=event.username,
        )
    )
