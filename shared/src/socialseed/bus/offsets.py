"""Consumed offsets, committed in batches after the work they stand for is done."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiokafka import TopicPartition
from aiokafka.errors import KafkaError

log = logging.getLogger(__name__)


class OffsetCommits:
    """Processed offsets, committed in batches: every ``every`` messages or ``interval``
    seconds, with explicit offsets (never the consumer's position, which may be ahead of what
    is done). A crash redelivers at most that window, and the inbox makes redelivery harmless;
    one commit round trip per message would cap a consumer at ~150 events/s.

    A commit runs beside the consuming loop, not in it: the next batch is handled while the
    broker answers. Commits are one at a time, in order, so a committed offset never goes
    back."""

    def __init__(self, *, every: int = 100, interval: float = 0.5) -> None:
        self.every = every
        self.interval = interval
        self._pending: dict[Any, dict[TopicPartition, int]] = {}
        self._count = 0
        self._timer: asyncio.Task[None] | None = None
        self._committing: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    async def done(
        self, consumer: Any, partition: TopicPartition, next_offset: int, count: int = 1
    ) -> None:
        """``count`` messages of ``partition`` are settled, up to ``next_offset`` (exclusive)."""
        self._pending.setdefault(consumer, {})[partition] = next_offset
        self._count += count
        if self._timer is None or self._timer.done():
            self._timer = asyncio.create_task(self._tick(), name="offset-commits")
        if self._count >= self.every and (self._committing is None or self._committing.done()):
            self._committing = asyncio.create_task(self._flush_logged(), name="offset-commit")

    async def flush(self) -> None:
        async with self._lock:
            pending, self._pending, self._count = self._pending, {}, 0
            for consumer, offsets in pending.items():
                try:
                    await consumer.commit(offsets)
                except KafkaError as exc:
                    # Partitions moved in a rebalance: their new owner gets these messages
                    # again and the inbox drops them.
                    log.info("offset commit skipped (%s); redelivery is deduplicated", exc)

    async def close(self) -> None:
        """Commit what is done and stop the timer (before the broker stops)."""
        if self._timer is not None:
            self._timer.cancel()
            await asyncio.gather(self._timer, return_exceptions=True)
            self._timer = None
        if self._committing is not None:
            await asyncio.gather(self._committing, return_exceptions=True)
            self._committing = None
        await self.flush()

    async def _flush_logged(self) -> None:
        try:
            await self.flush()
        except Exception:  # the next flush commits these offsets (or later ones) again
            log.exception("offset commit failed; retried with the next one")

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            if self._pending:
                await self._flush_logged()
