from __future__ import annotations

from typing import ClassVar, Self

from pydantic import BaseModel, ConfigDict


class Event(BaseModel):
    """Base of every event payload. ``topic`` is where it goes; ``event_type`` is its ce_type;
    ``key_field`` names the field whose value is the Kafka key (and ``ce_subject``): events of
    one key go to one partition, so a subscriber sees them in the order they were written."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    topic: ClassVar[str]
    key_field: ClassVar[str]

    @classmethod
    def from_json(cls, body: bytes) -> Self:
        """The event from a record's value (consumers decode with this; a consumer-side
        view of a topic may read its payload differently)."""
        # Fields this code does not know yet are ignored, not refused: a producer may add a
        # field within a type version before every consumer is upgraded (docs/events.md).
        return cls.model_validate_json(body, extra="ignore")

    @classmethod
    def type_name(cls) -> str:
        return f"io.socialseed.{cls.topic}"

    @property
    def event_type(self) -> str:
        return self.type_name()

    @property
    def key(self) -> str:
        """The Kafka key this event must be written with (``key_field``'s value)."""
        return str(getattr(self, self.key_field))
