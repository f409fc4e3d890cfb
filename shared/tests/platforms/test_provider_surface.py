"""The provider surface the publishing and metrics features build on: typed, and a platform
without an implementation says so instead of doing something else."""

from __future__ import annotations

import httpx
import pytest

from socialseed.platforms import (
    BaseProvider,
    Platform,
    PlatformsConfig,
    TokenSet,
    build_providers,
)

PUBLISHING = (Platform.X, Platform.LINKEDIN, Platform.FACEBOOK)


@pytest.mark.parametrize("platform", PUBLISHING)
def test_publish_and_reconciliation_are_implemented(platform: Platform) -> None:
    cls = type(build_providers(PlatformsConfig(), httpx.AsyncClient())[platform])
    assert cls.publish is not BaseProvider.publish
    assert cls.find_published_post is not BaseProvider.find_published_post


async def test_unimplemented_metrics_raise_not_implemented() -> None:
    async with httpx.AsyncClient() as client:
        provider = build_providers(PlatformsConfig(), client)[Platform.X]
        tokens = TokenSet(access_token="t" * 20, expires_at=None)
        with pytest.raises(NotImplementedError):
            await provider.fetch_post_metrics(tokens, ["1", "2"])
        with pytest.raises(NotImplementedError):
            await provider.fetch_account_metrics(tokens)
