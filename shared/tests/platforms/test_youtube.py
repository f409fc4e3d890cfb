"""YouTube (Google): offline access, non-rotating refresh, quota until midnight Pacific."""

from __future__ import annotations

import pytest

from shared.tests.platforms.helpers import Sandbox, authorize_params
from socialseed.platforms import ErrorKind, Platform, PlatformError
from socialseed.platforms.parsing import seconds_until_midnight

YOUTUBE = Platform.YOUTUBE


async def test_offline_access_and_a_refresh_token_that_does_not_rotate(sandbox: Sandbox) -> None:
    provider = sandbox.provider(YOUTUBE)
    params = authorize_params(provider.authorize(state="s", redirect_uri="https://a.example/cb"))
    assert params["access_type"] == "offline" and params["prompt"] == "consent"

    tokens, [connection] = await sandbox.connect(provider)
    assert connection.profile.platform_user_id.startswith("UC")
    assert connection.profile.username.startswith("@")
    assert isinstance(connection.profile.post_count, int)  # sent as a string

    await sandbox.advance(3_600)
    with pytest.raises(PlatformError) as caught:
        await provider.profile(tokens)
    assert caught.value.kind is ErrorKind.REAUTH_REQUIRED and caught.value.code == "authError"

    first = await provider.refresh(tokens)
    second = await provider.refresh(tokens)  # the same refresh token keeps working
    sandbox.remember(first, second)
    assert first.refresh_token == second.refresh_token == tokens.refresh_token
    assert first.access_token != second.access_token != tokens.access_token
    assert (await provider.profile(second)).platform_user_id == connection.profile.platform_user_id


async def test_revoke_then_invalid_grant(sandbox: Sandbox) -> None:
    provider = sandbox.provider(YOUTUBE)
    tokens, _ = await sandbox.connect(provider)
    await provider.revoke(tokens)
    await provider.revoke(tokens)  # Google answers invalid_token: already revoked is fine
    with pytest.raises(PlatformError) as caught:
        await provider.refresh(tokens)
    assert caught.value.kind is ErrorKind.REAUTH_REQUIRED
    assert caught.value.code == "invalid_grant"
    with pytest.raises(PlatformError) as caught:
        await provider.profile(tokens)
    assert caught.value.kind is ErrorKind.REAUTH_REQUIRED


async def test_quota_exceeded_until_midnight_pacific(tight: Sandbox) -> None:
    provider = tight.provider(YOUTUBE)
    tokens, _ = await tight.connect(provider)  # 1 unit
    await provider.profile(tokens)  # 2 units: the day's quota
    with pytest.raises(PlatformError) as caught:
        await provider.profile(tokens)
    error = caught.value
    assert error.kind is ErrorKind.RATE_LIMITED
    assert error.status == 403 and error.code == "quotaExceeded"
    expected = seconds_until_midnight(tight.now(), "America/Los_Angeles")
    assert error.retry_after is not None and abs(error.retry_after - expected) < 5


async def test_burst_rate_limit(sandbox: Sandbox) -> None:
    provider = sandbox.provider(YOUTUBE)
    tokens, _ = await sandbox.connect(provider)
    await sandbox.fault(YOUTUBE, endpoint="/youtube/v3/channels", burst_429=1)
    with pytest.raises(PlatformError) as caught:
        await provider.profile(tokens)
    assert caught.value.kind is ErrorKind.RATE_LIMITED
    assert caught.value.code == "rateLimitExceeded" and caught.value.retry_after == 60
