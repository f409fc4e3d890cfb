"""What every provider does alike, run against the sandbox for all six platforms."""

from __future__ import annotations

import inspect
import logging

import httpx
import pytest

from sandbox.testing import redirect_uri
from shared.tests.platforms.helpers import Sandbox, authorize_params, host_and_path
from socialseed.platforms import (
    PROVIDERS,
    ErrorKind,
    Platform,
    PlatformError,
    PlatformsConfig,
    build_providers,
)
from socialseed.platforms.redaction import install_log_redaction

ALL = list(Platform)
# Real consent pages, the client-id parameter, the scope separator and whether PKCE is used.
AUTHORIZE = {
    Platform.TIKTOK: ("https://www.tiktok.com/v2/auth/authorize/", "client_key", ",", False),
    Platform.INSTAGRAM: ("https://www.instagram.com/oauth/authorize", "client_id", ",", False),
    Platform.FACEBOOK: ("https://www.facebook.com/v24.0/dialog/oauth", "client_id", ",", False),
    Platform.X: ("https://x.com/i/oauth2/authorize", "client_id", " ", True),
    Platform.LINKEDIN: (
        "https://www.linkedin.com/oauth/v2/authorization",
        "client_id",
        " ",
        False,
    ),
    Platform.YOUTUBE: ("https://accounts.google.com/o/oauth2/v2/auth", "client_id", " ", True),
}


@pytest.mark.parametrize("platform", ALL)
async def test_authorize_url_on_the_real_host(platform: Platform) -> None:
    async with httpx.AsyncClient() as http:
        provider = build_providers(PlatformsConfig(sandbox_url=None), http)[platform]
    url, client_param, separator, pkce = AUTHORIZE[platform]
    authorization = provider.authorize(state="s-1", redirect_uri="https://app.example/cb")
    params = authorize_params(authorization)
    assert host_and_path(authorization) == url
    assert params[client_param] == "socialseed-local"
    assert params["response_type"] == "code"
    assert params["state"] == "s-1"
    assert params["redirect_uri"] == "https://app.example/cb"
    assert params["scope"].split(separator) == list(PROVIDERS[platform].default_scopes)
    assert ("code_challenge" in params) is pkce
    assert (authorization.code_verifier is not None) is pkce
    if pkce:
        assert params["code_challenge_method"] == "S256"
        assert authorization.code_verifier not in authorization.url
        assert authorization.code_verifier not in repr(authorization)


def test_registry_covers_every_platform_with_one_constructor() -> None:
    assert set(PROVIDERS) == set(Platform)
    assert len({str(inspect.signature(cls)) for cls in PROVIDERS.values()}) == 1
    for platform, cls in PROVIDERS.items():
        assert cls.platform is platform
        assert cls.rotating_refresh is (
            platform in (Platform.X, Platform.TIKTOK, Platform.LINKEDIN)
        )


@pytest.mark.parametrize("platform", ALL)
async def test_connect_gives_accounts_with_counters(sandbox: Sandbox, platform: Platform) -> None:
    provider = sandbox.provider(platform)
    tokens, connections = await sandbox.connect(provider, "alice")
    assert connections
    for connection in connections:
        profile = connection.profile
        assert profile.platform_user_id and profile.username and profile.display_name
        if platform is not Platform.LINKEDIN:  # LinkedIn's OpenID profile has no counters
            assert isinstance(profile.followers, int)
        assert profile == await provider.profile(connection.tokens)
    assert tokens.expires_at is not None and tokens.expires_at > sandbox.now()
    assert "access_token" not in repr(tokens) and tokens.access_token not in repr(tokens)


@pytest.mark.parametrize("platform", ALL)
async def test_a_code_works_once(sandbox: Sandbox, platform: Platform) -> None:
    provider = sandbox.provider(platform)
    callback = redirect_uri(platform.value)
    authorization = provider.authorize(state="state-1", redirect_uri=callback)
    code = await sandbox.consent(authorization, "bob")
    verifier = authorization.code_verifier
    await provider.exchange_code(code=code, redirect_uri=callback, code_verifier=verifier)
    with pytest.raises(PlatformError) as caught:
        await provider.exchange_code(code=code, redirect_uri=callback, code_verifier=verifier)
    assert caught.value.kind is ErrorKind.BAD_REQUEST
    assert "connecting the account again" in caught.value.message
    sandbox.assert_error_clean(caught.value)


FAULTS = {
    "server error": {"error_rate": 1.0, "error_status": 503},
    "timeout": {"timeout": True, "timeout_seconds": 1.0},
    "dropped connection": {"drop_after_accept": True},
}


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("platform", ALL)
async def test_outages_are_transient(sandbox: Sandbox, platform: Platform, fault: str) -> None:
    provider = sandbox.provider(platform, timeout=0.3)
    _, connections = await sandbox.connect(provider)
    await sandbox.fault(platform, **FAULTS[fault])
    with pytest.raises(PlatformError) as caught:
        await provider.profile(connections[0].tokens)
    assert caught.value.kind is ErrorKind.TRANSIENT
    assert caught.value.retry_after is None
    if fault == "server error":
        assert caught.value.status == 503
    sandbox.assert_error_clean(caught.value)


@pytest.mark.parametrize("platform", ALL)
async def test_no_secret_in_errors_or_logs(
    sandbox: Sandbox, platform: Platform, caplog: pytest.LogCaptureFixture
) -> None:
    provider = sandbox.provider(platform)
    authorization = provider.authorize(state="state-1", redirect_uri=redirect_uri(platform.value))
    # The consent (a browser's redirect carrying the code) is not ours to log: capture after it.
    code = await sandbox.consent(authorization, "alice")
    install_log_redaction()  # what create_service_app does for every service
    caplog.set_level(logging.DEBUG)
    tokens, connections = await sandbox.finish(provider, authorization, code)
    await sandbox.fault(platform, revoke_tokens=True)
    with pytest.raises(PlatformError) as caught:
        await provider.profile(connections[0].tokens)
    assert caught.value.kind is ErrorKind.REAUTH_REQUIRED
    sandbox.assert_error_clean(caught.value)
    try:
        await provider.refresh(tokens)
    except PlatformError as exc:
        sandbox.assert_error_clean(exc)
    assert "HTTP Request" in caplog.text  # httpx did log every call...
    sandbox.assert_clean(caplog.text)  # ...without a token, code or secret in it
