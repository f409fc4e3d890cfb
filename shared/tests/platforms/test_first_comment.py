"""The first comment on one's own post, on the four platforms whose APIs take one (Facebook,
Instagram, LinkedIn, YouTube): posted once as the account, found again by text and author when
its answer was lost, refused beyond each platform's limit; X and TikTok say they take none."""

from __future__ import annotations

from datetime import timedelta

import pytest

from sandbox.testing import JPEG, MP4
from shared.tests.platforms.helpers import MediaServer, Sandbox, stored_media
from socialseed.platforms import ErrorKind, MediaKind, Platform, PlatformError, PlatformPost

COMMENTING = [Platform.FACEBOOK, Platform.INSTAGRAM, Platform.LINKEDIN, Platform.YOUTUBE]
LIMITS = {
    Platform.FACEBOOK: 8_000,
    Platform.INSTAGRAM: 2_200,
    Platform.LINKEDIN: 1_250,
    Platform.YOUTUBE: 10_000,
}


def post_for(platform: Platform, files: MediaServer) -> PlatformPost:
    if platform is Platform.INSTAGRAM:
        media = (files.media(MediaKind.IMAGE, JPEG, "image/jpeg"),)
    elif platform is Platform.YOUTUBE:
        media = (stored_media(MP4, duration_s=12.0),)
    else:
        media = ()
    options = {"title": "A video", "privacy_status": "public"}
    return PlatformPost(
        text=f"A post on {platform.value}",
        marker="t1",
        media=media,
        options=options if platform is Platform.YOUTUBE else {},
    )


async def comments(sandbox: Sandbox, platform: Platform, post_id: str) -> list[dict[str, str]]:
    r = await sandbox.control.get(
        "/_sandbox/comments", params={"platform": platform.value, "post": post_id}
    )
    assert r.status_code == 200, r.text
    return list(r.json()["entries"])


@pytest.mark.parametrize("platform", COMMENTING)
async def test_a_comment_is_posted_once_and_found_again(
    platform: Platform, sandbox: Sandbox, media_files: MediaServer
) -> None:
    provider = sandbox.provider(platform)
    tokens = await sandbox.account(platform)
    since = sandbox.now()
    published, _ = await sandbox.publish_until_done(
        provider, tokens, post_for(platform, media_files)
    )
    assert provider.comment_limit == LIMITS[platform]
    assert await provider.find_comment(tokens, published.id, "First!", since) is None

    comment_id = await provider.post_comment(tokens, published.id, "First!  ")
    [stored] = await comments(sandbox, platform, published.id)
    assert stored["text"] == "First!  "
    # Found by its text (white space as platforms give it back) and its author.
    assert await provider.find_comment(tokens, published.id, "First!", since) == comment_id
    assert await provider.find_comment(tokens, published.id, "Second", since) is None
    later = since + timedelta(minutes=10)
    assert await provider.find_comment(tokens, published.id, "First!", later) is None


@pytest.mark.parametrize("platform", COMMENTING)
async def test_a_comment_over_the_limit_is_refused_and_not_stored(
    platform: Platform, sandbox: Sandbox, media_files: MediaServer
) -> None:
    provider = sandbox.provider(platform)
    tokens = await sandbox.account(platform)
    published, _ = await sandbox.publish_until_done(
        provider, tokens, post_for(platform, media_files)
    )
    with pytest.raises(PlatformError) as refused:
        await provider.post_comment(tokens, published.id, "a" * (LIMITS[platform] + 1))
    assert refused.value.kind is ErrorKind.BAD_REQUEST
    assert str(LIMITS[platform]) in refused.value.message or "too many" in refused.value.message
    assert await comments(sandbox, platform, published.id) == []
    await provider.post_comment(tokens, published.id, "a" * LIMITS[platform])
    assert len(await comments(sandbox, platform, published.id)) == 1


async def test_a_comment_whose_answer_was_lost_is_found(
    sandbox: Sandbox, media_files: MediaServer
) -> None:
    provider = sandbox.provider(Platform.FACEBOOK)
    tokens = await sandbox.account(Platform.FACEBOOK)
    since = sandbox.now()
    published, _ = await sandbox.publish_until_done(
        provider, tokens, post_for(Platform.FACEBOOK, media_files)
    )
    await sandbox.fault(Platform.FACEBOOK, endpoint="*/comments", drop_after_accept=True, count=1)
    with pytest.raises(PlatformError) as lost:
        await provider.post_comment(tokens, published.id, "Lost answer")
    assert lost.value.kind is ErrorKind.TRANSIENT
    [stored] = await comments(sandbox, Platform.FACEBOOK, published.id)
    found = await provider.find_comment(tokens, published.id, "Lost answer", since)
    assert found == stored["comment_id"]


@pytest.mark.parametrize("platform", [Platform.X, Platform.TIKTOK])
async def test_platforms_without_comments_say_so(platform: Platform, sandbox: Sandbox) -> None:
    provider = sandbox.provider(platform)
    assert provider.comment_limit is None
    tokens = await sandbox.account(platform)
    with pytest.raises(NotImplementedError):
        await provider.post_comment(tokens, "1", "no")
