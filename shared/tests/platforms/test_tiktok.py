"""TikTok: rotating refresh tokens, open_id in the token response, scope-dependent profile."""

from __future__ import annotations

import pytest

from shared.tests.platforms.helpers import Sandbox
from socialseed.platforms import ErrorKind, Platform, PlatformCredentials, PlatformError
from socialseed.platforms.base import TokenSet

TIKTOK = Platform.TIKTOK
DAY = 86_400


async def test_expired_access_token_then_rotating_refresh(sandbox: Sandbox) -> None:
    provider = sandbox.provider(TIKTOK)
    assert provider.rotating_refresh
    tokens, [connection] = await sandbox.connect(provider)
    assert tokens.platform_user_id == connection.profile.platform_user_id  # open_id
    assert tokens.refresh_token and tokens.refresh_expires_at
    assert "video.publish" in tokens.scopes

    await sandbox.advance(DAY + 60)
    with pytest.raises(PlatformError) as caught:
        await provider.profile(tokens)
    assert caught.value.kind is ErrorKind.REAUTH_REQUIRED
    assert caught.value.code == "access_token_invalid"

    fresh = await provider.refresh(tokens)
    sandbox.remember(fresh)
    assert fresh.access_token != tokens.access_token
    assert fresh.refresh_token not in (None, tokens.refresh_token)
    assert fresh.platform_user_id == tokens.platform_user_id
    assert fresh.expires_at and fresh.expires_at > sandbox.now()
    assert (await provider.profile(fresh)).platform_user_id == tokens.platform_user_id
    assert (await sandbox.tokens(TIKTOK))[tokens.refresh_token] == "used"

    # The old refresh token is spent: the grant is gone as far as it is concerned.
    with pytest.raises(PlatformError) as caught:
        await provider.refresh(tokens)
    assert caught.value.kind is ErrorKind.REAUTH_REQUIRED
    assert caught.value.code == "invalid_grant"
    assert caught.value.message == (
        "TikTok says this connection has expired or was revoked; connect the account again."
    )
    sandbox.assert_error_clean(caught.value)


async def test_revoke_ends_the_grant(sandbox: Sandbox) -> None:
    provider = sandbox.provider(TIKTOK)
    tokens, _ = await sandbox.connect(provider)
    await provider.revoke(tokens)
    await provider.revoke(tokens)  # idempotent
    for attempt in (provider.profile, provider.refresh):
        with pytest.raises(PlatformError) as caught:
            await attempt(tokens)
        assert caught.value.kind is ErrorKind.REAUTH_REQUIRED


async def test_rate_limit_has_no_headers_so_a_minute(sandbox: Sandbox) -> None:
    provider = sandbox.provider(TIKTOK)
    tokens, _ = await sandbox.connect(provider)
    await sandbox.fault(TIKTOK, endpoint="/v2/user/info/", burst_429=1)
    with pytest.raises(PlatformError) as caught:
        await provider.profile(tokens)
    assert caught.value.kind is ErrorKind.RATE_LIMITED
    assert caught.value.code == "rate_limit_exceeded"
    assert caught.value.retry_after == 60
    assert (await provider.profile(tokens)).followers is not None


async def test_profile_asks_only_for_granted_fields(sandbox: Sandbox) -> None:
    credentials = PlatformCredentials(scopes=["user.info.basic"])
    provider = sandbox.provider(TIKTOK, tiktok=credentials)
    tokens, [connection] = await sandbox.connect(provider)
    assert tokens.scopes == ("user.info.basic",)
    profile = connection.profile
    assert profile.display_name and profile.username == profile.display_name
    assert profile.followers is None and profile.post_count is None

    # Unknown scopes: ask for everything and TikTok names what was not granted.
    unknown = TokenSet(tokens.access_token, tokens.expires_at)
    with pytest.raises(PlatformError) as caught:
        await provider.profile(unknown)
    assert caught.value.kind is ErrorKind.REAUTH_REQUIRED
    assert caught.value.code == "scope_not_authorized"
