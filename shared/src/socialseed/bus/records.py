"""Kafka records as events: CloudEvents attributes from the headers, the body validated
against its contract; records FastStream could not parse are marked so they are
dead-lettered like any poison."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeAlias, TypeVar

from aiokafka import ConsumerRecord
from faststream.kafka import KafkaMessage
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from socialseed.bus.failures import PoisonMessage
from socialseed.contracts.base import Event

E = TypeVar("E", bound=Event)


@dataclass(frozen=True, slots=True)
class EventMeta:
    """CloudEvents attributes of a consumed event."""

    id: uuid.UUID
    type: str
    source: str
    subject: str
    time: datetime | None


Handler = Callable[[E, AsyncSession, EventMeta], Awaitable[None]]
BatchHandler = Callable[[list[tuple[E, EventMeta]], AsyncSession], Awaitable[None]]
Record: TypeAlias = ConsumerRecord[bytes, bytes]


# Set by ``_parsable`` on a record FastStream could not parse; ``decode`` makes it a
# PoisonMessage.
_UNPARSABLE = "x-socialseed-unparsable"


def _clean_header(value: bytes | None) -> bytes:
    if value is None:
        return b""
    return value.decode("utf-8", errors="backslashreplace").encode()


def _parsable(record: Any) -> Any:
    """The record, or, if a header value is null or not UTF-8 (FastStream's parser would fail
    on it before our handler sees it, and the next offset commit would skip it), a copy with
    printable headers marked unparsable, so it is dead-lettered like any poison."""
    try:
        for _, value in record.headers:
            value.decode()
    except (AttributeError, UnicodeDecodeError) as exc:
        headers = [(k, _clean_header(v)) for k, v in record.headers]
        headers.append((_UNPARSABLE, f"{type(exc).__name__}: {exc}"[:500].encode()))
        clean = dataclasses.replace(record, headers=tuple(headers))
        if hasattr(record, "consumer"):
            clean.consumer = record.consumer
        return clean
    return record


async def parse_record(
    record: Any, original: Callable[[Any], Awaitable[KafkaMessage]]
) -> KafkaMessage:
    return await original(_parsable(record))


async def parse_batch(
    records: tuple[Any, ...], original: Callable[[Any], Awaitable[KafkaMessage]]
) -> KafkaMessage:
    """FastStream's batch parser turns every record's headers into a dictionary (its
    ``batch_headers``, read again per record for trace links and baggage, which our events do
    not carry): a sixth of a batch consumer's CPU. The consumer reads the records itself
    (``decode_meta``), so FastStream parses the first one only and the message carries them
    all, with all their bodies (its metrics count the batch's bytes)."""
    checked = tuple(_parsable(record) for record in records)
    msg = await original(checked[:1])
    msg.raw_message = checked
    msg.body = [record.value or b"" for record in checked]
    first, last = checked[0], checked[-1]
    msg.message_id = f"{first.offset}-{last.offset}-{first.timestamp}"
    return msg


async def raw_body(msg: KafkaMessage, original: Callable[[Any], Awaitable[Any]]) -> Any:
    """No decoding by FastStream: ``decode`` validates the bytes against the contract, so a
    body that is not JSON is a PoisonMessage rather than a failure before the handler."""
    return msg.body


def headers_of(record: Record) -> dict[str, str]:
    return {k: v.decode() for k, v in record.headers}


def decode_meta(event_cls: type[E], record: Record) -> EventMeta:
    """The CloudEvents attributes of a record ``_parsable`` has seen, in one pass over its
    headers (no dictionary of them all), or PoisonMessage."""
    event_id = event_type = event_time = None
    source = subject = b""
    for key, value in record.headers:
        if key == "ce_id":
            event_id = value
        elif key == "ce_type":
            event_type = value
        elif key == "ce_time":
            event_time = value
        elif key == "ce_source":
            source = value
        elif key == "ce_subject":
            subject = value
        elif key == _UNPARSABLE:
            raise PoisonMessage(f"unparsable record: {value.decode()}")
    try:
        if event_id is None or event_type is None:
            raise KeyError("ce_id" if event_id is None else "ce_type")
        meta = EventMeta(
            id=uuid.UUID(event_id.decode()),
            type=event_type.decode(),
            source=source.decode(),
            subject=subject.decode(),
            time=datetime.fromisoformat(event_time.decode()) if event_time else None,
        )
    except (KeyError, ValueError) as exc:
        raise PoisonMessage(f"{type(exc).__name__}: {exc}") from exc
    if meta.type != _type_names.get(event_cls) and meta.type != _type_name(event_cls):
        raise PoisonMessage(f"unexpected ce_type {meta.type!r}")
    return meta


_type_names: dict[type[Event], str] = {}


def _type_name(event_cls: type[Event]) -> str:
    name = _type_names[event_cls] = event_cls.type_name()
    return name


def decode(event_cls: type[E], record: Record) -> tuple[E, EventMeta]:
    """The event and its CloudEvents attributes, from a record ``_parsable`` has seen."""
    meta = decode_meta(event_cls, record)
    try:
        return event_cls.from_json(record.value or b""), meta
    except (ValueError, ValidationError) as exc:
        raise PoisonMessage(f"{type(exc).__name__}: {exc}") from exc
