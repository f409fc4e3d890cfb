from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

# An address by its schema (``format: email``); the server's stricter rules (reserved domains
# receive no mail) answer a named 400 InvalidEmail, see ``users.service.checked_email``.
EmailField = Field(max_length=320, json_schema_extra={"format": "email"})


class RegisterIn(BaseModel):
    email: str = EmailField
    password: str = Field(min_length=8, max_length=4096)
    name: str = Field(min_length=1, max_length=200)


class UserOut(BaseModel):
    id: uuid.UUID
    email: str
    name: str


class LoginIn(BaseModel):
    email: str = Field(max_length=320)
    password: str = Field(max_length=4096)


class RefreshIn(BaseModel):
    refresh_token: str = Field(min_length=1, max_length=200)


class TokenPair(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Seconds until the access token expires")


class AccessToken(BaseModel):
    """The web client's answer (``X-SocialSeed-Client: web``): the refresh token is in the
    HttpOnly cookie, never in the body."""

    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Seconds until the access token expires")


class MeWorkspace(BaseModel):
    id: uuid.UUID
    name: str
    role: str


class MeOut(UserOut):
    workspaces: list[MeWorkspace]
    invitations: list[MeInvitation] = Field(
        description="Open, unexpired invitations to the caller's email"
    )


class MeInvitationWorkspace(BaseModel):
    id: uuid.UUID
    name: str


class MeInvitation(BaseModel):
    """An open invitation to the caller's email: accept or decline it by id."""

    id: uuid.UUID
    workspace: MeInvitationWorkspace
    role: str
    expires_at: datetime
