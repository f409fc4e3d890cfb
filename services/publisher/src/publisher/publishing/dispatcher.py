"""The dispatcher: claims due targets and hands each to the workers as a
``post.publish_requested`` command, keyed by account (so one account's publishes are ordered).

It sleeps until the next due target and is woken early by Postgres ``NOTIFY`` when a schedule
changes (any replica's commit reaches every replica's listener), never by a fixed short poll.
Claims use ``FOR UPDATE SKIP LOCKED``: any number of replicas dispatch side by side, each due
target exactly once. A claimed target is ``publishing`` with a lease (``due_at``): a worker that
dies holding it leaves it due again when the lease ends, and the next worker reconciles with the
platform before it publishes anything.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

import asyncpg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from publisher.context import PublisherContext
from publisher.models import TargetStatus
from publisher.posts.repository import PostRepository
from socialseed import tracing
from socialseed.contracts import PostPublishRequested

log = logging.getLogger(__name__)

CHANNEL = "publisher_schedule"
# Seconds between attempts to open the LISTEN connection again.
LISTEN_RETRY = 1.0
# Statuses the dispatcher takes when due: new, waiting out a limit, unknown outcome, or a
# publishing lease that ran out (or a poll of a platform still processing).
DUE = (
    TargetStatus.SCHEDULED,
    TargetStatus.WAITING,
    TargetStatus.IN_DOUBT,
    TargetStatus.PUBLISHING,
)


async def notify_schedule_changed(session: AsyncSession) -> None:
    """Wake every replica's dispatcher when this transaction commits."""
    await session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": CHANNEL})


class Dispatcher:
    def __init__(self, ctx: PublisherContext) -> None:
        self.ctx = ctx
        self.settings = ctx.settings
        self.woken = asyncio.Event()
        self.tracer = tracing.job_tracer(ctx.settings, ctx.runtime.tracer_provider)

    async def run(self) -> None:
        listener = asyncio.create_task(self._listen(), name="dispatcher-listen")
        try:
            while True:
                # Cleared before the turn looks, not after: a schedule change committed while
                # the turn runs (its NOTIFY arriving after the claim query's snapshot) leaves
                # the event set and starts another turn, rather than being cleared unseen and
                # waiting out the whole idle wait.
                self.woken.clear()
                try:
                    while await self.dispatch_once():
                        pass
                    wait = await self._seconds_to_next_due()
                except asyncio.CancelledError:
                    raise
                except Exception:  # database away: try again shortly
                    log.warning("dispatch turn failed; retrying", exc_info=True)
                    wait = 1.0
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.woken.wait(), wait)
        finally:
            listener.cancel()
            await asyncio.gather(listener, return_exceptions=True)

    async def dispatch_once(self) -> int:
        """Claim one batch of due targets and emit their commands. Returns how many."""
        ctx = self.ctx
        now = ctx.clock()
        lease = timedelta(seconds=self.settings.publish_lease)
        async with ctx.db.transaction() as session:
            repo = PostRepository(session)
            # One statement claims the batch (no ORM objects: a turn hands out hundreds).
            targets = await repo.dispatch_due(DUE, now, self.settings.dispatch_batch, now + lease)
            commands = [
                (
                    PostPublishRequested(
                        post_id=t.post_id,
                        workspace_id=t.workspace_id,
                        target_id=t.id,
                        account_id=t.account_id,
                        platform=t.platform,
                        attempt=t.dispatches,
                        requested_at=now,
                    ),
                    str(t.account_id),
                )
                for t in targets
            ]
            # Each command continues the trace of the request that scheduled its target.
            contexts = [
                tracing.continued(
                    self.tracer,
                    "dispatch post",
                    t.traceparent,
                    **{"socialseed.platform": t.platform},
                )
                for t in targets
            ]
            # One statement for the batch's commands.
            await ctx.outbox.add_many(session, commands, trace_contexts=contexts)
            await repo.refresh_statuses({t.post_id for t in targets})
        return len(targets)

    async def _seconds_to_next_due(self) -> float:
        async with self.ctx.db.transaction() as session:
            next_due = await PostRepository(session).next_due_at(DUE)
        if next_due is None:
            return self.settings.dispatch_idle_wait
        seconds = (next_due - self.ctx.clock()).total_seconds()
        return min(max(seconds, 0.0), self.settings.dispatch_idle_wait)

    async def _listen(self) -> None:
        """LISTEN on a connection of its own (not from the pool) for schedule changes, for as
        long as the dispatcher runs. A lost connection (the database restarted) is opened
        again; the notifications sent meanwhile are gone, so each (re)connection wakes the
        dispatcher to look for due targets itself. Without it the dispatcher still wakes at
        the next due time it knows of (at most ``dispatch_idle_wait`` apart)."""
        while True:
            try:
                await self._listen_until_lost()
                log.warning("lost the connection listening for schedule changes; reopening")
            except (OSError, asyncpg.PostgresError):
                log.warning("cannot LISTEN for schedule changes yet; dispatching on due times")
            await asyncio.sleep(LISTEN_RETRY)

    async def _listen_until_lost(self) -> None:
        url = self.ctx.db.engine.url
        conn = await asyncpg.connect(
            host=url.host,
            port=url.port,
            user=url.username,
            password=url.password,
            database=url.database,
        )
        lost = asyncio.Event()
        try:
            conn.add_termination_listener(lambda _: lost.set())
            await conn.add_listener(CHANNEL, lambda *_: self.woken.set())
            self.woken.set()
            await lost.wait()
        finally:
            if not conn.is_closed():
                await conn.close()
