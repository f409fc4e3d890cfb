"""The dispatcher's claims on the real PostgreSQL: which targets a turn takes (due, open, or a
publishing lease that ran out), in due order, each exactly once across claimers running side
by side (``FOR UPDATE SKIP LOCKED``), the command it leaves in the outbox for each, and how it
wakes: at the next due time, or at once when a schedule changes (``NOTIFY``)."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta
from typing import TypeVar

import pytest
from sqlalchemy import select, text, update

from publisher.context import PublisherContext
from publisher.models import AccountView, Post, Target, TargetStatus, outbox
from publisher.publishing.dispatcher import Dispatcher, notify_schedule_changed
from services.publisher.tests.conftest import MovableClock, empty_schedule, publisher_context
from services.publisher.tests.factories import create_account, create_post, workspace
from socialseed.contracts import PostPublishRequested
from socialseed.platforms.parsing import utcnow

T = TypeVar("T")
LEASE = 120.0


@pytest.fixture
async def dispatch_ctx(
    publisher_database: str, clock: MovableClock
) -> AsyncIterator[PublisherContext]:
    async with publisher_context(
        publisher_database, clock, publish_lease=LEASE, dispatch_batch=500
    ) as ctx:
        await empty_schedule(ctx)
        yield ctx


async def accounts(ctx: PublisherContext, n: int) -> tuple[uuid.UUID, list[AccountView]]:
    ws = workspace()
    async with ctx.db.transaction() as s:
        return ws, [await create_account(s, workspace=ws, platform="x") for _ in range(n)]


async def due_targets(
    ctx: PublisherContext, dues: list[datetime | None], **kw: object
) -> list[Target]:
    """One post per due time, one target each, committed and announced as a schedule change."""
    ws, accs = await accounts(ctx, len(dues))
    targets = []
    async with ctx.db.transaction() as s:
        for account, due in zip(accs, dues, strict=True):
            post = await create_post(s, workspace=ws, accounts=[account], due_at=[due], **kw)  # type: ignore[arg-type]
            targets += post.targets
        await notify_schedule_changed(s)
    return targets


async def stored(ctx: PublisherContext, ids: list[uuid.UUID]) -> dict[uuid.UUID, Target]:
    async with ctx.db.transaction() as s:
        return {t.id: t for t in await s.scalars(select(Target).where(Target.id.in_(ids)))}


async def commands(ctx: PublisherContext) -> list[tuple[str, PostPublishRequested]]:
    """The publish commands in the outbox: (key, command), oldest first."""
    async with ctx.db.transaction() as s:
        rows = await s.execute(select(outbox.c.key, outbox.c.payload).order_by(outbox.c.id))
        return [(key, PostPublishRequested.model_validate(p)) for key, p in rows]


async def test_a_turn_claims_the_due_open_targets_and_no_other(
    dispatch_ctx: PublisherContext, clock: MovableClock
) -> None:
    ctx, now = dispatch_ctx, clock()
    past = now - timedelta(minutes=5)
    claimed = {
        "scheduled, due": await due_targets(ctx, [now]),
        "waiting, retry due": await due_targets(ctx, [past], statuses=[TargetStatus.WAITING]),
        "in doubt, due": await due_targets(ctx, [past], statuses=[TargetStatus.IN_DOUBT]),
        "publishing, lease over": await due_targets(
            ctx, [past], statuses=[TargetStatus.PUBLISHING]
        ),
    }
    left = {
        "scheduled, not yet due": await due_targets(ctx, [now + timedelta(seconds=1)]),
        "publishing, lease running": await due_targets(
            ctx, [now + timedelta(seconds=30)], statuses=[TargetStatus.PUBLISHING]
        ),
        "waiting for approval": await due_targets(ctx, [None], approval="pending"),
        **{
            f"{status}, due": await due_targets(ctx, [past], statuses=[status])
            for status in (TargetStatus.PUBLISHED, TargetStatus.FAILED, TargetStatus.CANCELLED)
        },
    }
    # the lease that ran out was the first dispatch's
    [leased] = claimed["publishing, lease over"]
    async with ctx.db.transaction() as s:
        await s.execute(update(Target).where(Target.id == leased.id).values(dispatches=1))

    assert await Dispatcher(ctx).dispatch_once() == len(claimed)

    ids = {name: ts[0].id for name, ts in (claimed | left).items()}
    after = await stored(ctx, list(ids.values()))
    for name in claimed:
        target = after[ids[name]]
        assert target.status == TargetStatus.PUBLISHING, name
        assert target.due_at == now + timedelta(seconds=LEASE), name  # the lease, from now
    for name, [before] in left.items():
        assert (after[ids[name]].status, after[ids[name]].due_at) == (
            before.status,
            before.due_at,
        ), name
    assert after[leased.id].dispatches == 2
    # one command each, keyed by account, its attempt the target's dispatch count
    sent = await commands(ctx)
    assert sorted(c.target_id for _, c in sent) == sorted(ids[name] for name in claimed)
    for key, command in sent:
        target = after[command.target_id]
        assert key == str(target.account_id) == str(command.account_id)
        assert (command.post_id, command.attempt, command.platform) == (
            target.post_id,
            target.dispatches,
            "x",
        )
        assert command.requested_at == now
    # and each claimed post says it is publishing
    async with ctx.db.transaction() as s:
        posts = {p.id: p.status for p in await s.scalars(select(Post))}
    for name in claimed:
        assert posts[after[ids[name]].post_id] == "publishing", name
    assert posts[after[ids["scheduled, not yet due"]].post_id] == "scheduled"
    # nothing more is due
    assert await Dispatcher(ctx).dispatch_once() == 0


async def test_due_targets_are_claimed_earliest_first(
    publisher_database: str, clock: MovableClock
) -> None:
    async with publisher_context(publisher_database, clock, dispatch_batch=3) as ctx:
        await empty_schedule(ctx)
        now = clock()
        dues = [now - timedelta(minutes=m) for m in range(7)]
        random.Random(7).shuffle(dues)
        targets = await due_targets(ctx, dues)
        due_of = {t.id: t.due_at for t in targets}
        dispatcher, turns = Dispatcher(ctx), []
        while n := await dispatcher.dispatch_once():
            turns.append(n)
        assert turns == [3, 3, 1]
        order = [due_of[c.target_id] for _, c in await commands(ctx)]
        assert order == sorted(dues)


async def within(seconds: float, what: Awaitable[T]) -> T:
    try:
        return await asyncio.wait_for(what, seconds)
    except TimeoutError:
        raise AssertionError(f"still waiting after {seconds} s") from None


async def test_a_claimer_skips_the_targets_another_holds_without_waiting(
    dispatch_ctx: PublisherContext, clock: MovableClock
) -> None:
    ctx = dispatch_ctx
    targets = await due_targets(ctx, [clock() - timedelta(seconds=s) for s in range(4)])
    held = [t.id for t in targets[:2]]
    async with ctx.db.transaction() as other:  # another replica's turn, not yet committed
        rows = await other.scalars(select(Target.id).where(Target.id.in_(held)).with_for_update())
        assert sorted(rows) == sorted(held)
        assert await within(10, Dispatcher(ctx).dispatch_once()) == 2
    claimed = [c.target_id for _, c in await commands(ctx)]
    assert sorted(claimed) == sorted(t.id for t in targets[2:])
    # once the other turn ends (here: claiming nothing), the rows are free again
    assert await within(10, Dispatcher(ctx).dispatch_once()) == 2
    assert sorted(c.target_id for _, c in await commands(ctx)) == sorted(t.id for t in targets)


async def test_claimers_side_by_side_take_each_target_exactly_once(
    publisher_database: str, clock: MovableClock
) -> None:
    async with publisher_context(
        publisher_database, clock, dispatch_batch=5, db_pool_size=16
    ) as ctx:
        await empty_schedule(ctx)
        targets = await due_targets(ctx, [clock() - timedelta(seconds=s) for s in range(60)])

        async def claimer() -> int:
            dispatcher, total = Dispatcher(ctx), 0
            while n := await dispatcher.dispatch_once():
                total += n
            return total

        totals = await within(60, asyncio.gather(*(claimer() for _ in range(4))))
        assert sum(totals) == 60
        sent = [c.target_id for _, c in await commands(ctx)]
        assert sorted(sent) == sorted(t.id for t in targets)  # each once
        after = await stored(ctx, [t.id for t in targets])
        assert {t.dispatches for t in after.values()} == {1}


class Observed(Dispatcher):
    """The dispatcher, telling the test when it has gone to sleep (its turn done, its wait
    computed, nothing waking it): from then on only a notification or the due time it
    computed wakes it."""

    asleep = False

    async def dispatch_once(self) -> int:
        self.asleep = False
        return await super().dispatch_once()

    async def _seconds_to_next_due(self) -> float:
        wait = await super()._seconds_to_next_due()
        self.asleep = True  # no await between here and the wait: the loop sleeps next
        return wait


async def until(probe: Callable[[], Awaitable[bool]], what: str, timeout: float = 30) -> None:
    """Poll ``probe`` until it holds (a positive signal), or fail after ``timeout``."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not await probe():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def asleep_and_listening(ctx: PublisherContext, dispatcher: Observed) -> bool:
    if not dispatcher.asleep or dispatcher.woken.is_set():
        return False
    async with ctx.db.transaction() as s:
        listening = await s.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND state = 'idle' AND query LIKE 'LISTEN%publisher_schedule%'"
            )
        )
    # read again after the round trip: the listener wakes the loop once it is connected
    return bool(listening) and dispatcher.asleep and not dispatcher.woken.is_set()


