"""Auth's housekeeping deletes what can no longer matter and keeps everything else."""

from __future__ import annotations

import hashlib
import os
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from auth.app import create_app
from auth.context import AuthContext
from auth.housekeeping import purge
from auth.models import Invitation, LoginAttempt, RefreshToken, User, Workspace
from auth.settings import AuthSettings
from socialseed.testing import asgi_client


def _token(user: User, family: uuid.UUID, family_ends: datetime) -> RefreshToken:
    return RefreshToken(
        family_id=family,
        user_id=user.id,
        token_hash=hashlib.sha256(os.urandom(16)).digest(),
        expires_at=family_ends,
        family_expires_at=family_ends,
    )


def _invitation(ws: Workspace, now: datetime, **closed: datetime) -> Invitation:
    return Invitation(
        workspace_id=ws.id,
        email=f"{uuid.uuid4().hex[:8]}@example.com",
        role="editor",
        created_at=now - timedelta(days=60),
        expires_at=closed.pop("expires_at", now + timedelta(days=7)),
        **closed,
    )


async def test_purge_deletes_dead_families_and_old_closed_invitations(
    settings: AuthSettings,
) -> None:
    app = create_app(settings, background=False)
    async with asgi_client(app):
        ctx: AuthContext = app.state.auth
        now = datetime.now(UTC)
        async with ctx.db.transaction() as s:
            user = User(email=f"hk-{uuid.uuid4().hex[:8]}@example.com", name="H", password_hash="x")
            ws = Workspace(name="HK", timezone="UTC", require_approval=False)
            s.add_all([user, ws])
            await s.flush()
            dead = [_token(user, uuid.uuid4(), now - timedelta(days=1)) for _ in range(3)]
            alive = _token(user, uuid.uuid4(), now + timedelta(days=30))
            old_closed = [
                _invitation(ws, now, expires_at=now - timedelta(days=40)),
                _invitation(ws, now, accepted_at=now - timedelta(days=31)),
                _invitation(ws, now, revoked_at=now - timedelta(days=45)),
            ]
            recent_closed = _invitation(ws, now, declined_at=now - timedelta(days=2))
            pending = _invitation(ws, now)
            # The default throttles count attempts over a minute at most.
            old_attempt = LoginAttempt(key_hash=os.urandom(32), at=now - timedelta(minutes=5))
            recent_attempt = LoginAttempt(key_hash=os.urandom(32), at=now - timedelta(seconds=10))
            s.add_all([*dead, alive, *old_closed, recent_closed, pending])
            s.add_all([old_attempt, recent_attempt])
        ctx.clock = lambda: now
        counts = await purge(ctx, batch=2)  # small batches: the loop must go round
        assert counts["refresh_tokens"] >= 3 and counts["invitations"] >= 3
        assert counts["login_attempts"] >= 1
        async with ctx.db.transaction() as s:
            tokens = set(
                (
                    await s.execute(select(RefreshToken.id).where(RefreshToken.user_id == user.id))
                ).scalars()
            )
            invitations = set(
                (
                    await s.execute(select(Invitation.id).where(Invitation.workspace_id == ws.id))
                ).scalars()
            )
            attempts = set(
                (
                    await s.execute(
                        select(LoginAttempt.id).where(
                            LoginAttempt.id.in_([old_attempt.id, recent_attempt.id])
                        )
                    )
                ).scalars()
            )
        assert tokens == {alive.id}
        assert attempts == {recent_attempt.id}
        assert invitations == {recent_closed.id, pending.id}
