"""Process-memory caches of small, often read rows, kept right by PostgreSQL ``LISTEN/NOTIFY``.

A writer sends ``pg_notify(channel, key)`` in the same transaction as the change, so the
notification is delivered when (and only if) the change commits. ``Listener`` holds one
dedicated connection (asyncpg's, outside the pool) that listens on the channels of its
``NotifiedCache`` objects; a notification drops that key from them, and the next read loads
it again.

Correctness before speed:
- While the listener is not connected (starting, or its connection lost), every cache is
  empty and stores nothing: reads go to the database, as without a cache. A lost connection
  (the server closed it, or a heartbeat got no answer within ``heartbeat`` seconds) drops
  every cache at once, because notifications sent meanwhile are lost; the listener connects
  and listens again, and only then do the caches fill again.
- A value loaded while a notification for its key arrived, or across a loss of the
  connection, is not stored (it may predate the change).
- What a reader sees lags a committed change by the notification's delay: the time the
  server takes to deliver it and this process's event loop to read it (milliseconds; see
  the docs of the service that uses it).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Hashable, Iterable, Mapping
from typing import Generic, TypeVar

import asyncpg
from cachetools import LRUCache

log = logging.getLogger(__name__)

#: The listener connection's ``application_name`` (how an operator finds it in pg_stat_activity).
APPLICATION = "socialseed-notify"

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


def asyncpg_dsn(url: str) -> str:
    """A SQLAlchemy URL (``postgresql+asyncpg://``) as asyncpg's DSN."""
    for prefix in ("postgresql+asyncpg://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql://" + url.removeprefix(prefix)
    return url


class _Load:
    """One load in flight: made stale by a notification for its key."""

    __slots__ = ("stale",)

    def __init__(self) -> None:
        self.stale = False


class NotifiedCache(Generic[K, V]):
    """Values by key, dropped when ``channel`` names their key (``parse`` turns the
    notification's payload into a key). Bounded (least recently used out)."""

    def __init__(
        self,
        listener: Listener,
        channel: str,
        parse: Callable[[str], K],
        *,
        maxsize: int = 10_000,
    ) -> None:
        self.listener = listener
        self.channel = channel
        self.parse = parse
        self.values: LRUCache[K, V] = LRUCache(maxsize=maxsize)
        self.loading: dict[K, list[_Load]] = {}
        listener.add(self)

    def notified(self, payload: str) -> None:
        try:
            key = self.parse(payload)
        except ValueError:
            log.warning("unreadable notification on %s: %r", self.channel, payload[:80])
            self.clear()  # cannot tell which key: drop them all
            return
        self.values.pop(key, None)
        for load in self.loading.get(key, ()):
            load.stale = True

    def clear(self) -> None:
        self.values.clear()
        for loads in self.loading.values():
            for load in loads:
                load.stale = True

    async def get_many(
        self, keys: Iterable[K], load: Callable[[list[K]], Awaitable[Mapping[K, V]]]
    ) -> dict[K, V]:
        """The values of ``keys``: from memory while the listener is live, the missing ones
        through ``load`` (one call for all of them; a key it does not answer is absent)."""
        keys = list(dict.fromkeys(keys))
        live = self.listener.live
        found: dict[K, V] = {}
        missing: list[K] = []
        for key in keys:
            if live and key in self.values:
                found[key] = self.values[key]
            else:
                missing.append(key)
        if not missing:
            return found
        if not live:
            return {**found, **(await load(missing))}
        epoch = self.listener.epoch
        loads = {key: _Load() for key in missing}
        for key, token in loads.items():
            self.loading.setdefault(key, []).append(token)
        try:
            loaded = await load(missing)
        finally:
            for key, token in loads.items():
                waiting = self.loading[key]
                waiting.remove(token)
                if not waiting:
                    del self.loading[key]
        if self.listener.live and self.listener.epoch == epoch:
            for key, token in loads.items():
                if not token.stale and key in loaded:
                    self.values[key] = loaded[key]
        return {**found, **loaded}


class Listener:
    """One connection that ``LISTEN``s on its caches' channels, for as long as ``run`` runs
    (a background task of the service's runtime). ``live``: connected and listening, so the
    caches may be trusted; ``epoch`` changes whenever that starts or stops."""

    def __init__(
        self,
        url: str,
        *,
        heartbeat: float = 5.0,
        retry: float = 1.0,
        connect: Callable[[str], Awaitable[asyncpg.Connection]] | None = None,
    ) -> None:
        self.dsn = asyncpg_dsn(url)
        self.heartbeat = heartbeat
        self.retry = retry
        self.caches: list[NotifiedCache[object, object]] = []
        self.live = False
        self.epoch = 0
        self._connect = connect or (
            lambda dsn: asyncpg.connect(dsn, server_settings={"application_name": APPLICATION})
        )
        self.connection: asyncpg.Connection | None = None

    def add(self, cache: NotifiedCache[K, V]) -> None:
        self.caches.append(cache)  # type: ignore[arg-type]

    def _lost(self) -> None:
        self.live = False
        self.epoch += 1
        for cache in self.caches:
            cache.clear()

    async def run(self) -> None:
        while True:
            try:
                await self._listen()
            except asyncio.CancelledError:
                self._lost()
                raise
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as exc:
                log.warning("notification listener: no connection (%s); caches dropped", exc)
            else:
                log.warning("notification listener lost its connection; caches dropped")
            self._lost()
            await asyncio.sleep(self.retry)

    async def _listen(self) -> None:
        conn = await asyncio.wait_for(self._connect(self.dsn), timeout=self.heartbeat * 2)
        closed = asyncio.Event()
        conn.add_termination_listener(lambda _conn: closed.set())
        self.connection = conn
        try:
            for cache in self.caches:
                await conn.add_listener(cache.channel, self._deliver(cache))
            # Listening from here on: whatever committed before is what a load reads.
            self.live = True
            self.epoch += 1
            while not closed.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(closed.wait(), timeout=self.heartbeat)
                if closed.is_set():
                    break
                await conn.fetchval("SELECT 1", timeout=self.heartbeat)
        finally:
            self.connection = None
            self._lost()
            if not conn.is_closed():
                conn.terminate()

    @staticmethod
    def _deliver(cache: NotifiedCache[K, V]) -> Callable[[object, int, str, str], None]:
        def deliver(_conn: object, _pid: int, _channel: str, payload: str) -> None:
            cache.notified(payload)

        return deliver
