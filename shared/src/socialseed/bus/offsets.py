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
    one commit round trip per message would cap a consumer at ~150 events/s."""

    def __init__(self, *, every: int = 100, interval: float = 0.5) -> None:
        self.every = every
        self.interval = interval
        self._pending: dict[Any, dict[TopicPartition, int]] = {}
        self._count = 0
        self._timer: asyncio.Task[None] | None = None

    async def done(
        self, consumer: Any, partition: TopicPartition, next_offset: int, count: int = 1
    ) -> None:
        """``count`` messages of ``partition`` are settled, up to ``next_offset`` (exclusive)."""
        self._pending.setdefault(consumer, {})[partition] = next_offset
        self._count += count
        if self._timer is None or self._timer.done():
            self._timer = asyncio.create_task(self._tick(), name="offset-commits")
        if self._count >= self.every:
            await self.flush()

    async def flush(self) -> None:
        pending, self._pending, self._count = self._pending, {}, 0
        for consumer, offsets in pending.items():
            try:
                await consumer.commit(offsets)
            except KafkaError as exc:
                # Partitions moved in a rebalance: their new owner gets these messages again
                # and the inbox drops them.
                log.info("offset commit skipped (%s); redelivery is deduplicated", exc)

    async def close(self) -> None:
        """Commit what is done and stop the timer (before the broker stops)."""
        if self._timer is not None:
            self._timer.cancel()
            await asyncio.gather(self._timer, return_exceptions=True)
            self._timer = None
        await self.flush()

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            if self._pending:
                await self.flush()
