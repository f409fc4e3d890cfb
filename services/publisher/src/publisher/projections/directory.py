"""Workspaces and accounts as the publisher sees them: its projections (kept from auth's and
accounts' events), and on a miss the owning service's API, asked with the caller's own token
(a post composed a moment after an account was connected must not fail as unknown)."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from publisher.models import AccountView, WorkspaceView
from publisher.projections.repository import ViewRepository
from socialseed.errors import NotFound, ServiceUnavailable
from socialseed.projections import PROVISIONAL

log = logging.getLogger(__name__)


class WorkspaceNotFound(NotFound):
    default_detail = "Workspace not found."


class DirectoryUnavailable(ServiceUnavailable):
    default_detail = "The workspace or account directory cannot be reached; retry shortly."


@dataclass
class Directory:
    http: httpx.AsyncClient
    auth_url: str
    accounts_url: str

    async def workspace(
        self, session: AsyncSession, workspace_id: uuid.UUID, authorization: str
    ) -> WorkspaceView:
        repo = ViewRepository(session)
        found = await repo.workspace(workspace_id)
        if found is not None:
            return found
        body = await self._get(f"{self.auth_url}/api/v1/workspaces/{workspace_id}", authorization)
        if body is None:
            raise WorkspaceNotFound()
        await repo.upsert_workspace(
            {
                "id": workspace_id,
                "timezone": body["timezone"],
                "require_approval": bool(body["require_approval"]),
                "updated_at": PROVISIONAL,
            }
        )
        found = await repo.workspace(workspace_id)
        assert found is not None
        return found

    async def accounts(
        self,
        session: AsyncSession,
        workspace_id: uuid.UUID,
        ids: list[uuid.UUID],
        authorization: str,
    ) -> dict[uuid.UUID, AccountView]:
        """The workspace's accounts among ``ids`` (another workspace's are simply absent)."""
        repo = ViewRepository(session)
        found = await repo.accounts(workspace_id, ids)
        if len(found) == len(set(ids)):
            return found
        body = await self._get(
            f"{self.accounts_url}/api/v1/accounts?workspace_id={workspace_id}", authorization
        )
        for account in body or []:
            if account["id"] in {str(i) for i in ids} and uuid.UUID(account["id"]) not in found:
                await repo.upsert_account(
                    {
                        "id": uuid.UUID(account["id"]),
                        "workspace_id": workspace_id,
                        "platform": account["platform"],
                        "username": account["username"],
                        "status": account["status"],
                        "updated_at": PROVISIONAL,
                    }
                )
        return await repo.accounts(workspace_id, ids)

    async def _get(self, url: str, authorization: str) -> Any:
        """The owning service's answer; None when it says the thing is not there for this
        caller (404/403)."""
        try:
            response = await self.http.get(url, headers={"authorization": authorization})
        except httpx.HTTPError as exc:
            log.warning("directory lookup failed: %s", type(exc).__name__)
            raise DirectoryUnavailable() from exc
        if response.status_code in (403, 404):
            return None
        if response.status_code != 200:
            log.warning("directory lookup answered %s", response.status_code)
            raise DirectoryUnavailable()
        return response.json()
