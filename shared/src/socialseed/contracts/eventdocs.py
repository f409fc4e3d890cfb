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


_WORDS = {"description", "title", "examples"}


def _shape(schema: Any) -> Any:
    """A schema without its words: what a change must leave alone to stay compatible."""
    if isinstance(schema, dict):
        return {k: _shape(v) for k, v in schema.items() if k not in _WORDS}
    if isinstance(schema, list):
        return [_shape(v) for v in schema]
    return schema


def _object_changes(where: str, old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    out = []
    for name, prop in old.get("properties", {}).items():
        if name not in new.get("properties", {}):
            out.append(f"{where}{name}: removed")
        elif _shape(prop) != _shape(new["properties"][name]):
            out.append(f"{where}{name}: type, format or values changed")
    for name in set(old.get("required", [])) - set(new.get("required", [])):
        if name in new.get("properties", {}):
            out.append(f"{where}{name}: no longer always present")
    return out


def breaking_changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """What in ``new`` is not an additive change of the published ``old`` schema (docs/events.md,
    "Versioning"): a field removed or renamed, its type, format or set of values changed, a field
    no longer always present, another key. New fields and new words are additive."""
    out = _object_changes("", old, new)
    for name, item in old.get("$defs", {}).items():
        if name in new.get("$defs", {}):
            out += _object_changes(f"{name}.", item, new["$defs"][name])
    if old.get("x-kafka-key") != new.get("x-kafka-key"):
        out.append(f"key: {old.get('x-kafka-key')} became {new.get('x-kafka-key')}")
    return out


def breaking(docs: Path) -> dict[str, list[str]]:
    """Schema file -> its breaking changes, for the committed schemas the code would rewrite."""
    out = {}
    for name, text in files().items():
        path = docs / name
        if name == f"{SCHEMAS}/{HEADERS_SCHEMA}" or not path.is_file():
            continue
        if name.startswith(f"{SCHEMAS}/") and (
            changes := breaking_changes(json.loads(path.read_text()), json.loads(text))
        ):
            out[name] = changes
    return out


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
