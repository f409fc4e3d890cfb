"""The provider surface the publishing and metrics features build on: typed, and a platform
without an implementation says so instead of doing something else."""

from __future__ import annotations

import httpx
import pytest

from socialseed.platforms import PROVIDERS, Platform, PlatformsConfig, TokenSet, build_providers
from socialseed.platforms.provider import BaseProvider


# Every platform publishes; each one's publish and reconciliation are exercised in
# test_publish_<platform>.py.
@pytest.mark.parametrize("platform", list(Platform))
def test_every_platform_implements_publish_and_reconciliation(platform: Platform) -> None:
    provider = PROVIDERS[platform]
    assert provider.publish is not BaseProvider.publish
    assert provider.find_published_post is not BaseProvider.find_published_post


def fetches_metrics(platform: Platform) -> bool:
    provider = PROVIDERS[platform]
    return provider.fetch_post_metrics is not BaseProvider.fetch_post_metrics


@pytest.mark.parametrize("platform", [p for p in Platform if fetches_metrics(p)])
def test_a_platform_with_metrics_implements_all_of_them(platform: Platform) -> None:
    provider = PROVIDERS[platform]
    assert provider.list_posts is not BaseProvider.list_posts
    assert provider.fetch_account_metrics is not BaseProvider.fetch_account_metrics
    assert provider.metrics_batch_size > 1


@pytest.mark.parametrize("platform", [p for p in Platform if not fetches_metrics(p)])
async def test_unimplemented_metrics_raise_not_implemented(platform: Platform) -> None:
    async with httpx.AsyncClient() as client:
        provider = build_providers(PlatformsConfig(), client)[platform]
        tokens = TokenSet(access_token="t" * 20, expires_at=None)
        with pytest.raises(NotImplementedError):
            await provider.fetch_post_metrics(tokens, ["1", "2"])
        with pytest.raises(NotImplementedError):
            await provider.fetch_account_metrics(tokens)
