from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field


class ApiKeyIn(BaseModel):
    workspace_id: uuid.UUID
    name: str = Field(min_length=1, max_length=100, description="What the key is for")
    role: Literal["owner", "admin", "editor", "viewer"] = Field(
        description="The key's role in the workspace: at most the creator's"
    )


class ApiKeyOut(BaseModel):
    id: uuid.UUID
    workspace_id: uuid.UUID
    name: str
    role: str
    prefix: str = Field(description="The key's first characters, to recognise it by")
    created_by: uuid.UUID
    created_at: datetime
    last_used_at: datetime | None = Field(
        description="When the key was last used (updated at most once a minute)"
    )


class ApiKeyCreated(ApiKeyOut):
    key: str = Field(
        description="The key itself, shown this once: send it as `Authorization: Bearer <key>`"
    )


class ExchangeIn(BaseModel):
    key: str = Field(max_length=200)


class ExchangeOut(BaseModel):
    access_token: str
    key_id: uuid.UUID
    expires_in: int
