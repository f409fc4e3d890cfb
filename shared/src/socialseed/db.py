"""Async SQLAlchemy plumbing: one engine per service, one transaction per request or message."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import event, func, select
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection

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


LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL's SQLSTATE when a lock_timeout expired


async def set_lock_timeout(session: AsyncSession, seconds: float) -> None:
    """For the rest of the session's transaction, a wait for a lock gives up after
    ``seconds`` (``lock_not_available``, see ``is_lock_timeout``)."""
    await session.execute(select(func.set_config("lock_timeout", f"{int(seconds * 1000)}ms", True)))


def is_lock_timeout(exc: DBAPIError) -> bool:
    return getattr(exc.orig, "sqlstate", None) == LOCK_NOT_AVAILABLE


def _discard_closed(
    _dbapi_connection: object, record: ConnectionPoolEntry, _proxy: PoolProxiedConnection
) -> None:
    """A pooled connection whose server side is gone is replaced, without a round trip
    (the pool catches ``DisconnectionError`` and checks out a fresh connection)."""
    driver = record.driver_connection
    if driver is not None and driver.is_closed():
        raise DisconnectionError("the server closed this connection")


class Database:
    """Owns the engine and session factory of one service.

    ``after_commit`` listeners let the outbox relay wake up as soon as a transaction that wrote
    events commits, instead of waiting for its next poll.
    """

    def __init__(
        self, url: str, *, pool_size: int = 20, echo: bool = False, name: str = "socialseed"
    ) -> None:
        """``pool_size``: the most connections the process holds. Each is opened when first
        needed and kept: no overflow. An overflow connection is closed as soon as it is
        returned to a pool holding ``pool_size`` idle ones, which under a steady load is all
        the time: each new one a TCP connect, an SSL probe and a PostgreSQL backend forked,
        its caches cold, its prepared statements gone (50 requests in flight at the analytics
        workers opened 5 to 17 a second that way)."""
        self.engine: AsyncEngine = create_async_engine(
            async_url(url),
            pool_size=pool_size,
            max_overflow=0,
            echo=echo,
            # No pre-ping: SQLAlchemy's for asyncpg is three round trips (BEGIN, a query,
            # ROLLBACK) on every checkout, as many as a cached read makes in all. A
            # connection the server closed (a restart, a cut network) is seen by asyncpg as
            # soon as the event loop reads its EOF, and ``_discard_closed`` drops it at
            # checkout; one that dies mid-query is invalidated by SQLAlchemy's disconnect
            # handling.
            pool_pre_ping=False,
            # Each connection names its process (``pg_stat_activity.application_name``): which
            # worker holds a lock or runs a slow query is one look away.
            connect_args={"server_settings": {"application_name": f"{name}/{os.getpid()}"}},
        )
        event.listen(self.engine.sync_engine, "checkout", _discard_closed)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        # The same pool, each statement its own transaction (read-only requests).
        self.autocommit: AsyncEngine = self.engine.execution_options(isolation_level="AUTOCOMMIT")
        self.outbox_written = asyncio.Event()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session in one transaction: committed on success, rolled back on any error.

        A failed request whose side effects must survive (an audit row, a revoked token family)
        writes them in a transaction of their own. Every commit that wrote outbox rows wakes the
        relay.
        """
        async with self.sessions() as session:
            await session.begin()
            try:
                yield session
            except BaseException:
                await session.rollback()
                raise
            wrote_outbox = bool(session.info.pop("outbox", False))
            await session.commit()
            if wrote_outbox:
                self.outbox_written.set()

    async def dispose(self) -> None:
        await self.engine.dispose()
