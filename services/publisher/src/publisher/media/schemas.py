from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

#: The longest alt text any platform we send it to takes (X: 1,000 characters; LinkedIn takes
#: 4,086, Instagram states no limit), so a stored one is never refused.
ALT_TEXT_MAX = 1000


class MediaOut(BaseModel):
    id: uuid.UUID
    workspace_id: uuid.UUID
    kind: str = Field(description="image or video")
    mime_type: str
    size: int
    width: int | None
    height: int | None
    duration_s: float | None = Field(description="Videos: length in seconds")
    alt_text: str | None = Field(description="Describes an image for people who cannot see it")
    url: str = Field(description="A signed address of the file that expires")
    created_at: datetime


class MediaPatch(BaseModel):
    """What may change on an uploaded file."""

    model_config = ConfigDict(extra="forbid")

    alt_text: str | None = Field(
        max_length=ALT_TEXT_MAX,
        description="The image's alt text, sent to X, LinkedIn and Instagram with it "
        f"(at most {ALT_TEXT_MAX} characters, X's limit); null or empty removes it. Images only.",
    )
