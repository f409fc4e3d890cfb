from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import datetime

from prometheus_client.core import Metric
from sqlalchemy import ColumnElement, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from accounts.models import Account, AccountStatus
from socialseed.db import set_lock_timeout
from socialseed.errors import AccountNotFound
from socialseed.metrics import gauge
from socialseed.platforms import Platform
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

    async def expiring_grants(
        self, now: datetime, before: datetime, limit: int
    ) -> list[tuple[Account, datetime]]:
        """Active accounts whose grant (``grant_end``) ends between ``now`` and ``before`` and
        that were not warned of that end yet, with the end; locked, others' skipped."""
        end = grant_end()
        result = await self.session.execute(
            select(Account, end)
            .where(
                Account.status == AccountStatus.ACTIVE,
                end > now,
                end < before,
                Account.expiry_warned_for.is_distinct_from(end),
            )
            .order_by(end)
            .limit(limit)
            .with_for_update(of=Account, skip_locked=True)
        )
        # ``end > now`` in the query: every end here is known.
        return [(account, ends) for account, ends in result.tuples() if ends is not None]

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


async def account_facts(conn: AsyncConnection, _now: datetime) -> list[Metric]:
    """``socialseed_accounts{platform,status}``: connected accounts by platform and status
    (every pair present, 0 when none, so a rise from nothing is a rise)."""
    rows = await conn.execute(
        select(Account.platform, Account.status, func.count()).group_by(
            Account.platform, Account.status
        )
    )
    counts = {(platform, status): n for platform, status, n in rows}
    accounts = gauge(
        "socialseed_accounts",
        "Connected accounts by platform and status (reauth_required: the user must reconnect)",
        ["platform", "status"],
    )
    for platform in Platform:
        for status in AccountStatus:
            accounts.add_metric([platform.value, status.value], counts.get((platform, status), 0))
    return [accounts]


def grant_end() -> ColumnElement[datetime | None]:
    """When an account's grant runs out unless a person connects it again: its refresh
    token's own end, or, with no refresh token, its access token's (null: no known end)."""
    return case(
        (Account.refresh_token_enc.is_not(None), Account.refresh_expires_at),
        else_=Account.token_expires_at,
    )
