"""Facebook Pages: one connection per page with a page token that never expires."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shared.tests.platforms.helpers import Sandbox
from socialseed.platforms import ErrorKind, Platform, PlatformError

FACEBOOK = Platform.FACEBOOK


async def test_each_page_is_a_connection_with_its_page_token(sandbox: Sandbox) -> None:
    provider = sandbox.provider(FACEBOOK)
    user_tokens, connections = await sandbox.connect(provider)
    # The long-lived user token (about 60 days) is what lists the pages.
    assert user_tokens.expires_at is not None
    assert user_tokens.expires_at - sandbox.now() > timedelta(days=59)
    assert "pages_manage_posts" in user_tokens.scopes  # read back from /me/permissions

    assert [c.profile.display_name for c in connections] == ["Alice Page 1", "Alice Page 2"]
    for connection in connections:
        page_tokens = connection.tokens
        assert page_tokens.expires_at is None and page_tokens.refresh_token is None
        assert page_tokens.access_token != user_tokens.access_token
        assert page_tokens.scopes == user_tokens.scopes
        assert page_tokens.platform_user_id == connection.profile.platform_user_id
        assert isinstance(connection.profile.followers, int)
        assert await provider.refresh(page_tokens) is page_tokens  # nothing to renew

    await sandbox.advance(90 * 86_400)  # page tokens outlive the user token
    assert (await provider.profile(connections[0].tokens)).display_name == "Alice Page 1"
    with pytest.raises(PlatformError) as caught:
        await provider.refresh(user_tokens)
    assert caught.value.kind is ErrorKind.REAUTH_REQUIRED


async def test_revoking_the_user_grant_ends_the_page_tokens(sandbox: Sandbox) -> None:
    provider = sandbox.provider(FACEBOOK)
    user_tokens, [first, second] = await sandbox.connect(provider)
    await provider.revoke(first.tokens)  # a page token: the grant is shared, left alone
    assert (await provider.profile(second.tokens)).platform_user_id
    assert await sandbox.calls(FACEBOOK, "DELETE /me/permissions") == 0

    await provider.revoke(user_tokens)
    assert await sandbox.calls(FACEBOOK, "DELETE /me/permissions") == 1
    with pytest.raises(PlatformError) as caught:
        await provider.profile(first.tokens)
    assert caught.value.kind is ErrorKind.REAUTH_REQUIRED
    assert caught.value.code == "190/458"
    await provider.revoke(user_tokens)  # already revoked: fine


async def test_password_change_kills_page_tokens(sandbox: Sandbox) -> None:
    provider = sandbox.provider(FACEBOOK)
    _, connections = await sandbox.connect(provider)
    await sandbox.fault(FACEBOOK, revoke_tokens=True, revoke_reason="password_changed")
    with pytest.raises(PlatformError) as caught:
        await provider.profile(connections[0].tokens)
    assert caught.value.kind is ErrorKind.REAUTH_REQUIRED
    assert caught.value.code == "190/460"
    assert caught.value.message == (
        "Facebook says this connection ended because the account's password was changed; "
        "connect the account again."
    )


async def test_page_rate_limit_from_business_use_case_header(tight: Sandbox) -> None:
    provider = tight.provider(FACEBOOK)
    _, [page, _] = await tight.connect(provider)
    await provider.profile(page.tokens)
    await provider.profile(page.tokens)
    with pytest.raises(PlatformError) as caught:
        await provider.profile(page.tokens)
    assert caught.value.kind is ErrorKind.RATE_LIMITED
    assert caught.value.code == "80001" and caught.value.retry_after == 3_600


async def test_app_rate_limit_is_not_transient(sandbox: Sandbox) -> None:
    provider = sandbox.provider(FACEBOOK)
    _, [page, _] = await sandbox.connect(provider)
    # Code 4 comes flagged is_transient: it is still a rate limit, with a default wait.
    await sandbox.fault(FACEBOOK, burst_429=1)
    with pytest.raises(PlatformError) as caught:
        await provider.profile(page.tokens)
    assert caught.value.kind is ErrorKind.RATE_LIMITED
    assert caught.value.code == "4" and caught.value.retry_after == 600
