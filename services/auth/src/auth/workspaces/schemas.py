from __future__ import annotations

import uuid
import zoneinfo
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, EmailStr, Field, field_validator

Role = Literal["owner", "admin", "editor", "viewer"]


def _check_timezone(value: str | None) -> str | None:
    if value is None:
        return value
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"{value!r} is not an IANA time zone (e.g. Europe/Paris)") from exc
    return value


class WorkspaceIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    timezone: str = Field(default="UTC", description="IANA time zone, e.g. Europe/Paris")
    require_approval: bool = Field(
        default=False, description="Editors' posts wait for an admin's approval"
    )

    _tz = field_validator("timezone")(_check_timezone)


class WorkspacePatch(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    timezone: str | None = None
    require_approval: bool | None = None

    _tz = field_validator("timezone")(_check_timezone)


class WorkspaceOut(BaseModel):
    id: uuid.UUID
    name: str
    timezone: str
    require_approval: bool
    role: Role | None = Field(default=None, description="The caller's role in it")


class InvitationIn(BaseModel):
    email: EmailStr = Field(description="Whoever signs in with this email may accept")
    role: Role


class InvitationOut(BaseModel):
    """The same answer whether or not anyone has registered the email."""

    id: uuid.UUID
    email: str
    role: Role
    expires_at: datetime


class MemberPatch(BaseModel):
    role: Role


class MemberOut(BaseModel):
    workspace_id: uuid.UUID
    user_id: uuid.UUID
    email: str
    name: str
    role: Role
