"""Rows for the publisher's tests, written straight through the ORM (no service rules, no
events): plain async functions with keyword-only arguments, each adding and flushing its row in
the session it is given and returning it."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from publisher.models import AccountView, Approval, Media, Post, Target, TargetStatus
from publisher.posts.status import derive
from socialseed.platforms.base import MediaKind

MB = 1024 * 1024


def workspace() -> uuid.UUID:
    """A workspace of the test's own: nothing else in the database belongs to it."""
    return uuid.uuid4()


async def create_account(
    session: AsyncSession,
    *,
    workspace: uuid.UUID,
    platform: str = "x",
    status: str = "active",
    username: str = "ada",
) -> AccountView:
    account = AccountView(
        id=uuid.uuid4(),
        workspace_id=workspace,
        platform=platform,
        username=username,
        status=status,
        updated_at=datetime.now(UTC),
    )
    session.add(account)
    await session.flush()
    return account


async def create_media(
    session: AsyncSession,
    *,
    workspace: uuid.UUID,
    kind: MediaKind | str = MediaKind.IMAGE,
    mime_type: str | None = None,
    size: int = MB,
    width: int | None = 1080,
    height: int | None = 1080,
    duration_s: float | None = None,
) -> Media:
    kind = MediaKind(kind)
    video = kind is MediaKind.VIDEO
    media = Media(
        id=uuid.uuid4(),
        workspace_id=workspace,
        uploaded_by=uuid.uuid4(),
        kind=kind.value,
        mime_type=mime_type or ("video/mp4" if video else "image/jpeg"),
        size=size,
        width=width,
        height=height,
        duration_s=duration_s if duration_s is not None else (10.0 if video else None),
        codec="h264" if video else None,
        storage_key=f"{workspace}/{uuid.uuid4()}",
        sha256=hashlib.sha256(uuid.uuid4().bytes).hexdigest(),
    )
    session.add(media)
    await session.flush()
    return media


async def create_post(
    session: AsyncSession,
    *,
    workspace: uuid.UUID,
    text: str = "hi",
    accounts: Sequence[AccountView] = (),
    statuses: Sequence[TargetStatus | str] | None = None,
    scheduled_at: datetime | None = None,
    due_at: Sequence[datetime | None] | datetime | None = None,
    approval: Approval | str = Approval.NOT_REQUIRED,
    published_at: datetime | None = None,
) -> Post:
    """A post with one target per account (``statuses``: each target's, default scheduled),
    due at ``scheduled_at`` (default: in a day) unless ``due_at`` says otherwise (one instant
    for all, or one per target); its status derived as the service derives it."""
    scheduled_at = scheduled_at or datetime.now(UTC) + timedelta(days=1)
    statuses = list(statuses or [TargetStatus.SCHEDULED] * len(accounts))
    assert len(statuses) == len(accounts), "one status per account"
    if isinstance(due_at, Sequence):
        dues = list(due_at)
    else:
        dues = [due_at or scheduled_at] * len(accounts)
    post = Post(
        id=uuid.uuid4(),
        workspace_id=workspace,
        author_id=uuid.uuid4(),
        text=text,
        media_ids=[],
        scheduled_at=scheduled_at,
        timezone="UTC",
        approval=Approval(approval),
        status=derive(approval, statuses) if accounts else "scheduled",
        targets=[
            Target(
                id=uuid.uuid4(),
                position=i,
                workspace_id=workspace,
                account_id=account.id,
                platform=account.platform,
                options={},
                status=TargetStatus(status),
                due_at=due,
                progress={},
                attempts=0,
                dispatches=0,
                published_at=published_at if status == TargetStatus.PUBLISHED else None,
            )
            for i, (account, status, due) in enumerate(zip(accounts, statuses, dues, strict=True))
        ],
    )
    session.add(post)
    await session.flush()
    return post
