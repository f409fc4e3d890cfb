"""Workspace membership changes seen by services other than auth.

An access token carries the caller's workspace roles for its whole life (minutes). Auth
publishes ``workspace.member_changed`` whenever someone joins, changes role or leaves; a service
that records those events (``track_member_changes``) in a ``member_changes`` table
(``member_changes_table``) and sets ``Runtime.member_changes`` narrows every token that predates
a change: the workspace's role becomes the lower of the token's and the current one, and a
removed member loses the workspace (the next request is a 404). A fresh token carries fresh
roles and is unaffected.

Both times come from auth's clock: ``changed_at`` is the event's own field, set by auth, and
``iat`` is set by auth when it signs the token, so service clocks play no part. ``iat`` has
whole-second precision; a change in the same second as the token counts as later, and because
the role kept is the lower of the two, that can only narrow, never widen.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime

from sqlalchemy import Column, DateTime, Index, MetaData, String, Table, case, func, select
from sqlalchemy.dialects.postgresql import UUID, insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from socialseed.bus import EventConsumer, EventMeta
from socialseed.contracts import WorkspaceMemberChanged
from socialseed.notify import Listener, NotifiedCache
from socialseed.security import ROLE_RANK, Principal

#: A member's recorded changes: (workspace, role since or None once removed, when).
Changes = tuple[tuple[uuid.UUID, str | None, datetime], ...]


def member_changes_table(metadata: MetaData) -> Table:
    """The latest change per (workspace, member): when (auth's clock) and the role since (null
    once removed). Looked up by member and time on every authenticated request."""
    return Table(
        "member_changes",
        metadata,
        Column("workspace_id", UUID(as_uuid=True), primary_key=True),
        Column("user_id", UUID(as_uuid=True), primary_key=True),
        Column("role", String(20), nullable=True),
        Column("changed_at", DateTime(timezone=True), nullable=False),
        Index("ix_member_changes_user_changed", "user_id", "changed_at"),
    )


async def record_member_change(
    session: AsyncSession, table: Table, event: WorkspaceMemberChanged
) -> None:
    """Upsert the change; an older event arriving late never overwrites a newer one."""
    stmt = insert(table).values(
        workspace_id=event.workspace_id,
        user_id=event.user_id,
        role=event.role,
        changed_at=event.changed_at,
    )
    newer = stmt.excluded.changed_at >= table.c.changed_at
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[table.c.workspace_id, table.c.user_id],
            set_={
                "role": case((newer, stmt.excluded.role), else_=table.c.role),
                "changed_at": func.greatest(table.c.changed_at, stmt.excluded.changed_at),
            },
        )
    )
    # Delivered when this transaction commits: processes holding the member's changes in
    # memory (``MembershipCache``) drop them.
    await session.execute(select(func.pg_notify(member_channel(table), str(event.user_id))))


def member_channel(table: Table) -> str:
    """The ``NOTIFY`` channel of ``table``'s changes (one per schema: services may share a
    database)."""
    return f"{table.schema or 'public'}.member_changes"


def track_member_changes(consumer: EventConsumer, table: Table) -> None:
    """Record auth's ``workspace.member_changed`` events in ``table`` through ``consumer``'s
    inbox."""

    @consumer.handler(WorkspaceMemberChanged)
    async def on_member_changed(
        event: WorkspaceMemberChanged, session: AsyncSession, meta: EventMeta
    ) -> None:
        await record_member_change(session, table, event)


def narrow_roles(
    roles: Mapping[uuid.UUID, str], changes: Mapping[uuid.UUID, str | None]
) -> dict[uuid.UUID, str]:
    """The token's roles, each workspace that changed since lowered to its current role (and
    dropped once the member left). Never adds a workspace or raises a role."""
    narrowed: dict[uuid.UUID, str] = {}
    for workspace_id, role in roles.items():
        if workspace_id not in changes:
            narrowed[workspace_id] = role
            continue
        current = changes[workspace_id]
        if current is None or current not in ROLE_RANK:
            continue
        narrowed[workspace_id] = min(role, current, key=lambda r: ROLE_RANK.get(r, 0))
    return narrowed


async def current_principal(
    conn: AsyncConnection | AsyncSession,
    table: Table,
    principal: Principal,
    cache: MembershipCache | None = None,
) -> Principal:
    """``principal`` with the membership changes made after its token was issued applied;
    the member's changes from ``cache`` when given (no query while it holds them)."""
    if not principal.roles:
        return principal
    issued_at = principal.issued_at or datetime.fromtimestamp(0, UTC)
    if cache is None:
        rows = await conn.execute(
            select(table.c.workspace_id, table.c.role).where(
                table.c.user_id == principal.user_id, table.c.changed_at >= issued_at
            )
        )
        changes = {row.workspace_id: row.role for row in rows}
    else:
        recorded = await cache.changes(conn, principal.user_id)
        changes = {ws: role for ws, role, at in recorded if at >= issued_at}
    if not changes:
        return principal
    return principal.with_roles(narrow_roles(principal.roles, changes))


class MembershipCache:
    """Each member's recorded changes in process memory, dropped when ``record_member_change``
    notifies (``socialseed.notify``): an authenticated request makes no membership query
    while the member's changes are held. A removed member loses access once the
    notification arrives (milliseconds after the change commits)."""

    def __init__(self, listener: Listener, table: Table, *, maxsize: int = 10_000) -> None:
        self.table = table
        self.cache: NotifiedCache[uuid.UUID, Changes] = NotifiedCache(
            listener, member_channel(table), uuid.UUID, maxsize=maxsize
        )

    async def changes(self, conn: AsyncConnection | AsyncSession, user_id: uuid.UUID) -> Changes:
        async def load(ids: list[uuid.UUID]) -> dict[uuid.UUID, Changes]:
            t = self.table
            rows = await conn.execute(
                select(t.c.workspace_id, t.c.role, t.c.changed_at).where(t.c.user_id == ids[0])
            )
            return {ids[0]: tuple((r.workspace_id, r.role, r.changed_at) for r in rows)}

        return (await self.cache.get_many([user_id], load))[user_id]
