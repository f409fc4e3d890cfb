"""The provider surface the publishing and metrics features build on: typed, and a platform
without an implementation says so instead of doing something else."""

from __future__ import annotations

import pytest

from socialseed.platforms import PROVIDERS, Platform
from socialseed.platforms.provider import BaseProvider


# Every platform publishes; each one's publish and reconciliation are exercised in
# test_publish_<platform>.py.
@pytest.mark.parametrize("platform", list(Platform))
def test_every_platform_implements_publish_and_reconciliation(platform: Platform) -> None:
    provider = PROVIDERS[platform]
    assert provider.publish is not BaseProvider.publish
    assert provider.find_published_post is not BaseProvider.find_published_post


METRICS = ("list_posts", "fetch_post_metrics", "fetch_account_metrics", "metrics_cost")


@pytest.mark.parametrize("platform", list(Platform))
def test_every_platform_implements_metrics(platform: Platform) -> None:
    provider = PROVIDERS[platform]
    implemented = {m for m in METRICS if getattr(provider, m) is not getattr(BaseProvider, m)}
    # metrics_cost may keep the default (one call per batch).
    assert implemented >= set(METRICS) - {"metrics_cost"}
    assert provider.metrics_batch_size > 1
