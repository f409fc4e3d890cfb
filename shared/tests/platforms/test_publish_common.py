"""What the providers that publish a text post in one call do alike (Facebook, LinkedIn, X),
against the sandbox: the platform's duplicate signal, and reconciliation finding nothing for a
post never published. Each platform's own publishing is in ``test_publish_<platform>.py``."""

from __future__ import annotations

import dataclasses

import pytest

from shared.tests.platforms.helpers import Sandbox
from socialseed.platforms import ErrorKind, Platform, PlatformError, PlatformPost, PublishedPost

TEXT_POSTS = [Platform.FACEBOOK, Platform.LINKEDIN, Platform.X]


@pytest.mark.parametrize("platform", TEXT_POSTS)
async def test_the_same_words_again_are_a_permanent_duplicate(
    sandbox: Sandbox, platform: Platform
) -> None:
    provider = sandbox.provider(platform)
    tokens = await sandbox.account(platform)
    post = PlatformPost(text=f"say it once on {platform}", marker="t1")
    assert isinstance(await provider.publish(tokens, post), PublishedPost)
    with pytest.raises(PlatformError) as caught:
        await provider.publish(tokens, dataclasses.replace(post, marker="t2"))
    assert caught.value.kind is ErrorKind.PERMANENT and caught.value.code == "duplicate"
    sandbox.assert_error_clean(caught.value)


@pytest.mark.parametrize("platform", TEXT_POSTS)
async def test_find_returns_none_for_a_post_never_published(
    sandbox: Sandbox, platform: Platform
) -> None:
    provider = sandbox.provider(platform)
    tokens = await sandbox.account(platform)
    since = sandbox.now()
    await provider.publish(tokens, PlatformPost(text="something else", marker="t0"))
    never = PlatformPost(text="never", marker="t1")
    assert await provider.find_published_post(tokens, never, since) is None
