from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import datetime

from sqlalchemy import func, or_, select

from accounts.models import Account, AccountStatus
from socialseed.db import set_lock_timeout
from socialseed.errors import AccountNotFound
from socialseed.repository import WorkspaceScoped
from socialseed.security import Principal


class AccountRepository(WorkspaceScoped[Account]):
    """Callers read through ``readable`` (``get``, ``get_or_none``, ``for_workspace``); the
    refresher, the internal token endpoint and the CLI use ``get_unscoped``."""

    model = Account
    not_found = AccountNotFound

    async def get_unscoped(
        self, id: object, *, lock: bool = False, lock_timeout: float | None = None
    ) -> Account | None:
        """The account in any workspace (internal). ``lock_timeout``: give up waiting for
        another transaction's row lock after this many seconds (``LockNotAvailable``), for
        the rest of this transaction."""
        if lock_timeout is not None:
            await set_lock_timeout(self.session, lock_timeout)
        return await super().get_unscoped(id, lock=lock)

    async def for_workspace(self, principal: Principal, workspace_id: uuid.UUID) -> list[Account]:
        return await self.all(
            self.readable(principal)
            .where(Account.workspace_id == workspace_id)
            .order_by(Account.connected_at, Account.id)
        )

    async def by_identity(
        self, workspace_id: uuid.UUID, platform: str, platform_user_id: str
    ) -> Account | None:
        """The workspace's account of this platform user, locked (the OAuth callback, whose
        workspace comes from the signed state)."""
        return await self.one_or_none(
            self.statement().where(
                Account.workspace_id == workspace_id,
                Account.platform == platform,
                Account.platform_user_id == platform_user_id,
            ),
            lock=True,
        )

    async def refresh_candidates(
        self, before: datetime, now: datetime, limit: int, *, exclude: Collection[uuid.UUID] = ()
    ) -> list[Account]:
        """Active accounts whose token expires before ``before`` and that the platform is not
        rate-limiting; rows another refresher holds right now are skipped."""
        result = await self.session.execute(
            select(Account)
            .where(
                Account.status == AccountStatus.ACTIVE,
                Account.token_expires_at.is_not(None),
                Account.token_expires_at < before,
                or_(Account.rate_limited_until.is_(None), Account.rate_limited_until < now),
                Account.id.not_in(exclude),
            )
            # failing accounts go behind healthy ones so they cannot starve them
            .order_by(Account.consecutive_failures, Account.token_expires_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return list(result.scalars())

    async def sync_due(self, synced_before: datetime, now: datetime, limit: int) -> list[uuid.UUID]:
        result = await self.session.execute(
            select(Account.id)
            .where(
                Account.status == AccountStatus.ACTIVE,
                or_(Account.last_synced_at.is_(None), Account.last_synced_at < synced_before),
                or_(Account.rate_limited_until.is_(None), Account.rate_limited_until < now),
            )
            .order_by(Account.last_synced_at.nulls_first())
            .limit(limit)
        )
        return list(result.scalars())

    async def count_all(self) -> int:
        """Every account of every workspace (for a maintenance job's progress)."""
        return int((await self.session.execute(select(func.count(Account.id)))).scalar_one())

    async def batch_after(self, after: uuid.UUID | None, limit: int) -> list[Account]:
        """The next ``limit`` accounts by id after ``after``, locked (walks every row once)."""
        query = select(Account).order_by(Account.id).limit(limit).with_for_update()
        if after is not None:
            query = query.where(Account.id > after)
        return list((await self.session.execute(query)).scalars())
