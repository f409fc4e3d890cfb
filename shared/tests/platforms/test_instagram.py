"""Instagram Login: short-lived -> 60-day token, renewable only once it is 24 hours old."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shared.tests.platforms.helpers import Sandbox
from socialseed.platforms import ErrorKind, Platform, PlatformError

INSTAGRAM = Platform.INSTAGRAM
REFRESH = "GET /refresh_access_token"
HOUR, DAY = 3_600, 86_400


async def test_long_lived_token_and_refresh_rules(sandbox: Sandbox) -> None:
    provider = sandbox.provider(INSTAGRAM)
    tokens, [connection] = await sandbox.connect(provider)
    assert tokens.refresh_token is None
    assert tokens.platform_user_id == connection.profile.platform_user_id
    assert "instagram_business_content_publish" in tokens.scopes
    assert tokens.expires_at is not None
    lifetime = tokens.expires_at - sandbox.now()
    assert timedelta(days=59, hours=23) < lifetime <= timedelta(days=60)
    profile = connection.profile
    assert profile.username == "alice" and profile.avatar_url
    assert None not in (profile.followers, profile.following, profile.post_count)

    # Younger than 24 hours: nothing to do, and no call.
    assert await provider.refresh(tokens) is tokens
    assert await sandbox.calls(INSTAGRAM, REFRESH) == 0

    await sandbox.advance(25 * HOUR)
    fresh = await provider.refresh(tokens)
    sandbox.remember(fresh)
    assert fresh.access_token != tokens.access_token
    assert fresh.expires_at is not None and fresh.expires_at > tokens.expires_at
    assert fresh.scopes == tokens.scopes and fresh.platform_user_id == tokens.platform_user_id
    assert await sandbox.calls(INSTAGRAM, REFRESH) == 1

    await sandbox.advance(61 * DAY)
    with pytest.raises(PlatformError) as caught:
        await provider.refresh(fresh)
    assert caught.value.kind is ErrorKind.REAUTH_REQUIRED
    assert caught.value.code == "190/463"
    assert caught.value.message == (
        "Instagram says this connection's access token has expired; connect the account again."
    )
    sandbox.assert_error_clean(caught.value)


async def test_no_revoke_endpoint_and_app_removal(sandbox: Sandbox) -> None:
    provider = sandbox.provider(INSTAGRAM)
    tokens, _ = await sandbox.connect(provider)
    await provider.revoke(tokens)  # Instagram Login has none: the token lives on
    assert (await provider.profile(tokens)).username == "alice"

    await sandbox.fault(INSTAGRAM, revoke_tokens=True, revoke_reason="app_removed")
    with pytest.raises(PlatformError) as caught:
        await provider.profile(tokens)
    assert caught.value.kind is ErrorKind.REAUTH_REQUIRED
    assert caught.value.code == "190/458"
    assert "app was removed" in caught.value.message


async def test_business_use_case_limit_says_when_access_returns(tight: Sandbox) -> None:
    provider = tight.provider(INSTAGRAM)
    tokens, _ = await tight.connect(provider)  # 1st call of the hour
    await provider.profile(tokens)  # 2nd: the last one allowed
    with pytest.raises(PlatformError) as caught:
        await provider.profile(tokens)
    assert caught.value.kind is ErrorKind.RATE_LIMITED
    assert caught.value.code == "80002"
    assert caught.value.retry_after == 60 * 60  # estimated_time_to_regain_access: 60 minutes


async def test_rate_limit_without_estimate_uses_a_default(sandbox: Sandbox) -> None:
    provider = sandbox.provider(INSTAGRAM)
    tokens, _ = await sandbox.connect(provider)
    await sandbox.fault(INSTAGRAM, burst_429=1)
    with pytest.raises(PlatformError) as caught:
        await provider.profile(tokens)
    assert caught.value.kind is ErrorKind.RATE_LIMITED and caught.value.retry_after == 600
