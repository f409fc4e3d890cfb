import copy
import json
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest

from socialseed import cli
from socialseed.contracts import (
    ALL_EVENTS,
    PostFailed,
    PostPublished,
    PostScheduled,
    asyncapi,
    eventdocs,
)
from socialseed.outbox import Outbox

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_committed_event_docs_are_current() -> None:
    """Regenerate with `uv run socialseed events-docs --out docs/`."""
    assert eventdocs.drift(DOCS) == []


def test_every_event_is_documented_with_described_fields() -> None:
    doc = asyncapi.document()
    for event in ALL_EVENTS:
        assert event.topic in doc["channels"]
        schema = doc["components"]["schemas"][event.__name__]
        assert all(p.get("description") for p in schema["properties"].values()), event


def test_events_md_lists_every_topic_with_its_key() -> None:
    text = (DOCS / "events.md").read_text()
    rows = dict(re.findall(r"^\| `([a-z_.]+)` \| `([a-z_]+)` \|", text, re.M))
    assert rows == {event.topic: event.key_field for event in ALL_EVENTS}


def _published() -> PostPublished:
    return PostPublished(
        post_id=uuid.uuid4(),
        workspace_id=uuid.uuid4(),
        target_id=uuid.uuid4(),
        account_id=uuid.uuid4(),
        platform="x",
        platform_post_id="1",
        url=None,
        published_at=datetime.now(UTC),
    )


def test_a_field_added_within_a_version_is_accepted_by_schema_and_consumers() -> None:
    body = json.loads(_published().model_dump_json()) | {"added_later": "a new field"}
    schema = json.loads((DOCS / "schemas" / "post.published.json").read_text())
    jsonschema_rs.validate(schema, body)
    assert PostPublished.from_json(json.dumps(body).encode()).platform == "x"
    with pytest.raises(jsonschema_rs.ValidationError):
        jsonschema_rs.validate(schema, {k: v for k, v in body.items() if k != "post_id"})


async def test_the_outbox_refuses_an_event_under_another_key() -> None:
    event = _published()
    outbox = Outbox(table=None, source="/tests")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="keyed by account_id"):
        await outbox.add(None, event, key=str(event.post_id))  # type: ignore[arg-type]


def test_breaking_changes_are_told_from_additive_ones() -> None:
    old = eventdocs.event_schema(PostPublished)

    def changed(edit: Callable[[dict[str, Any]], None], of: dict[str, Any] = old) -> list[str]:
        new = copy.deepcopy(of)
        edit(new)
        return eventdocs.breaking_changes(of, new)

    def add_field(s: dict[str, Any]) -> None:
        s["properties"]["views"] = {"type": "integer", "description": "new"}
        s["required"].append("views")

    assert changed(add_field) == []
    assert changed(lambda s: s["properties"]["url"].update(description="other words")) == []
    assert changed(lambda s: s["properties"].pop("url")) == ["url: removed"]
    assert changed(lambda s: s["properties"].update(url={"type": "string"})) == [
        "url: type, format or values changed"
    ]
    assert changed(lambda s: s["required"].remove("platform")) == [
        "platform: no longer always present"
    ]
    assert changed(lambda s: s.update({"x-kafka-key": "post_id"})) == [
        "key: account_id became post_id"
    ]
    failed = eventdocs.event_schema(PostFailed)
    assert changed(lambda s: s["properties"]["reason_class"]["enum"].append("other"), failed) == [
        "reason_class: type, format or values changed"
    ]
    scheduled = eventdocs.event_schema(PostScheduled)
    assert changed(
        lambda s: s["$defs"]["PostTargetRef"]["properties"].pop("platform"), scheduled
    ) == ["PostTargetRef.platform: removed"]


def test_events_docs_refuses_to_overwrite_a_published_schema_with_a_breaking_change(
    tmp_path: Path,
) -> None:
    eventdocs.write(tmp_path)
    published = tmp_path / "schemas" / "post.published.json"
    schema = json.loads(published.read_text())
    schema["properties"]["legacy"] = {"type": "string", "description": "dropped since"}
    published.write_text(json.dumps(schema))
    with pytest.raises(SystemExit, match=re.escape("schemas/post.published.json: legacy: removed")):
        cli.main(["events-docs", "--out", str(tmp_path)])
    assert "legacy" in published.read_text()
    cli.main(["events-docs", "--out", str(tmp_path), "--breaking"])
    assert eventdocs.drift(tmp_path) == []
