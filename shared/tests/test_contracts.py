import json
from pathlib import Path

from socialseed.contracts import ALL_EVENTS, asyncapi

DOC = Path(__file__).resolve().parents[2] / "docs" / "asyncapi.json"


def test_committed_asyncapi_is_current() -> None:
    """Regenerate with `uv run socialseed asyncapi --out docs/asyncapi.json`."""
    assert json.loads(DOC.read_text()) == asyncapi.document()


def test_every_event_is_documented_with_described_fields() -> None:
    doc = asyncapi.document()
    for event in ALL_EVENTS:
        assert event.topic in doc["channels"]
        schema = doc["components"]["schemas"][event.__name__]
        assert all(p.get("description") for p in schema["properties"].values()), event
