"""The provider surface the publishing and metrics features build on: typed, and a platform
without an implementation says so instead of doing something else."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from socialseed.platforms import Platform, PlatformsConfig, Post, TokenSet, build_providers


async def test_unimplemented_publish_and_metrics_raise_not_implemented() -> None:
    async with httpx.AsyncClient() as client:
        provider = build_providers(PlatformsConfig(), client)[Platform.X]
        tokens = TokenSet(access_token="t" * 20, expires_at=None)
        with pytest.raises(NotImplementedError):
            await provider.publish(tokens, Post(text="hi", marker="m1"))
        with pytest.raises(NotImplementedError):
            await provider.find_published_post(
                tokens, Post(text="hi", marker="m1"), datetime.now(UTC)
            )
        with pytest.raises(NotImplementedError):
            await provider.fetch_post_metrics(tokens, ["1", "2"])
        with pytest.raises(NotImplementedError):
            await provider.fetch_account_metrics(tokens)
