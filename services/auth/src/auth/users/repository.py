from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, DateTime, Select, Uuid, bindparam, delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import aggregate_order_by, insert
from sqlalchemy.engine import Row

from auth.models import (
    AuditEvent,
    Invitation,
    LoginAttempt,
    Membership,
    RefreshToken,
    User,
    Workspace,
)
from auth.workspaces.repository import open_invitation
from socialseed.repository import Repository, RepositoryBase

# Instants inside the JSON arrays: UTC, microseconds kept, whatever the session's TimeZone.
_UTC_ISO = 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'


def _json_array(*values: Any, order_by: tuple[Any, ...]) -> Any:
    """A JSON array of arrays (one per row, ``values`` in order, rows by ``order_by``), ``[]``
    when there is no row."""
    rows = func.json_agg(aggregate_order_by(func.json_build_array(*values), *order_by))
    return func.coalesce(rows, func.json_build_array(), type_=JSON)


def _me_statement() -> Select[Any]:
    """``UserRepository.me``'s statement, built once: building it per request cost more than
    running it."""
    workspaces = (
        select(
            _json_array(
                Workspace.id, Workspace.name, Membership.role, order_by=(Workspace.created_at,)
            )
        )
        .select_from(Membership)
        .join(Workspace, Workspace.id == Membership.workspace_id)
        .where(Membership.user_id == User.id)
        .scalar_subquery()
    )
    invitations = (
        select(
            _json_array(
                Invitation.id,
                Workspace.id,
                Workspace.name,
                Invitation.role,
                func.to_char(func.timezone("UTC", Invitation.expires_at), _UTC_ISO),
                order_by=(Invitation.created_at, Invitation.id),
            )
        )
        .select_from(Invitation)
        .join(Workspace, Workspace.id == Invitation.workspace_id)
        .where(
            Invitation.email == User.email,
            Invitation.expires_at > bindparam("now", type_=DateTime(timezone=True)),
            *open_invitation(),
        )
        .scalar_subquery()
    )
    return select(
        User.id,
        User.email,
        User.name,
        workspaces.label("workspaces"),
        invitations.label("invitations"),
    ).where(User.id == bindparam("user_id", type_=Uuid))


_ME = _me_statement()


class UserRepository(Repository[User]):
    model = User

    async def create(self, *, email: str, name: str, password_hash: str) -> User | None:
        """Insert; None when the email is taken (no exception, no aborted transaction)."""
        row = await self.session.execute(
            insert(User)
            .values(id=uuid.uuid4(), email=email, name=name, password_hash=password_hash)
            .on_conflict_do_nothing(index_elements=["email"])
            .returning(User)
        )
        return row.scalar_one_or_none()

    async def by_email(self, email: str) -> User | None:
        result = await self.session.execute(select(User).where(User.email == email))
        return result.scalar_one_or_none()

    async def by_id(self, user_id: uuid.UUID) -> User | None:
        return await self.session.get(User, user_id)

    async def set_password_hash(self, user_id: uuid.UUID, password_hash: str) -> None:
        await self.session.execute(
            update(User).where(User.id == user_id).values(password_hash=password_hash)
        )

    async def roles(self, user_id: uuid.UUID) -> dict[uuid.UUID, str]:
        rows = await self.session.execute(
            select(Membership.workspace_id, Membership.role).where(Membership.user_id == user_id)
        )
        return {ws: role for ws, role in rows.tuples()}

    async def me(self, user_id: uuid.UUID, now: datetime) -> Row[tuple[object, ...]] | None:
        """The user (``id``, ``email``, ``name``), their workspaces (``[[id, name, role]]``,
        oldest first) and the open, unexpired invitations to their email (``[[id, workspace
        id, workspace name, role, expires_at]]``), in one statement: one round trip, one
        snapshot."""
        result = await self.session.execute(_ME, {"user_id": user_id, "now": now})
        return result.one_or_none()

    async def audit(
        self, kind: str, *, user_id: uuid.UUID | None, ip: str | None, **detail: object
    ) -> None:
        self.session.add(AuditEvent(kind=kind, user_id=user_id, ip=ip, detail=detail))


