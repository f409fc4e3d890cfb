"""Async SQLAlchemy plumbing: one engine per service, one transaction per request or message."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from socialseed.errors import AppError

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def async_url(url: str) -> str:
    """Accept plain ``postgresql://`` URLs from operators; SQLAlchemy wants the driver named."""
    if url.startswith("postgresql://"):
        return "postgresql+asyncpg://" + url.removeprefix("postgresql://")
    if url.startswith("postgres://"):
        return "postgresql+asyncpg://" + url.removeprefix("postgres://")
    return url


class Database:
    """Owns the engine and session factory of one service.

    ``after_commit`` listeners let the outbox relay wake up as soon as a transaction that wrote
    events commits, instead of waiting for its next poll.
    """

    def __init__(self, url: str, *, pool_size: int = 10, echo: bool = False) -> None:
        self.engine: AsyncEngine = create_async_engine(
            async_url(url),
            pool_size=pool_size,
            max_overflow=pool_size,
            echo=echo,
            pool_pre_ping=True,
        )
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self.outbox_written = asyncio.Event()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session in one transaction: committed on success, rolled back on error.

        An ``AppError`` with ``keep_changes`` (say, a detected refresh-token replay that must
        revoke the family and still answer 401) commits before it propagates.
        """
        async with self.sessions() as session:
            await session.begin()
            try:
                yield session
            except AppError as exc:
                await (session.commit() if exc.keep_changes else session.rollback())
                raise
            except BaseException:
                await session.rollback()
                raise
            wrote_outbox = bool(session.info.pop("outbox", False))
            await session.commit()
            if wrote_outbox:
                self.outbox_written.set()

    def session_dependency(self) -> Callable[[], AsyncIterator[AsyncSession]]:
        """A FastAPI dependency (use with ``scope="function"``) yielding the request's session.

        The commit happens when the endpoint returns, before the response is sent, so a
        client never sees a success that was later rolled back.
        """

        async def dependency() -> AsyncIterator[AsyncSession]:
            async with self.transaction() as session:
                yield session

        return dependency

    async def dispose(self) -> None:
        await self.engine.dispose()
