"""A consumer process for the bus tests: ``python -m tests.bus.consumer_app``.

Env: BUS_DB_URL, BUS_KAFKA, BUS_GROUP, and BUS_STALL_USER (a user id whose event the handler
applies, announces, then stalls on before committing — so a test can kill it mid-handler).
"""

from __future__ import annotations

import asyncio
import os
import signal

from sqlalchemy.ext.asyncio import AsyncSession

from socialseed.bus import EventConsumer, EventMeta, Inbox, make_broker
from socialseed.contracts import UserRegistered
from socialseed.db import Database
from tests.bus.schema import effects, inbox


def build(db: Database, bootstrap: str, group: str, stall_user: str | None) -> EventConsumer:
    broker = make_broker(bootstrap, client_id=group)
    consumer = EventConsumer(broker, db, Inbox(inbox), group_id=group, backoff_initial=0.05)

    @consumer.handler(UserRegistered)
    async def on_registered(event: UserRegistered, session: AsyncSession, meta: EventMeta) -> None:
        await session.execute(effects.insert().values(event_id=meta.id, user_id=event.user_id))
        print(f"HANDLING {event.user_id}", flush=True)
        if stall_user == str(event.user_id):
            await asyncio.sleep(3600)

    return consumer


async def main() -> None:
    db = Database(os.environ["BUS_DB_URL"], pool_size=2)
    consumer = build(
        db, os.environ["BUS_KAFKA"], os.environ["BUS_GROUP"], os.environ.get("BUS_STALL_USER")
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
