"""The publisher's own tests: its domain logic against the real PostgreSQL of ``infra``, on a
database of its own (migrated once per run) so that a dispatcher claiming due targets never
touches the rows of the end-to-end stack, whose publisher shares the test database."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from publisher.app import create_app
from publisher.context import PublisherContext
from publisher.settings import PublisherSettings
from socialseed.platforms import Clock
from socialseed.stack import SERVICES, migrate
from socialseed.testing import Infra

DATABASE = "socialseed_publisher_unit"


class MovableClock:
    """The publisher's "now", moved by the test instead of slept through."""

    def __init__(self, now: datetime | None = None) -> None:
        self.now = now or datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(scope="session")
async def publisher_database(infra: Infra) -> str:
    [spec] = [s for s in SERVICES if s.name == "publisher"]
    where = {"host": infra.pg_host, "port": infra.pg_port, "database": DATABASE}
    await asyncio.to_thread(migrate, [spec], admin_url=infra.admin_url, **where)
    return spec.database_url(**where)


def settings(database_url: str, **overrides: object) -> PublisherSettings:
    values: dict[str, object] = {
        "dev_mode": True,
        "database_url": database_url,
        "kafka_enabled": False,  # commands stay in the outbox, where the tests read them
    } | overrides
    return PublisherSettings(**values)  # type: ignore[arg-type]


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock()


@asynccontextmanager
async def publisher_context(
    database_url: str, clock: Clock, **overrides: object
) -> AsyncIterator[PublisherContext]:
    """The publisher's context (not served; its dispatcher off: tests drive their own)."""
    app = create_app(settings(database_url, **overrides), clock=clock, dispatch=False)
    context: PublisherContext = app.state.publisher
    try:
        yield context
    finally:
        await context.db.dispose()


@pytest.fixture
async def ctx(publisher_database: str, clock: MovableClock) -> AsyncIterator[PublisherContext]:
    async with publisher_context(publisher_database, clock) as context:
        yield context


@pytest.fixture
async def session(ctx: PublisherContext) -> AsyncIterator[AsyncSession]:
    """One transaction, rolled back after the test: what a test writes is seen by nobody else."""
    async with ctx.db.engine.connect() as conn:
        transaction = await conn.begin()
        async with AsyncSession(bind=conn, expire_on_commit=False) as s:
            yield s
        await transaction.rollback()


async def empty_schedule(ctx: PublisherContext) -> None:
    """No posts, targets, attempts or commands, for tests that claim every due target (the database is
    this folder's alone, and its tests run one at a time)."""
    async with ctx.db.transaction() as s:
        await s.execute(
            text(
                "TRUNCATE publisher.posts, publisher.targets, publisher.attempts, publisher.outbox"
            )
        )
