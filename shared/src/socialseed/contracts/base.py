from __future__ import annotations

from typing import ClassVar, Self

from pydantic import BaseModel, ConfigDict


class Event(BaseModel):
    """Base of every event payload. ``topic`` is where it goes; ``event_type`` is its ce_type."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    topic: ClassVar[str]

    @classmethod
    def from_json(cls, body: bytes) -> Self:
        """The event from a record's value (consumers decode with this; a consumer-side
        view of a topic may read its payload differently)."""
        return cls.model_validate_json(body)

    @classmethod
    def type_name(cls) -> str:
        return f"io.socialseed.{cls.topic}"

    @property
    def event_type(self) -> str:
        return self.type_name()
