"""A consumer process for the bus tests: ``python -m tests.bus.consumer_app``.

Env: BUS_DB_URL, BUS_KAFKA, BUS_GROUP, and BUS_STALL_USER (a user id whose event the handler
applies, announces, then stalls on before committing — so a test can kill it mid-handler).
BUS_TOPIC consumes a probe event on that topic instead of user.registered; BUS_BATCH=N registers
a batch handler of up to N messages instead of the per-event one.
"""

from __future__ import annotations

import asyncio
import os
import signal

from sqlalchemy.ext.asyncio import AsyncSession

from socialseed.bus import EventConsumer, EventMeta, Inbox, make_broker
from socialseed.contracts import UserRegistered
from socialseed.db import Database
from tests.bus.schema import effects, inbox, probe_event


async def apply(events: list[tuple[UserRegistered, EventMeta]], session: AsyncSession) -> None:
    await session.execute(
        effects.insert(),
        [{"event_id": meta.id, "user_id": event.user_id} for event, meta in events],
    )


async def announce(events: list[tuple[UserRegistered, EventMeta]], stall_user: str | None) -> None:
    for event, _ in events:
        print(f"HANDLING {event.user_id}", flush=True)
    if stall_user in {str(event.user_id) for event, _ in events}:
        await asyncio.sleep(3600)


def build(
    db: Database,
    bootstrap: str,
    group: str,
    stall_user: str | None,
    *,
    topic: str | None = None,
    batch: int | None = None,
) -> EventConsumer:
    broker = make_broker(bootstrap, client_id=group)
    consumer = EventConsumer(broker, db, Inbox(inbox), group_id=group, backoff_initial=0.05)
    event_cls = probe_event(topic) if topic else UserRegistered

    if batch:

        @consumer.batch_handler(event_cls, max_records=batch)
        async def on_batch(
            events: list[tuple[UserRegistered, EventMeta]], session: AsyncSession
        ) -> None:
            await apply(events, session)
            await announce(events, stall_user)

    else:

        @consumer.handler(event_cls)
        async def on_registered(
            event: UserRegistered, session: AsyncSession, meta: EventMeta
        ) -> None:
            await apply([(event, meta)], session)
            await announce([(event, meta)], stall_user)

    return consumer


async def main() -> None:
    db = Database(os.environ["BUS_DB_URL"], pool_size=4)
    consumer = build(
        db,
        os.environ["BUS_KAFKA"],
        os.environ["BUS_GROUP"],
        os.environ.get("BUS_STALL_USER"),
        topic=os.environ.get("BUS_TOPIC"),
        batch=int(os.environ["BUS_BATCH"]) if os.environ.get("BUS_BATCH") else None,
    )
    await consumer.broker.start()
    print("READY", flush=True)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    await consumer.close()
    await consumer.broker.stop()


if __name__ == "__main__":
    asyncio.run(main())
