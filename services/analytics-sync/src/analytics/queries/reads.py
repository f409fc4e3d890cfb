"""The one dependency of every analytics read route (``ReadsDep``): the caller's access, the
period, the ETag and the cached answer, so that a route says only what it reads.

A route asks for the objects it reads through it (``account``, ``accounts``, ``workspace``:
another workspace's ids are 404), resolves its period (``period``), and answers with
``answer(workspaces, period, params, compute)``: the ETag from the route's template, the
parsed ``params`` the answer depends on, the period and the data versions of ``workspaces``
(see ``caching``); a current ``If-None-Match`` is a 304 before ``compute`` runs, a stored
answer is served as it is."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Annotated

from cachetools import LRUCache
from fastapi import Depends, Request
from fastapi.responses import Response
from pydantic import BaseModel

from analytics.deps import Ctx
from analytics.models import Account
from analytics.queries import caching, service
from analytics.queries.periods import Period, resolve
from analytics.queries.repository import QueryRepository, retention_cutoff
from socialseed.app import ReadPrincipal, ReadSession
from socialseed.notify import NotifiedCache
from socialseed.security import Principal

#: Account -> its workspace, for the accounts read lately (``Reads.account_workspace``).
AccountOwners = LRUCache[uuid.UUID, uuid.UUID]
ACCOUNT_OWNERS_HELD = 100_000  # a few MB


class Reads:
    """One analytics read request: its repository (on the request's read session, with the
    retention cutoff of now), the caller and the answer cache."""

    def __init__(
        self, request: Request, principal: ReadPrincipal, session: ReadSession, ctx: Ctx
    ) -> None:
        self.request = request
        self.principal: Principal = principal
        self.ctx = ctx
        cutoff = retention_cutoff(ctx.clock(), ctx.settings.raw_retention_days)
        self.repo = QueryRepository(session, cutoff=cutoff)

    # Access ---------------------------------------------------------------------------------
    def workspace(self, workspace_id: uuid.UUID) -> uuid.UUID:
        """The workspace if the caller is a member (viewers and up), else WorkspaceNotFound."""
        service.require_workspace(self.principal, workspace_id)
        return workspace_id

    async def account(
        self, account_id: uuid.UUID, *, workspace_id: uuid.UUID | None = None
    ) -> Account:
        """The caller's account (in ``workspace_id`` when given), else AccountNotFound."""
        account = await service.require_account(self.repo, self.principal, account_id)
        if workspace_id is not None and account.workspace_id != workspace_id:
            raise service.AccountNotFound()
        return account

    async def account_workspace(self, account_id: uuid.UUID) -> tuple[uuid.UUID, Account | None]:
        """The workspace of the caller's account, else AccountNotFound, and the account if it
        had to be read for that. An account never moves to another workspace, so once read
        its workspace is held in memory (``analytics_account_owners``) and a repeated answer
        about it makes no query: the caller's access is then their membership, which is held
        in memory too."""
        owners: AccountOwners = self.request.app.state.analytics_account_owners
        workspace = owners.get(account_id)
        if workspace is None:
            account = await self.account(account_id)
            owners[account_id] = account.workspace_id
            return account.workspace_id, account
        if workspace not in self.principal.roles:
            raise service.AccountNotFound()  # as the scoped read would: none at all
        return workspace, None

    async def account_answer(
        self,
        account_id: uuid.UUID,
        period: Period | None,
        params: dict[str, object],
        compute: Callable[[Account], Awaitable[BaseModel]],
    ) -> Response:
        """``answer`` about one of the caller's accounts: the account is read once, and only
        when the answer is computed or its workspace is not held yet."""

        async def with_row(_: uuid.UUID, read: Account | None) -> BaseModel:
            return await compute(read or await self.account(account_id))

        return await self._about_account(account_id, period, params, with_row)

    async def owned_account_answer(
        self,
        account_id: uuid.UUID,
        period: Period | None,
        params: dict[str, object],
        compute: Callable[[service.AccountKey], Awaitable[BaseModel]],
    ) -> Response:
        """``account_answer`` for an answer that needs only the account's id and workspace:
        once its workspace is held, not even a computed answer reads the account."""
        return await self._about_account(
            account_id,
            period,
            params,
            lambda workspace, _: compute(service.AccountKey(account_id, workspace)),
        )

    async def _about_account(
        self,
        account_id: uuid.UUID,
        period: Period | None,
        params: dict[str, object],
        compute: Callable[[uuid.UUID, Account | None], Awaitable[BaseModel]],
    ) -> Response:
        """``answer`` keyed by the account, in its workspace; ``compute`` is given the
        workspace and the account row if checking access had to read it."""
        workspace, read = await self.account_workspace(account_id)
        keyed = {"account_id": account_id, **params}
        return await self.answer([workspace], period, keyed, lambda: compute(workspace, read))

    async def accounts(
        self, ids: Sequence[uuid.UUID], *, workspace_id: uuid.UUID | None = None
    ) -> list[Account]:
        """The caller's accounts, in the order asked (in ``workspace_id`` when given), else
        AccountNotFound (one foreign id is enough)."""
        accounts = await service.require_accounts(self.repo, self.principal, ids)
        if workspace_id is not None and any(a.workspace_id != workspace_id for a in accounts):
            raise service.AccountNotFound()
        return accounts

    # Period, ETag, answer -------------------------------------------------------------------
    def period(
        self, start: datetime | None, end: datetime | None, days: int | None = None
    ) -> Period:
        """``[start, end)`` with the defaults filled in (``days`` long, or the settings')."""
        return resolve(
            start,
            end,
            now=self.ctx.clock(),
            default=service.default_period(days or self.ctx.settings.default_period_days),
        )

    async def etag(
        self, workspaces: Sequence[uuid.UUID], period: Period | None, params: dict[str, object]
    ) -> str:
        """The answer's ETag, from the route and ``params``: the parsed values the answer is
        computed from (never the raw query string; see ``caching``)."""
        held: NotifiedCache[uuid.UUID, int] = self.request.app.state.analytics_versions
        versions = await held.get_many(workspaces, self.repo.data_versions)
        route: str = self.request.scope["route"].path
        return caching.etag(route, params, {w: versions.get(w, 0) for w in workspaces}, period)

    async def answer(
        self,
        workspaces: Sequence[uuid.UUID],
        period: Period | None,
        params: dict[str, object],
        compute: Callable[[], Awaitable[BaseModel]],
    ) -> Response:
        """304 for a current ``If-None-Match``; else the stored answer, or ``compute``'s."""
        tag = await self.etag(workspaces, period, params)
        answers: caching.Answers = self.request.app.state.analytics_answers
        return await answers.respond(self.request, tag, self.ctx.settings.cache_max_age, compute)


ReadsDep = Annotated[Reads, Depends()]
