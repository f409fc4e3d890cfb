"""The events' public contract as an AsyncAPI 3.0 document (``socialseed asyncapi``).

Generated from the pydantic payload models, so the document cannot drift from the code; a test
checks that the committed ``docs/asyncapi.json`` is current.
"""

from __future__ import annotations

from typing import Any

from socialseed.contracts import ALL_EVENTS
from socialseed.contracts.base import Event

CE_HEADERS: dict[str, Any] = {
    "type": "object",
    "description": "CloudEvents 1.0 binary-mode attributes and W3C trace context",
    "properties": {
        "ce_specversion": {"type": "string", "const": "1.0"},
        "ce_id": {"type": "string", "format": "uuid", "description": "Event id (dedupe key)"},
        "ce_type": {"type": "string", "description": "io.socialseed.<topic>"},
        "ce_source": {"type": "string", "description": "/socialseed/<service>"},
        "ce_time": {"type": "string", "format": "date-time"},
        "ce_subject": {"type": "string", "description": "The aggregate id (also the key)"},
        "content-type": {"type": "string", "const": "application/json"},
        "traceparent": {"type": "string", "description": "W3C trace context"},
    },
    "required": ["ce_specversion", "ce_id", "ce_type", "ce_source", "ce_time"],
}


def open_schema(schema: Any) -> Any:
    """The schema without ``additionalProperties: false``: a field may be added within a type
    version, so a subscriber must accept (and ignore) properties it does not list."""
    if isinstance(schema, dict):
        return {
            k: open_schema(v)
            for k, v in schema.items()
            if (k, v) != ("additionalProperties", False)
        }
    if isinstance(schema, list):
        return [open_schema(v) for v in schema]
    return schema


def key_schema(event: type[Event]) -> dict[str, Any]:
    """The record key: the value of the event's ``key_field`` (also its ``ce_subject``)."""
    field = event.model_json_schema()["properties"][event.key_field]
    return {
        "type": "string",
        **({"format": field["format"]} if "format" in field else {}),
        "description": f"The event's {event.key_field}: its events share a partition, in order",
    }


def document() -> dict[str, Any]:
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    for event in ALL_EVENTS:
        name = event.__name__
        schema = open_schema(event.model_json_schema(ref_template="#/components/schemas/{model}"))
        schemas.update(schema.pop("$defs", {}))
        schemas[name] = schema
        messages[name] = {
            "name": event.type_name(),
            "title": name,
            "summary": (event.__doc__ or "").strip(),
            "contentType": "application/json",
            "headers": CE_HEADERS,
            "payload": {"$ref": f"#/components/schemas/{name}"},
            "bindings": {"kafka": {"key": key_schema(event), "bindingVersion": "0.5.0"}},
        }
        channels[event.topic] = {
            "address": event.topic,
            "messages": {name: {"$ref": f"#/components/messages/{name}"}},
        }
        operations[f"publish.{event.topic}"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{event.topic}"},
        }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "SocialSeed events",
            "version": "1",
            "description": "Kafka topics SocialSeed publishes. Each message carries CloudEvents "
            "binary headers; the Kafka key is the aggregate id. Failed consumptions are parked "
            "in <topic>.dlq.",
        },
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": schemas},
    }
