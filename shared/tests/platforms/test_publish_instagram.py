"""Instagram publishing: containers Instagram downloads the media into, processed, then
``media_publish``d; reconciliation by the container's status and the account's recent media."""

from __future__ import annotations

import pytest

from sandbox.testing import JPEG, MP4
from shared.tests.platforms.helpers import MediaServer, Sandbox
from socialseed.platforms import ErrorKind, Platform, PlatformError, PlatformPost, PublishedPost
from socialseed.platforms.base import MediaKind, Pending
from socialseed.platforms.instagram import InstagramProvider
from socialseed.platforms.publishing import CLOCK_SKEW

INSTAGRAM = Platform.INSTAGRAM
PUBLISH = "POST /{ig-user-id}/media_publish"


def image(files: MediaServer) -> PlatformPost:
    return PlatformPost(
        text="Morning light over the harbour #sunrise",
        marker="target-1",
        media=(files.media(MediaKind.IMAGE, JPEG, "image/jpeg"),),
    )


async def test_image_is_pending_while_processed_then_published(
    sandbox: Sandbox, media_files: MediaServer
) -> None:
    provider, tokens = await sandbox.connected(InstagramProvider)
    post = image(media_files)
    since = sandbox.now()

    first = await provider.publish(tokens, post)
    assert isinstance(first, Pending) and first.status == "IN_PROGRESS"
    assert media_files.fetches[post.media[0].id] == 1  # Instagram downloaded our URL
    assert await sandbox.ledger(INSTAGRAM) == []  # a container is not a post

    published, _ = await sandbox.publish_until_done(provider, tokens, post, first.progress)
    [entry] = await sandbox.ledger(INSTAGRAM)
    assert published.id == entry["platform_post_id"] and entry["text"] == post.text
    assert published.url and published.url.startswith("https://www.instagram.com/p/")
    assert published.published_at is not None
    assert await sandbox.calls(INSTAGRAM, PUBLISH) == 1
    assert await provider.find_published_post(tokens, post, since) == published
    quota = await provider.publishing_quota(tokens)
    assert (quota.used, quota.total, quota.window_s) == (1, 100, 86_400)


async def test_carousel_and_reel(sandbox: Sandbox, media_files: MediaServer) -> None:
    provider, tokens = await sandbox.connected(InstagramProvider)
    carousel = PlatformPost(
        text="Three views",
        marker="t-carousel",
        media=(
            media_files.media(MediaKind.IMAGE, JPEG, "image/jpeg"),
            media_files.media(MediaKind.VIDEO, MP4, "video/mp4"),
            media_files.media(MediaKind.IMAGE, JPEG, "image/jpeg"),
        ),
    )
    reel = PlatformPost(
        text="A reel",
        marker="t-reel",
        media=(media_files.media(MediaKind.VIDEO, MP4, "video/mp4"),),
    )
    album, _ = await sandbox.publish_until_done(provider, tokens, carousel)
    clip, pendings = await sandbox.publish_until_done(provider, tokens, reel)
    assert pendings and all(p.poll_after >= 10 for p in pendings)  # videos take a while
    entries = {e["platform_post_id"]: e for e in await sandbox.ledger(INSTAGRAM)}
    assert entries[album.id]["kind"] == "carousel" and len(entries[album.id]["media"]) == 3
    assert entries[clip.id]["kind"] == "reels"
    assert clip.url and "/reel/" in clip.url


async def test_media_instagram_cannot_process_fails_with_its_reason(
    sandbox: Sandbox, media_files: MediaServer
) -> None:
    provider, tokens = await sandbox.connected(InstagramProvider)
    # A "video" that is really a JPEG: the container ends in ERROR.
    post = PlatformPost(
        text="Not a video",
        marker="t-bad",
        media=(media_files.media(MediaKind.VIDEO, JPEG, "video/mp4"),),
    )
    with pytest.raises(PlatformError) as caught:
        await provider.publish(tokens, post)
    assert caught.value.kind is ErrorKind.BAD_REQUEST
    assert caught.value.code == "container_error"
    assert "could not process the media" in caught.value.message
    assert "MP4" in caught.value.message
    assert await sandbox.ledger(INSTAGRAM) == []


