from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict


class Event(BaseModel):
    """Base of every event payload. ``topic`` is where it goes; ``event_type`` is its ce_type."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    topic: ClassVar[str]

    @classmethod
    def type_name(cls) -> str:
        return f"io.socialseed.{cls.topic}"

    @property
    def event_type(self) -> str:
        return self.type_name()
