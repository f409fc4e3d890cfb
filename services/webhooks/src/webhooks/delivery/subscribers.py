"""From SocialSeed's events to deliveries: each event becomes one delivery per enabled
endpoint of its workspace that subscribed to its type, in the transaction of the batch the
event came in (the inbox makes a redelivered event a no-op). Nothing is sent here: the sender
does that, so a slow receiver never holds up a partition.

Events come in batches (a publisher's burst is thousands of ``post.published`` a minute): a
batch costs one read of the endpoints its workspaces subscribed, and one insert of all its
deliveries, whatever its size. Most workspaces have no endpoint: then the batch costs its
inbox insert and that one read."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from socialseed.bus import EventConsumer, EventMeta
from socialseed.contracts import Event
from webhooks.context import WebhooksContext
from webhooks.events import SOURCES, from_event
from webhooks.hooks.repository import DeliveryRepository, EndpointRepository
from webhooks.hooks.service import queue
from webhooks.models import Endpoint


async def fan_out(
    session: AsyncSession,
    ctx: WebhooksContext,
    type_: str,
    events: Sequence[tuple[Event, EventMeta]],
) -> int:
    """Queue ``events`` (all of type ``type_``, in their order) for their workspaces'
    subscribed endpoints; the number of deliveries queued."""
    subscribed: defaultdict[uuid.UUID, list[Endpoint]] = defaultdict(list)
    workspaces = {_workspace(event) for event, _ in events}
    for endpoint in await EndpointRepository(session).subscribed_unscoped(workspaces, type_):
        subscribed[endpoint.workspace_id].append(endpoint)
    if not subscribed:
        return 0
    now = ctx.clock()
    deliveries = []
    for event, meta in events:
        endpoints = subscribed.get(_workspace(event), [])
        if endpoints:
            text = from_event(type_, event)
            deliveries += [
                queue(e, source_id=meta.id, event_type=type_, text=text, now=now) for e in endpoints
            ]
    await DeliveryRepository(session).queue_unscoped(deliveries)
    return len(deliveries)


def _workspace(event: Event) -> uuid.UUID:
    workspace_id: uuid.UUID = getattr(event, "workspace_id")  # noqa: B009 (every source has one)
    return workspace_id


def deliver_events(consumer: EventConsumer, ctx: WebhooksContext) -> None:
    for type_, (event_class, _) in SOURCES.items():

        async def handle(
            events: list[tuple[Event, EventMeta]], session: AsyncSession, type_: str = type_
        ) -> None:
            await fan_out(session, ctx, type_, events)

        consumer.batch_handler(event_class, max_records=500, timeout_ms=50)(handle)
