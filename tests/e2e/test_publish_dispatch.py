"""The dispatcher and the lease through the faults a chaos run showed them:

- the lease is counted from the claim, not from the dispatch: a command that reaches a worker
  late (the broker restarted, the consumer rebalanced, every slot was busy) must not leave so
  little lease that the dispatcher hands the target on while the first worker is still inside
  the platform call — the second would find nothing yet, publish, and the first would too;
- the dispatcher's LISTEN connection comes back after the database went away: a schedule
  change still wakes it at once, not at its next idle wake-up.

The dispatcher and a worker run here in the test's own loop on a database of their own, with a
clock the test moves; the platform (the sandbox), the token vault (accounts) and PostgreSQL
are real.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
import pytest

from publisher.app import create_app
from publisher.context import PublisherContext
from publisher.models import Post, Target, TargetStatus
from publisher.publishing.dispatcher import Dispatcher, notify_schedule_changed
from publisher.publishing.warmup import TokenWarmup
from publisher.publishing.worker import Worker
from socialseed.contracts import PostPublishRequested
from socialseed.platforms import build_providers
from socialseed.testing import Infra
from socialseed.vault import TokenVault
from tests.bus.conftest import CuttableProxy
from tests.conftest import (
    Stack,
    connect_account,
    own_publisher_database,
    owner_with_workspace,
    publisher_settings,
    until,
)

LEASE, STEP_TIMEOUT = 20.0, 15.0
# The platform takes this long over the publish: long enough for the test to move the clock
# past the lease and dispatch again while the first worker waits for its answer.
PLATFORM_LATENCY_MS = 3000


class MovableClock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@asynccontextmanager
async def own_publisher(
    infra: Infra, stack: Stack, database: str, port: int | None = None, **overrides: object
) -> AsyncIterator[tuple[PublisherContext, MovableClock]]:
    """The publisher's context on a database of its own (through ``port``, a proxy, if
    given), not served: the test drives its dispatcher and workers."""
    url = await own_publisher_database(infra, database)
    if port is not None:
        url = url.replace(f":{infra.pg_port}/", f":{port}/")
    settings = publisher_settings(
        infra,
        sandbox_url=stack.sandbox_url,
        auth_url=stack.auth_url,
        accounts_url=stack.accounts_url,
        database_url=url,
        kafka_enabled=False,  # commands are handed to the worker by the test
        **({"publish_lease": LEASE, "publish_step_timeout": STEP_TIMEOUT} | overrides),
    )
    clock = MovableClock()
    ctx: PublisherContext = create_app(settings, clock=clock, dispatch=False).state.publisher
    try:
        yield ctx, clock
    finally:
        await ctx.db.dispose()


@pytest.fixture
async def publisher(
    infra: Infra, stack: Stack
) -> AsyncIterator[tuple[PublisherContext, MovableClock]]:
    async with own_publisher(infra, stack, "socialseed_lease") as own:
        yield own


async def due_target(
    ctx: PublisherContext, ws: str, account_id: str, text: str, *, in_seconds: float = 0.0
) -> Target:
    now = ctx.clock() + timedelta(seconds=in_seconds)
    post = Post(
        id=uuid.uuid4(),
        workspace_id=uuid.UUID(ws),
        author_id=uuid.uuid4(),
        text=text,
        media_ids=[],
        scheduled_at=now,
        timezone="UTC",
        status="scheduled",
        approval="not_required",
    )
    target = Target(
        post_id=post.id,
        position=0,
        workspace_id=post.workspace_id,
        account_id=uuid.UUID(account_id),
        platform="facebook",
        options={},
        status=TargetStatus.SCHEDULED,
        progress={},
        due_at=now,
    )
    async with ctx.db.transaction() as session:
        session.add(post)
        session.add(target)
        await notify_schedule_changed(session)
    return target


async def dispatched(ctx: PublisherContext, target_id: uuid.UUID) -> PostPublishRequested | None:
    """One dispatch turn; the command it emitted for the target, as the outbox holds it."""
    if not await Dispatcher(ctx).dispatch_once():
        return None
    async with ctx.db.transaction() as session:
        target = await session.get(Target, target_id)
        assert target is not None and target.status == TargetStatus.PUBLISHING
        return PostPublishRequested(
            post_id=target.post_id,
            workspace_id=target.workspace_id,
            target_id=target.id,
            account_id=target.account_id,
            platform=target.platform,
            attempt=target.dispatches,
            requested_at=ctx.clock(),
        )


@pytest.mark.timeout(300)
async def test_a_command_delivered_late_still_has_its_whole_lease(
    api: httpx.AsyncClient, stack: Stack, publisher: tuple[PublisherContext, MovableClock]
) -> None:
    ctx, clock = publisher
    user, ws = await owner_with_workspace(api)
    [page, *_] = await connect_account(api, user, ws, "facebook", f"lease-{uuid.uuid4().hex[:8]}")
    text = f"said once despite a late command {uuid.uuid4().hex[:6]}"
    target = await due_target(ctx, ws, str(page["id"]), text)
    async with httpx.AsyncClient(base_url=stack.sandbox_url, timeout=30) as sandbox:
        fault = await sandbox.post(
            "/_sandbox/faults",
            json={
                "platform": "facebook",
                "endpoint": "*/feed",
                "method": "POST",
                "latency_ms": PLATFORM_LATENCY_MS,
            },
        )
        fault_id = fault.raise_for_status().json()["id"]
        async with httpx.AsyncClient(timeout=30) as http:
            settings = ctx.settings
            worker = Worker(
                ctx,
                build_providers(settings.platforms, http, clock=ctx.clock),
                TokenVault(http, settings.accounts_url, settings.vault_token, clock=ctx.clock),
            )
            try:
                first = await dispatched(ctx, target.id)
                assert first is not None
                # The command reaches the worker with 2 s of the dispatch's lease left.
                clock.advance(LEASE - 2)
                publishing = asyncio.create_task(worker.publish(first))

                async def inside_the_call() -> bool:
                    faults = (await sandbox.get("/_sandbox/faults")).json()["faults"]
                    return any(f["id"] == fault_id and f["applied"] for f in faults)

                while not await inside_the_call():
                    assert not publishing.done(), publishing
                    await asyncio.sleep(0.05)
                # The dispatch's lease is over while the worker waits for the platform.
                clock.advance(5)
                again = await dispatched(ctx, target.id)
                if again is not None:  # handed on: the second worker acts too
                    await worker.publish(again)
                await publishing
            finally:
                await worker.close()
                await sandbox.delete(f"/_sandbox/faults/{fault_id}")
        entries = (
            await sandbox.get("/_sandbox/ledger", params={"account": str(page["platform_user_id"])})
        ).json()["entries"]
    assert [e["text"] for e in entries] == [text], "published twice: the lease ran from dispatch"
    assert again is None, "the target was handed on while its worker was inside the call"
    async with ctx.db.transaction() as session:
        stored = await session.get(Target, target.id)
        assert stored is not None and stored.status == TargetStatus.PUBLISHED


@pytest.mark.timeout(300)
async def test_the_lease_is_renewed_while_the_step_runs_past_it(
    api: httpx.AsyncClient, infra: Infra, stack: Stack
) -> None:
    """A lease shorter than the platform call: the worker renews it while the call runs, so
    the dispatcher does not hand the target on, and the step is not cut at the first lease's
    end either; the post is published once."""
    lease, latency_ms = 3.0, 6000
    user, ws = await owner_with_workspace(api)
    [page, *_] = await connect_account(api, user, ws, "facebook", f"renew-{uuid.uuid4().hex[:8]}")
    text = f"said once under a renewed lease {uuid.uuid4().hex[:6]}"
    own = own_publisher(infra, stack, "socialseed_renew", publish_lease=lease)
    async with (
        own as (ctx, clock),
        httpx.AsyncClient(base_url=stack.sandbox_url, timeout=30) as sandbox,
        httpx.AsyncClient(timeout=30) as http,
    ):
        target = await due_target(ctx, ws, str(page["id"]), text)
        fault = await sandbox.post(
            "/_sandbox/faults",
            json={
                "platform": "facebook",
                "endpoint": "*/feed",
                "method": "POST",
                "latency_ms": latency_ms,
            },
        )
        fault_id = fault.raise_for_status().json()["id"]
        settings = ctx.settings
        worker = Worker(
            ctx,
            build_providers(settings.platforms, http, clock=ctx.clock),
            TokenVault(http, settings.accounts_url, settings.vault_token, clock=ctx.clock),
        )
        try:
            first = await dispatched(ctx, target.id)
            assert first is not None
            publishing = asyncio.create_task(worker.publish(first))

            async def lease_at(at: datetime) -> bool | None:
                assert not publishing.done(), publishing
                async with ctx.db.transaction() as session:
                    stored = await session.get(Target, target.id)
                    assert stored is not None
                    return True if stored.due_at == at else None

            # Twice the clock moves most of a lease on, and each time the worker renews the
            # lease from the new now: 4 s past the claim, beyond the first lease's end.
            for _ in range(2):
                clock.advance(lease * 2 / 3)
                await until(
                    lambda: lease_at(clock() + timedelta(seconds=lease)),
                    "the lease renewed",
                    Path("/dev/null"),
                )
            again = await dispatched(ctx, target.id)
            await publishing
        finally:
            await worker.close()
            await sandbox.delete(f"/_sandbox/faults/{fault_id}")
        entries = (
            await sandbox.get("/_sandbox/ledger", params={"account": str(page["platform_user_id"])})
        ).json()["entries"]
        async with ctx.db.transaction() as session:
            stored = await session.get(Target, target.id)
    assert again is None, "the target was handed on while its worker was inside the call"
    assert [e["text"] for e in entries] == [text]
    assert stored is not None and stored.status == TargetStatus.PUBLISHED


LISTENERS = """
SELECT count(*) FROM pg_stat_activity
WHERE datname = $1 AND query LIKE 'LISTEN%publisher_schedule%'
"""


@pytest.mark.timeout(300)
async def test_the_dispatcher_listens_again_after_the_database_went_away(
    infra: Infra, stack: Stack
) -> None:
    database = "socialseed_listen"
    proxy = CuttableProxy(infra.pg_host, infra.pg_port)
    await proxy.start()
    # Only a notification can wake the dispatcher within the test.
    own = own_publisher(infra, stack, database, port=proxy.port, dispatch_idle_wait=3600)
    admin = await asyncpg.connect(infra.admin_url.replace("+asyncpg", ""))
    try:
        async with own as (ctx, _):
            dispatching = asyncio.create_task(Dispatcher(ctx).run())

            async def listeners(n: int) -> bool | None:
                assert not dispatching.done(), dispatching
                return True if await admin.fetchval(LISTENERS, database) == n else None

            try:
                await until(lambda: listeners(1), "the dispatcher to LISTEN", Path("/dev/null"))
                proxy.cut()  # the database goes away and comes back
                await until(lambda: listeners(0), "the LISTEN connection gone", Path("/dev/null"))
                proxy.restore()
                await until(
                    lambda: listeners(1), "the dispatcher to LISTEN again", Path("/dev/null")
                )
                target = await due_target(ctx, str(uuid.uuid4()), str(uuid.uuid4()), "woken")

                async def claimed() -> bool | None:
                    async with ctx.db.transaction() as session:
                        stored = await session.get(Target, target.id)
                    assert stored is not None
                    return True if stored.status == TargetStatus.PUBLISHING else None

                await until(claimed, "the new due target dispatched", Path("/dev/null"), timeout=60)
            finally:
                dispatching.cancel()
                await asyncio.gather(dispatching, return_exceptions=True)
    finally:
        await admin.close()
        await proxy.stop()


class LookingWhileScheduled(Dispatcher):
    """A dispatcher whose first look for the next due time misses a target scheduled while it
    looks: the target is committed (with its NOTIFY) after the claim query ran, and the look
    answers as if its snapshot predated it."""

    scheduled: Target | None = None

    async def _seconds_to_next_due(self) -> float:
        if self.scheduled is None:
            await asyncio.wait_for(self.woken.wait(), 60)  # the listener is up
            self.woken.clear()
            self.scheduled = await due_target(
                self.ctx, str(uuid.uuid4()), str(uuid.uuid4()), "scheduled mid-turn"
            )
            await asyncio.wait_for(self.woken.wait(), 60)  # its NOTIFY has arrived
            return self.settings.dispatch_idle_wait
        return await super()._seconds_to_next_due()


@pytest.mark.timeout(300)
async def test_a_schedule_change_during_a_dispatch_turn_starts_another_turn(
    infra: Infra, stack: Stack
) -> None:
    # Only a notification can wake the dispatcher within the test.
    async with own_publisher(infra, stack, "socialseed_midturn", dispatch_idle_wait=3600) as own:
        ctx, _ = own
        dispatcher = LookingWhileScheduled(ctx)
        dispatching = asyncio.create_task(dispatcher.run())
        try:

            async def claimed() -> bool | None:
                assert not dispatching.done(), dispatching
                if dispatcher.scheduled is None:
                    return None
                async with ctx.db.transaction() as session:
                    stored = await session.get(Target, dispatcher.scheduled.id)
                assert stored is not None
                return True if stored.status == TargetStatus.PUBLISHING else None

            await until(
                claimed, "the target scheduled mid-turn dispatched", Path("/dev/null"), timeout=60
            )
        finally:
            dispatching.cancel()
            await asyncio.gather(dispatching, return_exceptions=True)


async def test_the_tokens_of_accounts_due_soon_are_fetched_ahead(
    api: httpx.AsyncClient, publisher: tuple[PublisherContext, MovableClock]
) -> None:
    """Each worker process fetches ahead the tokens of the accounts with a target due within
    ``token_warmup_ahead`` (60 s), once; an account due later waits, and one whose token
    cannot be had is left for its publish to report."""
    ctx, clock = publisher
    user, ws = await owner_with_workspace(api)
    name = f"warm-{uuid.uuid4().hex[:8]}"
    soon, later, *_ = await connect_account(api, user, ws, "facebook", name)
    await due_target(ctx, ws, str(soon["id"]), "soon", in_seconds=30)
    await due_target(ctx, ws, str(later["id"]), "later", in_seconds=300)
    await due_target(ctx, ws, str(uuid.uuid4()), "no such account", in_seconds=10)
    asked: list[str] = []

    async def count(request: httpx.Request) -> None:
        if request.url.path.endswith("/access-token"):
            asked.append(request.url.path.split("/")[-2])

    async with httpx.AsyncClient(timeout=30, event_hooks={"request": [count]}) as http:
        settings = ctx.settings
        vault = TokenVault(http, settings.accounts_url, settings.vault_token, clock=ctx.clock)
        warmup = TokenWarmup(ctx, vault)
        assert await warmup.warm_once() == 1
        # the one due soon, and the one that cannot be had (asked, refused, not counted)
        assert len(asked) == 2 and str(soon["id"]) in asked, asked
        assert str(later["id"]) not in asked
        asked.clear()
        assert await warmup.warm_once() == 0  # held: only the unusable one is asked again
        assert str(soon["id"]) not in asked
        await vault.token(uuid.UUID(str(soon["id"])))  # the publish finds it
        assert str(soon["id"]) not in asked
        clock.advance(250)  # the later one comes within the minute
        assert await warmup.warm_once() == 1
        assert str(later["id"]) in asked
