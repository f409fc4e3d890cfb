"""The publisher's copies of workspaces and accounts (``socialseed.projections``: an older
event never overwrites a newer one)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from publisher.models import AccountView, WorkspaceView
from socialseed.contracts.accounts import AccountEvent
from socialseed.projections import upsert_newer
from socialseed.repository import RepositoryBase


class ViewRepository(RepositoryBase):
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
        await upsert_newer(self.session, model.__table__, values, insert_only=insert_only)  # type: ignore[arg-type]
