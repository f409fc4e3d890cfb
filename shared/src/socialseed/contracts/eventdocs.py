"""The documents event subscribers read, generated from the contract models
(``socialseed events-docs --out docs/``): the AsyncAPI document (``asyncapi.json``), one JSON
Schema per event (``schemas/<topic>.json``) and one for the CloudEvents headers
(``schemas/cloudevents-headers.json``). ``drift`` names the committed files that no longer
match the code; a test runs it on ``docs/``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from socialseed.contracts import ALL_EVENTS, asyncapi
from socialseed.contracts.base import Event

JSON_SCHEMA = "https://json-schema.org/draft/2020-12/schema"
SCHEMAS = "schemas"
HEADERS_SCHEMA = "cloudevents-headers.json"


def event_schema(event: type[Event]) -> dict[str, Any]:
    """The payload (the record's value) of one event as a standalone JSON Schema."""
    schema = asyncapi.open_schema(event.model_json_schema())
    schema["description"] = (event.__doc__ or "").strip()
    return {
        "$schema": JSON_SCHEMA,
        **schema,
        "x-topic": event.topic,
        "x-cloudevents-type": event.type_name(),
        "x-kafka-key": event.key_field,
    }


def headers_schema() -> dict[str, Any]:
    return {"$schema": JSON_SCHEMA, "title": "CloudEvents headers", **asyncapi.CE_HEADERS}


def _text(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def files() -> dict[str, str]:
    """Path relative to the docs directory -> its content."""
    out = {"asyncapi.json": _text(asyncapi.document())}
    out[f"{SCHEMAS}/{HEADERS_SCHEMA}"] = _text(headers_schema())
    for event in ALL_EVENTS:
        out[f"{SCHEMAS}/{event.topic}.json"] = _text(event_schema(event))
    return out


def _stale(docs: Path, wanted: dict[str, str]) -> list[Path]:
    """Schema files no event produces any more (a removed or renamed event)."""
    return [
        p for p in sorted((docs / SCHEMAS).glob("*.json")) if f"{SCHEMAS}/{p.name}" not in wanted
    ]


def write(docs: Path) -> list[str]:
    """Write every file under ``docs`` and delete stale schemas; returns what changed."""
    wanted = files()
    changed = drift(docs)
    (docs / SCHEMAS).mkdir(parents=True, exist_ok=True)
    for name, text in wanted.items():
        path = docs / name
        if not path.is_file() or path.read_text() != text:
            path.write_text(text)
    for path in _stale(docs, wanted):
        path.unlink()
    return changed


def drift(docs: Path) -> list[str]:
    """The files under ``docs`` that are missing, differ from the code, or are stale."""
    wanted = files()
    out = [
        name
        for name, text in wanted.items()
        if not (docs / name).is_file() or (docs / name).read_text() != text
    ]
    return out + [f"{SCHEMAS}/{p.name} (stale)" for p in _stale(docs, wanted)]
