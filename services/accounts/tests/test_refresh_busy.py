"""A refresh that cannot take its account's row lock in time answers 503 RefreshBusy."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from accounts.app import create_app
from accounts.connections.repository import AccountRepository
from accounts.context import AccountsContext
from accounts.models import Account, AccountStatus
from accounts.settings import AccountsSettings
from socialseed.platforms import PlatformsConfig
from socialseed.testing import Infra, asgi_client


async def test_a_refresh_waiting_too_long_for_the_row_lock_is_refresh_busy(infra: Infra) -> None:
    settings = AccountsSettings(
        database_url=infra.service_url("accounts"),
        kafka_enabled=False,
        dev_mode=True,
        # the lock wait gives up after refresh_budget (0.2 s) + slack (0.3 s)
        platforms=PlatformsConfig(timeout=0.2, refresh_attempts=1),
        refresh_lock_slack=0.3,
    )
    app = create_app(settings, background=False)
    async with asgi_client(app) as client:
        ctx: AccountsContext = app.state.accounts
        account = Account(
            workspace_id=uuid.uuid4(),
            platform="x",
            platform_user_id=uuid.uuid4().hex,
            username="busy",
            display_name="Busy",
            connected_by=uuid.uuid4(),
            access_token_enc=ctx.cipher.encrypt("access"),
            refresh_token_enc=ctx.cipher.encrypt("refresh"),
            token_expires_at=datetime.now(UTC) - timedelta(minutes=1),  # due
            scopes=[],
            consecutive_failures=0,
        )
        async with ctx.db.transaction() as session:
            await AccountRepository(session).add(account)
        secret = settings.internal_tokens["publisher"].get_secret_value()
        async with ctx.db.transaction() as other:
            # another refresh (say, on another replica) holds the account's row
            assert await AccountRepository(other).get_unscoped(account.id, lock=True) is not None
            r = await client.post(
                f"/internal/accounts/{account.id}/access-token",
                headers={"Authorization": f"Bearer {secret}"},
            )
        assert (r.status_code, r.json()["error"]) == (503, "RefreshBusy"), r.text
        async with ctx.db.transaction() as session:
            after = await AccountRepository(session).get_unscoped(account.id)
        assert after is not None
        assert after.status is AccountStatus.ACTIVE and after.consecutive_failures == 0
        assert after.token_expires_at == account.token_expires_at  # nothing refreshed
