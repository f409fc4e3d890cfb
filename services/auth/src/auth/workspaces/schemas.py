from __future__ import annotations

import uuid
import zoneinfo
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, WithJsonSchema, field_validator

Role = Literal["owner", "admin", "editor", "viewer"]


def _check_timezone(value: str | None) -> str | None:
    if value is None:
        return value
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"{value!r} is not an IANA time zone (e.g. Europe/Paris)") from exc
    return value


def _loadable(name: str) -> bool:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True


# The zones this server knows, in the schema (clients can offer a list; a generated client
# cannot send one we refuse).
TIMEZONES = sorted(z for z in zoneinfo.available_timezones() if _loadable(z))
TimeZone = Annotated[
    str,
    WithJsonSchema(
        {"type": "string", "enum": TIMEZONES, "description": "IANA time zone, e.g. Europe/Paris"}
    ),
]


class WorkspaceIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    timezone: TimeZone = "UTC"
    require_approval: bool = Field(
        default=False, strict=True, description="Editors' posts wait for an admin's approval"
    )

    _tz = field_validator("timezone")(_check_timezone)


class WorkspacePatch(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    timezone: TimeZone | None = None
    require_approval: bool | None = Field(default=None, strict=True)

    _tz = field_validator("timezone")(_check_timezone)


class WorkspaceOut(BaseModel):
    id: uuid.UUID
    name: str
    timezone: str
    require_approval: bool
    role: Role | None = Field(default=None, description="The caller's role in it")


class InvitationIn(BaseModel):
    email: str = Field(
        max_length=320,
        json_schema_extra={"format": "email"},
        description="Whoever signs in with this email may accept",
    )
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