async def test_publish_whose_answer_was_lost_is_found_by_its_container(
    sandbox: Sandbox, media_files: MediaServer
) -> None:
    provider, tokens = await sandbox.connected(InstagramProvider)
    post = image(media_files)
    since = sandbox.now()
    pending = await provider.publish(tokens, post)
    assert isinstance(pending, Pending)
    await sandbox.advance(pending.poll_after)
    await sandbox.fault(INSTAGRAM, endpoint="*/media_publish", drop_after_accept=True, count=1)
    with pytest.raises(PlatformError) as caught:
        await provider.publish(tokens, post, pending.progress)
    assert caught.value.kind is ErrorKind.TRANSIENT  # in doubt: the request left

    found = await provider.find_published_post(tokens, post, since, pending.progress)
    [entry] = await sandbox.ledger(INSTAGRAM)
    assert isinstance(found, PublishedPost) and found.id == entry["platform_post_id"]
    assert found.url
    # Publishing again with the same progress cannot make a second post either.
    again = await provider.publish(tokens, post, pending.progress)
    assert isinstance(again, PublishedPost) and again.id == found.id
    assert len(await sandbox.ledger(INSTAGRAM)) == 1


async def test_never_published_is_none(sandbox: Sandbox, media_files: MediaServer) -> None:
    provider, tokens = await sandbox.connected(InstagramProvider)
    post = image(media_files)
    since = sandbox.now()
    assert await provider.find_published_post(tokens, post, since) is None

    # A container that is processing is pending; once ready but unpublished, it is not a post.
    pending = await provider.publish(tokens, post)
    assert isinstance(pending, Pending)
    assert isinstance(
        await provider.find_published_post(tokens, post, since, pending.progress), Pending
    )
    await sandbox.advance(pending.poll_after)
    assert await provider.find_published_post(tokens, post, since, pending.progress) is None

    # The same caption posted before `since` is someone else's post, not ours.
    published, _ = await sandbox.publish_until_done(provider, tokens, post, pending.progress)
    await sandbox.advance(2 * CLOCK_SKEW.total_seconds())
    assert await provider.find_published_post(tokens, post, sandbox.now()) is None
    assert await provider.find_published_post(tokens, post, since) == published


async def test_publishing_cap_is_a_rate_limit_of_an_hour(
    capped: Sandbox, media_files: MediaServer
) -> None:
    provider, tokens = await capped.connected(InstagramProvider)
    await capped.publish_until_done(provider, tokens, image(media_files))
    second = PlatformPost(text="One too many", marker="t-2", media=image(media_files).media)
    with pytest.raises(PlatformError) as caught:
        await capped.publish_until_done(provider, tokens, second)
    assert caught.value.kind is ErrorKind.RATE_LIMITED
    assert caught.value.code == "9/2207042" and caught.value.retry_after == 3600
    quota = await provider.publishing_quota(tokens)
    assert quota.used == quota.total == 1


async def test_throttle_is_a_rate_limit(sandbox: Sandbox, media_files: MediaServer) -> None:
    provider, tokens = await sandbox.connected(InstagramProvider)
    await sandbox.fault(INSTAGRAM, endpoint="*/media", method="POST", burst_429=1)
    with pytest.raises(PlatformError) as caught:
        await provider.publish(tokens, image(media_files))
    assert caught.value.kind is ErrorKind.RATE_LIMITED and caught.value.code == "80002"
    sandbox.assert_error_clean(caught.value)


async def test_story_and_an_expired_container(sandbox: Sandbox, media_files: MediaServer) -> None:
    provider, tokens = await sandbox.connected(InstagramProvider)
    story = PlatformPost(
        text="", marker="t-story", media=image(media_files).media, options={"media_type": "STORIES"}
    )
    published, _ = await sandbox.publish_until_done(provider, tokens, story)
    [entry] = await sandbox.ledger(INSTAGRAM)
    assert entry["platform_post_id"] == published.id and entry["kind"] == "stories"

    pending = await provider.publish(tokens, image(media_files))
    assert isinstance(pending, Pending)
    await sandbox.advance(25 * 3600)  # containers not published within 24 hours expire
    with pytest.raises(PlatformError) as caught:
        await provider.publish(tokens, image(media_files), pending.progress)
    assert caught.value.kind is ErrorKind.PERMANENT and caught.value.code == "container_expired"
    assert "not published within 24 hours" in caught.value.message
    assert (
        await provider.find_published_post(
            tokens, image(media_files), sandbox.now(), pending.progress
        )
        is None
    )
