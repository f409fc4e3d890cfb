"""Account events, written to the outbox in the caller's transaction, keyed by account."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from accounts.models import Account
from socialseed.contracts.accounts import AccountEvent
from socialseed.outbox import Outbox

E = TypeVar("E", bound=AccountEvent)


async def emit(
    session: AsyncSession, outbox: Outbox, account: Account, event: type[E], **fields: Any
) -> None:
    await outbox.add(
        session,
        event(
            account_id=account.id,
            workspace_id=account.workspace_id,
            platform=account.platform,
            **fields,
        ),
        key=str(account.id),
    )