async def status_of(ctx: PublisherContext, target_id: uuid.UUID) -> str:
    return (await stored(ctx, [target_id]))[target_id].status


@pytest.mark.timeout(120)
async def test_a_schedule_change_wakes_a_sleeping_dispatcher_at_once(
    publisher_database: str,
) -> None:
    """Idle, the dispatcher would sleep an hour: only the notification of a commit can make
    it claim within the test. Real time here (the wait is real)."""
    async with publisher_context(publisher_database, utcnow, dispatch_idle_wait=3600) as ctx:
        await empty_schedule(ctx)
        dispatcher = Observed(ctx)
        running = asyncio.create_task(dispatcher.run())
        try:
            await until(lambda: asleep_and_listening(ctx, dispatcher), "the dispatcher asleep")
            # a new post due now
            [new] = await due_targets(ctx, [utcnow()])
            await until(
                lambda: status_of_is(ctx, new.id, TargetStatus.PUBLISHING), "the new post claimed"
            )
            # a post next week, moved to now
            [later] = await due_targets(ctx, [utcnow() + timedelta(days=7)])
            await until(lambda: asleep_and_listening(ctx, dispatcher), "the dispatcher asleep")
            async with ctx.db.transaction() as s:
                await s.execute(update(Target).where(Target.id == later.id).values(due_at=utcnow()))
                await notify_schedule_changed(s)
            await until(
                lambda: status_of_is(ctx, later.id, TargetStatus.PUBLISHING),
                "the moved post claimed",
            )
            assert not running.done()
        finally:
            running.cancel()
            await asyncio.gather(running, return_exceptions=True)


async def status_of_is(ctx: PublisherContext, target_id: uuid.UUID, status: str) -> bool:
    return await status_of(ctx, target_id) == status


@pytest.mark.timeout(120)
async def test_an_idle_dispatcher_wakes_at_the_next_due_time(publisher_database: str) -> None:
    """Nothing notifies here: the target was committed before the dispatcher started, due a
    moment later, and the dispatcher sleeps until then rather than its idle hour."""
    async with publisher_context(publisher_database, utcnow, dispatch_idle_wait=3600) as ctx:
        await empty_schedule(ctx)
        [soon] = await due_targets(ctx, [utcnow() + timedelta(seconds=2)])
        dispatcher = Observed(ctx)
        running = asyncio.create_task(dispatcher.run())
        try:
            await until(
                lambda: status_of_is(ctx, soon.id, TargetStatus.PUBLISHING), "the target claimed"
            )
        finally:
            running.cancel()
            await asyncio.gather(running, return_exceptions=True)
