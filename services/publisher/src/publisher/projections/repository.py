"""The publisher's copies of workspaces and accounts. Each row keeps the time of the event it
came from and an older event never overwrites a newer one (events of one account arrive in
order, but a row fetched from the owning API may race them)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from publisher.models import AccountView, WorkspaceView
from socialseed.contracts.accounts import AccountEvent

# Rows fetched from the owning service's API on a miss: provisional, any event supersedes them.
PROVISIONAL = datetime(1970, 1, 1, tzinfo=UTC)


class ViewRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def workspace(self, workspace_id: uuid.UUID) -> WorkspaceView | None:
        return await self.session.get(WorkspaceView, workspace_id)

    async def accounts(
        self, workspace_id: uuid.UUID, ids: list[uuid.UUID]
    ) -> dict[uuid.UUID, AccountView]:
        rows = await self.session.scalars(
            select(AccountView).where(
                AccountView.workspace_id == workspace_id, AccountView.id.in_(ids)
            )
        )
        return {row.id: row for row in rows}

    async def upsert_workspace(self, values: dict[str, Any]) -> None:
        await self._upsert(WorkspaceView, values)

    async def upsert_account(self, values: dict[str, Any]) -> None:
        await self._upsert(AccountView, values)

    async def rename_account(self, account_id: uuid.UUID, username: str) -> None:
        """A profile sync: only the name changes (status stays what the last event said)."""
        await self.session.execute(
            update(AccountView).where(AccountView.id == account_id).values(username=username)
        )

    async def set_account_status(self, event: AccountEvent, status: str, at: datetime) -> None:
        await self._upsert(
            AccountView,
            {
                "id": event.account_id,
                "workspace_id": event.workspace_id,
                "platform": event.platform,
                "status": status,
                "updated_at": at,
            },
            insert_only={"username": ""},
        )

    async def _upsert(
        self,
        model: type[WorkspaceView] | type[AccountView],
        values: dict[str, Any],
        *,
        insert_only: dict[str, Any] | None = None,
    ) -> None:
        """Insert, or overwrite ``values`` unless the row is newer; ``insert_only`` fills a
        new row's other columns."""
        stmt = insert(model).values(**values, **(insert_only or {}))
        table = model.__table__
        stmt = stmt.on_conflict_do_update(
            index_elements=[table.c.id],
            set_={k: stmt.excluded[k] for k in values if k != "id"},
            where=table.c.updated_at <= stmt.excluded.updated_at,
        )
        await self.session.execute(stmt)
