"""Workspaces and accounts as the publisher sees them, asked of the owning service's API with
the caller's own token. Accounts come from the projection kept from accounts' events, and from
accounts' API on a miss (a post composed a moment after an account was connected must not fail
as unknown). A workspace's settings (time zone, ``require_approval``) are always asked of auth,
their source of truth: an approval switch takes effect for the next post, not when its event
arrives."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from publisher.directory.repository import ViewRepository
from publisher.models import AccountView
from socialseed.errors import ServiceUnavailable, WorkspaceNotFound
from socialseed.projections import PROVISIONAL

log = logging.getLogger(__name__)


class DirectoryUnavailable(ServiceUnavailable):
    default_detail = "The workspace or account directory cannot be reached; retry shortly."


@dataclass(frozen=True)
class Workspace:
    """What composing a post needs of its workspace."""

    id: uuid.UUID
    timezone: str
    require_approval: bool


@dataclass
class Directory:
    http: httpx.AsyncClient
    auth_url: str
    accounts_url: str

    async def workspace(self, workspace_id: uuid.UUID, authorization: str) -> Workspace:
        """The workspace's settings as auth has them now, asked with the caller's token.

        Never from the projection: a post composed right after an admin switched
        ``require_approval`` on must wait for approval, and the ``workspace.updated`` event
        may still be on its way. Auth unreachable: 503 ``DirectoryUnavailable`` (fail closed;
        an old copy could let a post skip approval)."""
        body = await self._get(f"{self.auth_url}/api/v1/workspaces/{workspace_id}", authorization)
        if body is None:
            raise WorkspaceNotFound()
        return Workspace(workspace_id, str(body["timezone"]), bool(body["require_approval"]))

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