class RefreshTokenRepository(Repository[RefreshToken]):
    model = RefreshToken

    async def by_hash(self, token_hash: bytes) -> RefreshToken | None:
        result = await self.session.execute(
            select(RefreshToken).where(RefreshToken.token_hash == token_hash)
        )
        return result.scalar_one_or_none()

    async def lock_by_hash(self, token_hash: bytes) -> RefreshToken | None:
        """The token row, locked: two concurrent refreshes with one token are serialised,
        so the second sees it used (and revokes the family) instead of racing."""
        result = await self.session.execute(
            select(RefreshToken)
            .where(RefreshToken.token_hash == token_hash)
            .with_for_update()
            # The row may have been read unlocked just before: take the locked state.
            .execution_options(populate_existing=True)
        )
        return result.scalar_one_or_none()

    async def revoke_family(
        self, family_id: uuid.UUID, at: datetime, *, except_id: uuid.UUID | None = None
    ) -> int:
        statement = (
            update(RefreshToken)
            .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=at)
        )
        if except_id is not None:
            statement = statement.where(RefreshToken.id != except_id)
        result = await self.session.execute(statement)
        return int(result.rowcount)  # type: ignore[attr-defined]


class LoginAttemptRepository(RepositoryBase):
    async def hit(
        self, key_hash: bytes, *, amount: int, window: timedelta, now: datetime
    ) -> float | None:
        """Count one attempt unless ``amount`` were counted within ``window`` (a moving
        window); when refused, the seconds until the oldest of them leaves it. Serialised per
        key by a transaction-scoped advisory lock: two processes cannot both take the last
        attempt."""
        lock_id = int.from_bytes(key_hash[:8], "big", signed=True)
        await self.session.execute(select(func.pg_advisory_xact_lock(lock_id)))
        mine = LoginAttempt.key_hash == key_hash
        await self.session.execute(
            delete(LoginAttempt).where(mine, LoginAttempt.at <= now - window)
        )
        count, oldest = (
            await self.session.execute(select(func.count(), func.min(LoginAttempt.at)).where(mine))
        ).one()
        if count >= amount:
            return float((oldest + window - now).total_seconds())
        self.session.add(LoginAttempt(key_hash=key_hash, at=now))
        return None


class HousekeepingRepository(RepositoryBase):
    """Rows that can no longer matter, deleted in bounded batches (several auth processes may
    run this at once: ``SKIP LOCKED`` keeps them off each other's rows)."""

    async def delete_dead_refresh_tokens(self, before: datetime, *, limit: int) -> int:
        """Tokens whose family's absolute life ended before ``before``: none of them can be
        used or replayed into anything (a replay of an expired family revokes nothing)."""
        dead = (
            select(RefreshToken.id)
            .where(RefreshToken.family_expires_at < before)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        result = await self.session.execute(delete(RefreshToken).where(RefreshToken.id.in_(dead)))
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def delete_login_attempts(self, before: datetime, *, limit: int) -> int:
        """Attempts older than every throttle's window (of keys not tried since)."""
        old = (
            select(LoginAttempt.id)
            .where(LoginAttempt.at < before)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        result = await self.session.execute(delete(LoginAttempt).where(LoginAttempt.id.in_(old)))
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def delete_closed_invitations(self, before: datetime, *, limit: int) -> int:
        """Invitations expired, accepted, declined or revoked before ``before``."""
        closed = (
            select(Invitation.id)
            .where(
                or_(
                    Invitation.expires_at < before,
                    Invitation.accepted_at < before,
                    Invitation.declined_at < before,
                    Invitation.revoked_at < before,
                )
            )
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        result = await self.session.execute(delete(Invitation).where(Invitation.id.in_(closed)))
        return int(result.rowcount)  # type: ignore[attr-defined]
