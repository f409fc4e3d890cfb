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


METRICS = ("list_posts", "fetch_post_metrics", "fetch_account_metrics", "metrics_cost")


def implements_metrics(platform: Platform) -> bool:
    return PROVIDERS[platform].fetch_post_metrics is not BaseProvider.fetch_post_metrics


@pytest.mark.parametrize("platform", list(Platform))
def test_metrics_are_implemented_all_together_or_not_at_all(platform: Platform) -> None:
    provider = PROVIDERS[platform]
    implemented = {m for m in METRICS if getattr(provider, m) is not getattr(BaseProvider, m)}
    # metrics_cost may keep the default (one call per batch): the others go together.
    assert implemented - {"metrics_cost"} in (set(), set(METRICS) - {"metrics_cost"})
    if implements_metrics(platform):
        assert provider.metrics_batch_size > 1


@pytest.mark.parametrize("platform", [p for p in Platform if not implements_metrics(p)])
async def test_unimplemented_metrics_raise_not_implemented(platform: Platform) -> None:
    async with httpx.AsyncClient() as client:
        provider = build_providers(PlatformsConfig(), client)[platform]
        tokens = TokenSet(access_token="t" * 20, expires_at=None)
        with pytest.raises(NotImplementedError):
            await provider.fetch_post_metrics(tokens, ["1", "2"])
        with pytest.raises(NotImplementedError):
            await provider.fetch_account_metrics(tokens)
