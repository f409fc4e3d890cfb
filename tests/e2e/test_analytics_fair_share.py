"""Fair shares of an app-wide budget (YouTube's project units, TikTok's client, LinkedIn's
app: one count for every tenant), on real PostgreSQL: a workspace that asks for everything,
from several workers at once, gets its share while another workspace waits, and the other
still gets its own; alone, a workspace can use the whole budget.

The database is the test's own (the shares follow which workspaces have work due, so no
other test's accounts may count)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from analytics.fetching.usage import FetchUsage, fetch_budgets
from analytics.models import Account
from analytics.settings import AnalyticsSettings
from analytics.tracking.repository import TrackingRepository
from analytics.tracking.subscribers import record_connected
from socialseed.budgets.engine import Budgets, Refusal
from socialseed.budgets.rules import Rule
from socialseed.contracts import AccountConnected
from socialseed.db import Database
from socialseed.platforms.base import ListedPost
from socialseed.testing import Infra
from tests.conftest import own_database

LIMIT = 100
COST = 10  # one call's units: 10 calls fill the budget


@pytest.fixture(scope="module")
async def db_url(infra: Infra) -> str:
    return await own_database(infra, "analytics", "socialseed_fair_share_analytics")


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    database = Database(db_url, pool_size=24)
    async with database.transaction() as session:
        await session.execute(
            text(
                "TRUNCATE analytics.accounts, analytics.tracked_posts, analytics.budgets,"
                " analytics.budget_shares"
            )
        )
    yield database
    await database.dispose()


@pytest.fixture
def budgets() -> Budgets:
    rule = Rule(bucket="youtube:project", limit=LIMIT, window="calendar")
    return fetch_budgets(AnalyticsSettings(dev_mode=True, budgets={"youtube": [rule]}))


async def account(db: Database, workspace: uuid.UUID, *, due: bool) -> Account:
    """A YouTube account of ``workspace``, with two posts due now (``due``) or nothing due."""
    now = datetime.now(UTC)
    account_id = uuid.uuid4()
    async with db.transaction() as session:
        await record_connected(
            session,
            AccountConnected(
                account_id=account_id,
                workspace_id=workspace,
                platform="youtube",
                platform_user_id=f"UC{account_id.hex[:10]}",
                username=f"channel{account_id.hex[:6]}",
                reconnected=False,
                connected_at=now,
            ),
        )
        repo = TrackingRepository(session)
        acc = await repo.account(account_id)
        assert isinstance(acc, Account)
        await repo.mark_backfilled(account_id, now)
        await session.execute(
            text("UPDATE analytics.accounts SET next_sync_at = :later WHERE id = :id"),
            {"later": now + timedelta(days=1), "id": account_id},
        )
        if due:
            posts = [ListedPost(id=f"v{i}-{account_id.hex[:6]}", published_at=now) for i in (1, 2)]
            await repo.record_listing(acc, posts, now=now)
    return acc


async def charge(db: Database, budgets: Budgets, acc: Account) -> Refusal | None:
    """One call of ``COST`` for the account, in a claim's transaction of its own (a worker)."""
    now = datetime.now(UTC)
    async with db.transaction() as session:
        charges = budgets.charges("youtube", acc.platform_user_id, COST, now, acc.workspace_id)
        return await budgets.reserve(session, charges, now, FetchUsage())


async def taken(db: Database, budgets: Budgets, acc: Account) -> tuple[int, Refusal]:
    """Calls until refused: the units they took, and the refusal."""
    units = 0
    while (refusal := await charge(db, budgets, acc)) is None:
        units += COST
    return units, refusal


async def test_a_greedy_workspace_cannot_starve_another(db: Database, budgets: Budgets) -> None:
    greedy = await account(db, uuid.uuid4(), due=True)
    other = await account(db, uuid.uuid4(), due=True)

    # Twenty workers at once for the greedy workspace: each charge is counted under the
    # budget row's lock, so together they take its share and no more.
    refusals = await asyncio.gather(*(charge(db, budgets, greedy) for _ in range(20)))
    granted = sum(1 for r in refusals if r is None)
    assert granted * COST == LIMIT // 2
    shares = [r for r in refusals if r is not None]
    assert all(r.share and r.bucket == "youtube:project" for r in shares)
    # Refused for the workspace only: the budget itself is not blocked, and the workspace
    # looks again within a minute.
    assert all(r.until <= datetime.now(UTC) + budgets.recheck for r in shares)
    async with db.transaction() as session:
        blocked = await session.scalar(
            text("SELECT blocked_until FROM analytics.budgets WHERE bucket = 'youtube:project'")
        )
    assert blocked is None

    units, refusal = await taken(db, budgets, other)
    assert units == LIMIT // 2  # the other workspace's whole share was left to it
    assert not refusal.share  # then the budget is spent for everyone


async def test_a_workspace_alone_uses_the_whole_budget_until_another_waits(
    db: Database, budgets: Budgets
) -> None:
    greedy = await account(db, uuid.uuid4(), due=True)
    other = await account(db, uuid.uuid4(), due=False)  # nothing due: not waiting

    for _ in range(6):  # alone: past its half
        assert await charge(db, budgets, greedy) is None

    # Now the other workspace has work due: the greedy one, past its share, waits, and the
    # other takes what is left.
    async with db.transaction() as session:
        await TrackingRepository(session).record_listing(
            other, [ListedPost(id="late", published_at=datetime.now(UTC))], now=datetime.now(UTC)
        )
    refused = await charge(db, budgets, greedy)
    assert refused is not None and refused.share
    units, refusal = await taken(db, budgets, other)
    assert units == LIMIT - 6 * COST and not refusal.share

    # Alone again (no other workspace waits) a workspace takes everything the budget has.
    async with db.transaction() as session:
        await session.execute(text("TRUNCATE analytics.budgets, analytics.budget_shares"))
        await session.execute(
            text("UPDATE analytics.tracked_posts SET next_fetch_at = :later WHERE account_id = :a"),
            {"later": datetime.now(UTC) + timedelta(days=1), "a": other.id},
        )
    units, refusal = await taken(db, budgets, greedy)
    assert units == LIMIT and not refusal.share
