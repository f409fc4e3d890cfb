"""From SocialSeed's events to deliveries: each event becomes one delivery per enabled
endpoint of its workspace that subscribed to its type, in the event's own transaction (the
inbox makes a redelivered event a no-op). Nothing is sent here: the sender does that, so a
slow receiver never holds up a partition."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from socialseed.bus import EventConsumer, EventMeta
from socialseed.contracts import Event
from webhooks.context import WebhooksContext
from webhooks.events import SOURCES, from_event
from webhooks.hooks.repository import DeliveryRepository, EndpointRepository
from webhooks.hooks.service import queue


async def fan_out(
    session: AsyncSession, ctx: WebhooksContext, type_: str, event: Event, meta: EventMeta
) -> int:
    workspace_id = getattr(event, "workspace_id")  # noqa: B009 (every source event has one)
    endpoints = await EndpointRepository(session).subscribed_unscoped(workspace_id, type_)
    if not endpoints:
        return 0
    text, now = from_event(type_, event), ctx.clock()
    await DeliveryRepository(session).queue_unscoped(
        [queue(e, source_id=meta.id, event_type=type_, text=text, now=now) for e in endpoints]
    )
    return len(endpoints)


def deliver_events(consumer: EventConsumer, ctx: WebhooksContext) -> None:
    for type_, (event_class, _) in SOURCES.items():

        async def handle(
            event: Event, session: AsyncSession, meta: EventMeta, type_: str = type_
        ) -> None:
            await fan_out(session, ctx, type_, event, meta)

        consumer.handler(event_class)(handle)
