"""Expired connect states are deleted; live ones are kept."""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from accounts.app import create_app
from accounts.background import purge_oauth_states
from accounts.context import AccountsContext
from accounts.models import OAuthState
from accounts.settings import AccountsSettings
from socialseed.testing import Infra, asgi_client


def _state(expires_at: datetime, **used: datetime) -> OAuthState:
    return OAuthState(
        state_hash=os.urandom(32),
        user_id=uuid.uuid4(),
        workspace_id=uuid.uuid4(),
        platform="x",
        callback_uri="http://127.0.0.1/api/v1/oauth/x/callback",
        expires_at=expires_at,
        **used,
    )


async def test_purge_deletes_states_expired_over_a_day_ago(infra: Infra) -> None:
    settings = AccountsSettings(
        database_url=infra.service_url("accounts"), kafka_enabled=False, dev_mode=True
    )
    app = create_app(settings, background=False)
    async with asgi_client(app):
        ctx: AccountsContext = app.state.accounts
        now = datetime.now(UTC)
        old = [_state(now - timedelta(days=2)) for _ in range(3)]
        old.append(_state(now - timedelta(days=3), used_at=now - timedelta(days=3)))
        recent = _state(now - timedelta(hours=1))  # expired, but within the day kept
        live = _state(now + timedelta(minutes=10))
        async with ctx.db.transaction() as s:
            s.add_all([*old, recent, live])
        ctx.clock = lambda: now
        assert await purge_oauth_states(ctx, batch=2) >= len(old)
        async with ctx.db.transaction() as s:
            hashes = {st.state_hash for st in [*old, recent, live]}
            left = set(
                (
                    await s.execute(
                        select(OAuthState.state_hash).where(OAuthState.state_hash.in_(hashes))
                    )
                ).scalars()
            )
        assert left == {recent.state_hash, live.state_hash}
