"""The budget engine's SQL layer on real PostgreSQL (the publisher's migrated schema; every test
on buckets of its own): it decides as the pure arithmetic does, replicas racing for one budget
take exactly its limit, a refusal gives back what the call took before it, and the platform's
signals correct and block buckets."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import MetaData, select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.tests.budget_model import START, reserve_all
from socialseed.budgets.engine import Budgets, Refusal
from socialseed.budgets.rules import Rule
from socialseed.budgets.tables import budget_tables
from socialseed.db import Database
from socialseed.platforms.base import RateSignal
from socialseed.testing import Infra

TABLES = budget_tables(MetaData(schema="publisher"))


@dataclass
class Record:
    """What a service would answer (``Usage``): its own record of calls, workspaces waiting."""

    times: list[datetime] = field(default_factory=list)
    others_waiting: int = 0

    async def waiting(
        self, session: AsyncSession, platform: str, workspace_id: uuid.UUID, now: datetime
    ) -> int:
        return self.others_waiting

    async def nth_latest(self, session: AsyncSession, n: int, since: datetime) -> datetime | None:
        recent = sorted((t for t in self.times if t > since), reverse=True)
        return recent[n - 1] if len(recent) >= n else None


@pytest.fixture(scope="module")
async def replicas(infra: Infra) -> AsyncIterator[tuple[Database, Database]]:
    a, b = (Database(infra.service_url("publisher"), pool_size=16) for _ in range(2))
    yield a, b
    await a.dispose()
    await b.dispose()


def engine(*rules: Rule) -> Budgets:
    return Budgets(TABLES, {"x": list(rules)}, recheck=timedelta(minutes=1))


def bucket() -> str:
    return f"test:{uuid.uuid4().hex}:{{user}}"


async def reserve(
    db: Database, budgets: Budgets, cost: int, now: datetime, usage: Record | None = None
) -> Refusal | None:
    """One call's reservation in a claim's transaction of its own (a worker)."""
    async with db.transaction() as session:
        charges = budgets.charges("x", "u1", cost, now, uuid.uuid4())
        return await budgets.reserve(session, charges, now, usage or Record())


async def used(db: Database, name: str) -> int | None:
    async with db.transaction() as session:
        b = TABLES.budgets.c
        return await session.scalar(select(b.used).where(b.bucket == name))


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    window=st.sampled_from(["fixed", "sliding", "calendar"]),
    limit=st.integers(1, 40),
    calls=st.lists(
        st.tuples(st.sampled_from([0.0, 0.01, 0.1, 0.3, 1.1]), st.integers(1, 5)), max_size=25
    ),
)
async def test_the_sql_layer_decides_as_the_arithmetic(
    replicas: tuple[Database, Database], window: str, limit: int, calls: list[tuple[float, int]]
) -> None:
    rule = Rule(
        bucket=bucket(),
        limit=limit,
        every=timedelta(hours=1),
        window=window,  # type: ignore[arg-type]
        timezone="America/Los_Angeles",
        largest_call=max(1, limit // 5),
    )
    budgets, now, accepted = engine(rule), START, []
    for delay, size in calls:
        now += rule.every * delay
        cost = min(size, rule.largest_call)
        if await reserve(replicas[0], budgets, cost, now) is None:
            accepted.append((now, cost))
    assert accepted == [(r.at, r.cost) for r in reserve_all(rule, calls, START)]


async def test_replicas_racing_for_a_budget_take_exactly_its_limit(
    replicas: tuple[Database, Database],
) -> None:
    rule = Rule(bucket=bucket(), limit=7, every=timedelta(hours=1))
    budgets, now = engine(rule), START
    refusals = await asyncio.gather(*(reserve(replicas[i % 2], budgets, 1, now) for i in range(30)))
    assert sum(1 for r in refusals if r is None) == 7
    assert {r.why for r in refusals if r is not None} == {"spent"}
    assert await used(replicas[0], rule.key("u1")) == 7


async def test_a_refusal_gives_back_what_the_call_took_before_it(
    replicas: tuple[Database, Database],
) -> None:
    roomy = Rule(bucket=bucket(), limit=100, every=timedelta(hours=1))
    tight = Rule(bucket=bucket(), limit=2, every=timedelta(hours=1), scope="account")
    budgets, db = engine(roomy, tight), replicas[0]
    assert await reserve(db, budgets, 2, START) is None
    refusal = await reserve(db, budgets, 1, START)
    assert refusal is not None and refusal.bucket == tight.key("u1")
    assert refusal.until == START + timedelta(hours=1)
    assert await used(db, roomy.key("u1")) == 2  # not 3: the refused call took nothing


async def test_a_rolling_cap_counts_the_callers_record_and_a_block_holds_it(
    replicas: tuple[Database, Database],
) -> None:
    cap = Rule(
        bucket=bucket(), limit=3, every=timedelta(minutes=15), window="rolling", scope="account"
    )
    budgets, db = engine(cap), replicas[0]
    record = Record([START - timedelta(minutes=m) for m in (1, 2, 20)])
    assert await reserve(db, budgets, 1, START, record) is None  # two in the last 15 minutes
    record.times.append(START)
    refusal = await reserve(db, budgets, 1, START, record)
    assert refusal is not None and refusal.why == "spent"
    assert refusal.until == START - timedelta(minutes=2) + cap.every  # the 3rd latest leaves
    async with db.transaction() as session:
        await budgets.block(session, cap.key("u1"), "x", START + timedelta(hours=1), "429")
    blocked = await reserve(db, budgets, 1, START, Record())
    assert blocked is not None and blocked.why == "blocked"
    assert blocked.until == START + timedelta(hours=1)


async def test_the_platforms_signals_correct_the_count_and_close_a_bucket(
    replicas: tuple[Database, Database],
) -> None:
    x = Rule(bucket=bucket(), limit=50, every=timedelta(minutes=15), scope="account")
    meta = Rule(bucket=bucket().removesuffix(":{user}"), limit=1, window="signals")
    budgets, db = engine(x, meta), replicas[0]
    assert await reserve(db, budgets, 1, START) is None
    async with db.transaction() as session:
        said = [
            RateSignal(x.key("u1"), limit=50, remaining=5),  # X's remaining replaces our 1
            RateSignal(meta.bucket, used_percent=91.0),  # past the threshold: stops
        ]
        await budgets.apply(session, "x", said, START)
        assert await budgets.closed_platforms(session, START) == ["x"]
    assert await used(db, x.key("u1")) == 45
    refusal = await reserve(db, budgets, 1, START + timedelta(minutes=1))
    assert refusal is not None and refusal.bucket == meta.bucket and refusal.why == "blocked"
    assert refusal.until == START + budgets.signals.cooloff
    later = START + budgets.signals.cooloff
    assert await reserve(db, budgets, 5, later) is None  # 45 + 5: the last units
    assert await reserve(db, budgets, 1, later) is not None
