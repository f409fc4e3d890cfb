from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.models import Account, AccountStatus
from socialseed.db import set_lock_timeout


class AccountRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(
        self,
        account_id: uuid.UUID,
        *,
        workspaces: Sequence[uuid.UUID] | None = None,
        lock: bool = False,
        lock_timeout: float | None = None,
    ) -> Account | None:
        """The account, if it belongs to one of ``workspaces`` (None: no scoping, internal).
        ``lock_timeout``: give up waiting for another transaction's row lock after this many
        seconds (``LockNotAvailable``), for the rest of this transaction."""
        if lock_timeout is not None:
            await set_lock_timeout(self.session, lock_timeout)
        query = select(Account).where(Account.id == account_id)
        if workspaces is not None:
            query = query.where(Account.workspace_id.in_(workspaces))
        if lock:
            query = query.with_for_update()
        return (await self.session.execute(query)).scalar_one_or_none()

    async def for_workspace(self, workspace_id: uuid.UUID) -> list[Account]:
        result = await self.session.execute(
            select(Account)
            .where(Account.workspace_id == workspace_id)
            .order_by(Account.connected_at, Account.id)
        )
        return list(result.scalars())

    async def by_identity(
        self, workspace_id: uuid.UUID, platform: str, platform_user_id: str
    ) -> Account | None:
        result = await self.session.execute(
            select(Account)
            .where(
                Account.workspace_id == workspace_id,
                Account.platform == platform,
                Account.platform_user_id == platform_user_id,
            )
            .with_for_update()
        )
        return result.scalar_one_or_none()

    async def add(self, account: Account) -> Account:
        self.session.add(account)
        await self.session.flush()
        return account

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

    async def batch_after(self, after: uuid.UUID | None, limit: int) -> list[Account]:
        """The next ``limit`` accounts by id after ``after``, locked (walks every row once)."""
        query = select(Account).order_by(Account.id).limit(limit).with_for_update()
        if after is not None:
            query = query.where(Account.id > after)
        return list((await self.session.execute(query)).scalars())
