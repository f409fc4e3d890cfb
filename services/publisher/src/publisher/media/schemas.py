from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field


class MediaOut(BaseModel):
    id: uuid.UUID
    workspace_id: uuid.UUID
    kind: str = Field(description="image or video")
    mime_type: str
    size: int
    width: int | None
    height: int | None
    duration_s: float | None = Field(description="Videos: length in seconds")
    url: str = Field(description="A signed address of the file that expires")
    created_at: datetime
