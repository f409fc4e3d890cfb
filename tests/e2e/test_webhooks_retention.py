"""The deliveries list is trimmed: finished deliveries older than the retention go, in
batches; recent ones and pending ones (however old) stay; one leader runs the purge."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from socialseed.leader import _key
from socialseed.testing import Infra, asgi_client
from tests.conftest import own_database
from webhooks.app import create_app
from webhooks.context import WebhooksContext
from webhooks.delivery.retention import LEADER_JOB, purge_deliveries, run_retention
from webhooks.models import Delivery, DeliveryStatus, Endpoint
from webhooks.settings import WebhooksSettings


def _delivery(endpoint: Endpoint, status: str, created_at: datetime) -> Delivery:
    return Delivery(
        endpoint_id=endpoint.id,
        workspace_id=endpoint.workspace_id,
        webhook_id=f"msg_{uuid.uuid4().hex}",
        event_type="post.published",
        body="{}",
        status=status,
        attempt=1,
        next_attempt_at=created_at if status == DeliveryStatus.PENDING else None,
        created_at=created_at,
    )


async def test_purge_deletes_finished_deliveries_past_the_retention(infra: Infra) -> None:
    settings = WebhooksSettings(
        # A database of its own: the shared stack's webhooks service leads its own purge.
        database_url=await own_database(infra, "webhooks", "webhooks_retention"),
        kafka_enabled=False,
        dev_mode=True,
        delivery_retention_days=30,
        purge_interval=0.05,
    )
    app = create_app(settings, background=False)
    async with asgi_client(app):
        ctx: WebhooksContext = app.state.webhooks
        now = datetime.now(UTC)
        ctx.clock = lambda: now
        endpoint = Endpoint(
            id=uuid.uuid4(),
            workspace_id=uuid.uuid4(),
            url="https://hooks.example/in",
            events=["post.published"],
            secret=ctx.cipher.encrypt("whsec_dGVzdA=="),
            created_by=uuid.uuid4(),
            enabled=False,  # nothing is sent: no sender runs here
        )
        old = now - timedelta(days=31)
        expired = [_delivery(endpoint, DeliveryStatus.SUCCEEDED, old) for _ in range(4)]
        expired.append(_delivery(endpoint, DeliveryStatus.FAILED, old))
        kept = [
            _delivery(endpoint, DeliveryStatus.SUCCEEDED, now - timedelta(days=29)),
            _delivery(endpoint, DeliveryStatus.FAILED, now - timedelta(days=1)),
            # Waiting for its endpoint to be turned on again: never purged.
            _delivery(endpoint, DeliveryStatus.PENDING, now - timedelta(days=90)),
        ]
        async with ctx.db.transaction() as s:
            s.add(endpoint)
            await s.flush()
            s.add_all([*expired, *kept])

        async def left() -> set[uuid.UUID]:
            async with ctx.db.transaction() as s:
                rows = await s.execute(
                    select(Delivery.id).where(Delivery.endpoint_id == endpoint.id)
                )
                return set(rows.scalars())

        # Batches of two: the purge goes on until a batch comes back short.
        assert await purge_deliveries(ctx, batch=2) >= len(expired)
        assert await left() == {d.id for d in kept}

        # The running job: one leader across replicas (socialseed.leader's advisory lock).
        more = _delivery(endpoint, DeliveryStatus.SUCCEEDED, old)
        async with ctx.db.transaction() as s:
            s.add(more)
        job = asyncio.create_task(run_retention(ctx))
        try:
            async with asyncio.timeout(10):
                while more.id in await left():
                    await asyncio.sleep(0.05)
            async with ctx.db.engine.connect() as other:
                lock = func.pg_try_advisory_lock(_key(LEADER_JOB))
                assert (await other.execute(select(lock))).scalar() is False  # it leads
                await other.commit()
        finally:
            job.cancel()
            await asyncio.gather(job, return_exceptions=True)
        assert await left() == {d.id for d in kept}
