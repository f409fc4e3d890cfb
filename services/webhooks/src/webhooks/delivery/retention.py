"""Retention of the deliveries list: one leader across replicas (``socialseed.leader``)
deletes finished deliveries older than ``delivery_retention_days``, in short transactions."""

from __future__ import annotations

import logging
from datetime import timedelta

from socialseed.leader import run_as_leader
from webhooks.context import WebhooksContext
from webhooks.hooks.repository import DeliveryRepository

log = logging.getLogger(__name__)

# The name the purge's leadership is held under.
LEADER_JOB = "webhooks-retention"


async def purge_deliveries(ctx: WebhooksContext, *, batch: int = 1000) -> int:
    """One pass: finished deliveries queued over ``delivery_retention_days`` ago, at most
    ``batch`` per transaction (short locks, no long-held snapshot). How many went."""
    before = ctx.clock() - timedelta(days=ctx.settings.delivery_retention_days)
    total = 0
    while True:
        async with ctx.db.transaction() as session:
            n = await DeliveryRepository(session).purge_finished_unscoped(before, limit=batch)
        total += n
        if n < batch:
            break
    if total:
        log.info("webhook deliveries purged: %d", total)
    return total


async def run_retention(ctx: WebhooksContext) -> None:
    await run_as_leader(
        ctx.db, LEADER_JOB, lambda: purge_deliveries(ctx), interval=ctx.settings.purge_interval
    )
