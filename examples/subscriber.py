"""Print every post SocialSeed publishes, as it goes live.

    pip install aiokafka
    python examples/subscriber.py          # KAFKA_BOOTSTRAP=127.0.0.1:19092 (make up's broker)

Reads the ``post.published`` topic in its own consumer group. Delivery is at least once, so
the same event can arrive twice (a producer retry, a rebalance): skip an event whose
CloudEvents id (the ``ce_id`` header) was already handled. This example remembers ids in
memory; a real subscriber stores them with its own effects, in one transaction. The
payload's fields are in docs/schemas/post.published.json.
"""

import asyncio
import contextlib
import json
import os

from aiokafka import AIOKafkaConsumer

TOPIC = "post.published"
TYPE = "io.socialseed.post.published"  # a new, incompatible version would get a new type


async def main() -> None:
    consumer = AIOKafkaConsumer(
        TOPIC,
        bootstrap_servers=os.environ.get("KAFKA_BOOTSTRAP", "127.0.0.1:19092"),
        group_id=os.environ.get("SUBSCRIBER_GROUP", "example-subscriber"),
        auto_offset_reset="earliest",  # a new group starts from the oldest retained event
        enable_auto_commit=False,  # commit after handling: a crash means a redelivery, not a loss
    )
    await consumer.start()
    seen: set[str] = set()
    try:
        async for record in consumer:
            headers = {key: value.decode() for key, value in record.headers}
            if headers.get("ce_type") == TYPE and headers["ce_id"] not in seen:
                seen.add(headers["ce_id"])
                post = json.loads(record.value)
                link = post["url"] or post["platform_post_id"]
                when, platform, post_id = post["published_at"], post["platform"], post["post_id"]
                print(f"{when} {platform} {link} post={post_id}", flush=True)
            await consumer.commit()
    finally:
        await consumer.stop()


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C stops it
        asyncio.run(main())
