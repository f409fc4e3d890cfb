from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import Field

from socialseed.contracts.base import Event

Role = Literal["owner", "admin", "editor", "viewer"]


class UserRegistered(Event):
    """A person created a SocialSeed login."""

    topic = "user.registered"
    key_field = "user_id"

    user_id: uuid.UUID = Field(description="The new user's id")
    email: str = Field(description="Login email, lower-cased")
    name: str = Field(description="Display name")
    registered_at: datetime = Field(description="When the account was created (UTC)")


class WorkspaceMemberChanged(Event):
    """Someone joined a workspace, changed role or left it."""

    topic = "workspace.member_changed"
    key_field = "workspace_id"

    workspace_id: uuid.UUID = Field(description="The workspace")
    user_id: uuid.UUID = Field(description="The member")
    change: Literal["added", "role_changed", "removed"] = Field(description="What happened")
    role: Role | None = Field(description="The member's role now; null once removed")
    changed_by: uuid.UUID = Field(description="Who made the change")
    changed_at: datetime = Field(description="When (UTC)")


class WorkspaceUpdated(Event):
    """A workspace was created or its settings changed (the whole current state)."""

    topic = "workspace.updated"
    key_field = "workspace_id"

    workspace_id: uuid.UUID = Field(description="The workspace")
    name: str = Field(description="Its name")
    timezone: str = Field(description="IANA time zone wall-clock schedules are read in")
    require_approval: bool = Field(description="Editors' posts need an admin's approval")
    updated_at: datetime = Field(description="When (UTC)")
