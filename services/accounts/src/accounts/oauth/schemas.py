from __future__ import annotations

import uuid

from pydantic import BaseModel, Field

from accounts.connections.schemas import AccountOut
from socialseed.platforms import Platform


class ConnectIn(BaseModel):
    workspace_id: uuid.UUID
    platform: Platform
    redirect_uri: str | None = Field(
        default=None,
        max_length=2000,
        description="Where the callback sends the browser, with `code` and `state` (or "
        "`error`) appended (an allowed origin); without it the callback answers JSON",
    )


class ConnectOut(BaseModel):
    authorize_url: str = Field(description="Open this in the user's browser")
    state: str = Field(description="Single-use, expires in 10 minutes")


class CallbackOut(BaseModel):
    """What the platform handed back; pass it to `POST /api/v1/accounts/oauth/complete`."""

    state: str
    code: str


class CompleteIn(BaseModel):
    state: str = Field(min_length=1, max_length=200)
    code: str = Field(min_length=1, max_length=2000)


class CompleteOut(BaseModel):
    accounts: list[AccountOut]
