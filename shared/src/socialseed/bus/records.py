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


@dataclass(frozen=True)
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
    return await original(tuple(_parsable(record) for record in records))


async def raw_body(msg: KafkaMessage, original: Callable[[Any], Awaitable[Any]]) -> Any:
    """No decoding by FastStream: ``decode`` validates the bytes against the contract, so a
    body that is not JSON is a PoisonMessage rather than a failure before the handler."""
    return msg.body


def headers_of(record: Record) -> dict[str, str]:
    return {k: v.decode() for k, v in record.headers}


def decode(event_cls: type[E], record: Record) -> tuple[E, EventMeta]:
    """The event and its CloudEvents attributes, from a record ``_parsable`` has seen."""
    headers = headers_of(record)
    if _UNPARSABLE in headers:
        raise PoisonMessage(f"unparsable record: {headers[_UNPARSABLE]}")
    try:
        meta = EventMeta(
            id=uuid.UUID(headers["ce_id"]),
            type=headers["ce_type"],
            source=headers.get("ce_source", ""),
            subject=headers.get("ce_subject", ""),
            time=datetime.fromisoformat(headers["ce_time"]) if "ce_time" in headers else None,
        )
        if meta.type != event_cls.type_name():
            raise PoisonMessage(f"unexpected ce_type {meta.type!r}")
        return event_cls.from_json(record.value or b""), meta
    except (KeyError, ValueError, ValidationError) as exc:
        raise PoisonMessage(f"{type(exc).__name__}: {exc}") from exc
