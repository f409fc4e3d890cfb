"""X: mandatory PKCE, Basic client auth, single-use rotating refresh, x-rate-limit-reset."""

from __future__ import annotations

import dataclasses

import pytest

from sandbox.testing import redirect_uri
from shared.tests.platforms.helpers import Sandbox
from socialseed.platforms import ErrorKind, Platform, PlatformCredentials, PlatformError

X = Platform.X
TOKEN = "POST /2/oauth2/token"


async def test_pkce_verifier_is_required(sandbox: Sandbox) -> None:
    provider = sandbox.provider(X)
    callback = redirect_uri("x")
    authorization = provider.authorize(state="state-1", redirect_uri=callback)
    code = await sandbox.consent(authorization, "alice")
    with pytest.raises(PlatformError) as caught:
        await provider.exchange_code(code=code, redirect_uri=callback, code_verifier=None)
    assert caught.value.kind is ErrorKind.BAD_REQUEST
    assert await sandbox.calls(X, TOKEN) == 0  # refused before asking X

    other = provider.authorize(state="state-2", redirect_uri=callback).code_verifier
    with pytest.raises(PlatformError) as caught:
        await provider.exchange_code(code=code, redirect_uri=callback, code_verifier=other)
    assert caught.value.kind is ErrorKind.BAD_REQUEST
    sandbox.assert_error_clean(caught.value)


async def test_expiry_and_single_use_rotating_refresh(sandbox: Sandbox) -> None:
    provider = sandbox.provider(X)
    tokens, [connection] = await sandbox.connect(provider)
    assert connection.profile.post_count is not None and connection.profile.following is not None
    assert "offline.access" in tokens.scopes and tokens.refresh_token

    await sandbox.advance(7_200 + 1)
    with pytest.raises(PlatformError) as caught:
        await provider.profile(tokens)
    assert caught.value.kind is ErrorKind.REAUTH_REQUIRED and caught.value.status == 401

    fresh = await provider.refresh(tokens)
    sandbox.remember(fresh)
    assert fresh.refresh_token not in (None, tokens.refresh_token)
    assert (await provider.profile(fresh)).username == "alice"
    with pytest.raises(PlatformError) as caught:
        await provider.refresh(tokens)
    assert caught.value.kind is ErrorKind.REAUTH_REQUIRED
    assert caught.value.message == (
        "X says this connection has expired or was revoked; connect the account again."
    )


async def test_without_offline_access_there_is_no_refresh(sandbox: Sandbox) -> None:
    credentials = PlatformCredentials(scopes=["tweet.read", "users.read"])
    provider = sandbox.provider(X, x=credentials)
    tokens, _ = await sandbox.connect(provider)
    assert tokens.refresh_token is None
    with pytest.raises(PlatformError) as caught:
        await provider.refresh(tokens)
    assert caught.value.kind is ErrorKind.REAUTH_REQUIRED
    assert "offline.access" in caught.value.message
    assert await sandbox.calls(X, TOKEN) == 1  # the code exchange only


async def test_revoke_ends_access_and_refresh_tokens(sandbox: Sandbox) -> None:
    provider = sandbox.provider(X)
    tokens, _ = await sandbox.connect(provider)
    await provider.revoke(tokens)
    statuses = await sandbox.tokens(X)
    assert statuses[tokens.access_token] == statuses[tokens.refresh_token or ""] == "revoked"
    with pytest.raises(PlatformError) as caught:
        await provider.profile(tokens)
    assert caught.value.kind is ErrorKind.REAUTH_REQUIRED
    with pytest.raises(PlatformError) as caught:
        await provider.refresh(tokens)
    assert caught.value.kind is ErrorKind.REAUTH_REQUIRED
    await provider.revoke(dataclasses.replace(tokens, refresh_token=None))  # again: fine


async def test_rate_limit_waits_for_the_window_reset(tight: Sandbox) -> None:
    provider = tight.provider(X)
    tokens, _ = await tight.connect(provider)  # 1st users/me call of the window
    await tight.advance(60)
    await provider.profile(tokens)  # 2nd: the last one allowed
    with pytest.raises(PlatformError) as caught:
        await provider.profile(tokens)
    error = caught.value
    assert error.kind is ErrorKind.RATE_LIMITED and error.status == 429
    # The window opened at the first call and lasts 15 minutes; 60 s of it are gone.
    assert error.retry_after is not None and 835 <= error.retry_after <= 841
    assert "14 min" in error.message


async def test_rate_limit_without_reset_header_waits_a_window(sandbox: Sandbox) -> None:
    provider = sandbox.provider(X)
    tokens, _ = await sandbox.connect(provider)
    await sandbox.fault(X, endpoint="/2/users/me", burst_429=1, rate_limit_headers=False)
    with pytest.raises(PlatformError) as caught:
        await provider.profile(tokens)
    assert caught.value.kind is ErrorKind.RATE_LIMITED
    assert caught.value.retry_after == 900
