"""Dead letters: a message no retry can apply goes to ``<topic>.dlq`` as it was, with why,
by whom and from where in its headers, so an operator can read it and send it back."""

from __future__ import annotations

from faststream.kafka import KafkaBroker

from socialseed import tracing
from socialseed.bus.broker import dlq_topic
from socialseed.bus.records import Record, headers_of


async def dead_letter(
    broker: KafkaBroker, record: Record, topic: str, consumer: str, exc: BaseException
) -> None:
    """Publish ``record`` to ``topic``'s dead-letter topic; raises if the broker refuses."""
    headers = headers_of(record) | {
        "x-dlq-reason": f"{type(exc).__name__}: {exc}"[:1000],
        "x-dlq-consumer": consumer,
        "x-dlq-original-offset": f"{record.partition}:{record.offset}",
    }
    tracer, span = tracing.broker_tracer(broker), None
    if tracer is not None:  # under the record's trace (the consumer made it current)
        message_id = headers.get("ce_id", f"{record.partition}:{record.offset}")
        span, headers = tracing.start_publish(
            tracer, dlq_topic(topic), headers, message_id=message_id, key=None
        )
    try:
        await broker.publish(
            record.value or b"", topic=dlq_topic(topic), key=record.key, headers=headers
        )
    except BaseException as exc:
        if span is not None:
            tracing.end_span(span, exc)
        raise
    if span is not None:
        tracing.end_span(span, None)
