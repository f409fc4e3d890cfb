"""LinkedIn: 60-day tokens, refresh only for approved partners, daily limits reset at 00:00 UTC."""

from __future__ import annotations

import pytest

from shared.tests.platforms.helpers import Sandbox
from socialseed.platforms import ErrorKind, Platform, PlatformError
from socialseed.platforms.parsing import seconds_until_midnight

LINKEDIN = Platform.LINKEDIN
DAY = 86_400


async def test_without_refresh_token_the_member_consents_again(sandbox: Sandbox) -> None:
    provider = sandbox.provider(LINKEDIN)
    tokens, [connection] = await sandbox.connect(provider)
    assert tokens.refresh_token is None
    assert connection.profile.display_name == "Alice"
    assert connection.profile.avatar_url
    with pytest.raises(PlatformError) as caught:
        await provider.refresh(tokens)
    assert caught.value.kind is ErrorKind.REAUTH_REQUIRED
    assert "60-day" in caught.value.message
    assert await sandbox.calls(LINKEDIN, "POST /oauth/v2/accessToken") == 1

    await sandbox.advance(60 * DAY + 1)
    with pytest.raises(PlatformError) as caught:
        await provider.profile(tokens)
    assert caught.value.kind is ErrorKind.REAUTH_REQUIRED
    assert caught.value.code == "65600"


async def test_revoked_token(sandbox: Sandbox) -> None:
    provider = sandbox.provider(LINKEDIN)
    tokens, _ = await sandbox.connect(provider)
    await provider.revoke(tokens)
    with pytest.raises(PlatformError) as caught:
        await provider.profile(tokens)
    assert caught.value.kind is ErrorKind.REAUTH_REQUIRED
    assert caught.value.code == "65601"
    assert caught.value.message == (
        "LinkedIn says this connection was revoked; connect the account again."
    )


async def test_partner_refresh_keeps_the_refresh_token_deadline(tight: Sandbox) -> None:
    provider = tight.provider(LINKEDIN)
    tokens, _ = await tight.connect(provider)
    assert tokens.refresh_token and tokens.refresh_expires_at
    await tight.advance(30 * DAY)
    fresh = await provider.refresh(tokens)
    tight.remember(fresh)
    assert fresh.expires_at and fresh.expires_at > tight.now()
    # The refresh token's 365 days are not reset by a refresh.
    assert fresh.refresh_expires_at is not None
    assert abs((fresh.refresh_expires_at - tokens.refresh_expires_at).total_seconds()) < 5
    assert (await provider.profile(fresh)).platform_user_id


async def test_daily_throttle_lasts_until_midnight_utc(sandbox: Sandbox) -> None:
    provider = sandbox.provider(LINKEDIN)
    tokens, _ = await sandbox.connect(provider)
    await sandbox.fault(LINKEDIN, endpoint="/v2/userinfo", burst_429=1)
    with pytest.raises(PlatformError) as caught:
        await provider.profile(tokens)
    assert caught.value.kind is ErrorKind.RATE_LIMITED
    expected = seconds_until_midnight(sandbox.now(), "UTC")
    assert caught.value.retry_after is not None
    assert abs(caught.value.retry_after - expected) < 5
