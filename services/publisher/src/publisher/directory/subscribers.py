"""Keep the publisher's copies of workspaces and accounts from auth's and accounts' events. A
disconnected account's scheduled targets are cancelled, with the reason, in the same
transaction."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from publisher.directory.repository import ViewRepository
from socialseed.bus import EventConsumer, EventMeta
from socialseed.contracts import (
    AccountConnected,
    AccountDisconnected,
    AccountReauthRequired,
    AccountUpdated,
    WorkspaceUpdated,
)
from socialseed.projections import account_values

#: What else happens when an account leaves the workspace (the posts module cancels targets).
OnDisconnect = Callable[[AsyncSession, AccountDisconnected], Awaitable[None]]


def track_directory(consumer: EventConsumer, on_disconnect: OnDisconnect) -> None:
    @consumer.handler(WorkspaceUpdated)
    async def on_workspace(event: WorkspaceUpdated, session: AsyncSession, _: EventMeta) -> None:
        await ViewRepository(session).upsert_workspace(
            {
                "id": event.workspace_id,
                "timezone": event.timezone,
                "require_approval": event.require_approval,
                "updated_at": event.updated_at,
            }
        )

    @consumer.handler(AccountConnected)
    async def on_connected(event: AccountConnected, session: AsyncSession, _: EventMeta) -> None:
        await ViewRepository(session).upsert_account(
            account_values(event, event.connected_at, username=event.username, status="active")
        )

    @consumer.handler(AccountUpdated)
    async def on_updated(event: AccountUpdated, session: AsyncSession, _: EventMeta) -> None:
        await ViewRepository(session).rename_account(event.account_id, event.username)

    @consumer.handler(AccountReauthRequired)
    async def on_reauth(event: AccountReauthRequired, session: AsyncSession, _: EventMeta) -> None:
        await ViewRepository(session).set_account_status(event, "reauth_required", event.at)

    @consumer.handler(AccountDisconnected)
    async def on_disconnected(
        event: AccountDisconnected, session: AsyncSession, _: EventMeta
    ) -> None:
        await ViewRepository(session).set_account_status(event, "disconnected", event.at)
        await on_disconnect(session, event)
