"""Copies of other services' objects kept from their events (a service's projections of
workspaces and accounts). Each row keeps the time of the event it came from in ``updated_at``
and an older event never overwrites a newer one: events of one key arrive in order, but a row
fetched from the owning API on a miss may race them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from socialseed.contracts.accounts import AccountEvent

# Rows fetched from the owning service's API on a miss: provisional, any event supersedes them.
PROVISIONAL = datetime(1970, 1, 1, tzinfo=UTC)


async def upsert_newer(
    session: AsyncSession,
    table: Table,
    values: dict[str, Any],
    *,
    insert_only: dict[str, Any] | None = None,
) -> bool:
    """Insert the row keyed by ``values["id"]``, or overwrite ``values`` unless the stored row
    is newer (``updated_at``); ``insert_only`` fills a new row's other columns. False when the
    stored row was newer (nothing written)."""
    stmt = insert(table).values(**values, **(insert_only or {}))
    upsert = stmt.on_conflict_do_update(
        index_elements=[table.c.id],
        set_={k: stmt.excluded[k] for k in values if k != "id"},
        where=table.c.updated_at <= stmt.excluded.updated_at,
    ).returning(table.c.id)
    return (await session.execute(upsert)).first() is not None


def account_values(event: AccountEvent, at: datetime, **values: Any) -> dict[str, Any]:
    """An account projection's row from one of accounts' events, stamped ``at``."""
    return {
        "id": event.account_id,
        "workspace_id": event.workspace_id,
        "platform": event.platform,
        "updated_at": at,
        **values,
    }
