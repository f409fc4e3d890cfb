"""Facebook Pages publishing: feed posts, photos pulled from our URLs (one, or several attached
to one feed post), videos Pending while processed, the 506 duplicate, reconciliation from the
page's feed and videos, Meta throttles in HTTP 400 bodies."""

from __future__ import annotations

import pytest

from sandbox.testing import JPEG, MP4, PNG
from shared.tests.platforms.helpers import MediaServer, Sandbox, only
from socialseed.platforms import (
    ErrorKind,
    MediaKind,
    Pending,
    Platform,
    PlatformError,
    PlatformMedia,
    PlatformPost,
    PublishedPost,
)

FACEBOOK = Platform.FACEBOOK


def photo(files: MediaServer) -> PlatformMedia:
    return files.media(MediaKind.IMAGE, JPEG, "image/jpeg")


def video(files: MediaServer, data: bytes = MP4) -> PlatformMedia:
    return files.media(MediaKind.VIDEO, data, "video/mp4")


async def test_text_post_with_a_link_goes_to_the_feed(sandbox: Sandbox) -> None:
    tokens = await sandbox.account(FACEBOOK)
    post = PlatformPost(text="Hello page", marker="t1", options={"link": "https://example.com/a"})
    published = await sandbox.provider(FACEBOOK).publish(tokens, post)
    assert isinstance(published, PublishedPost)
    page, _, story = published.id.partition("_")
    assert page == tokens.platform_user_id
    assert published.url == f"https://www.facebook.com/{page}/posts/{story}"
    entry = only(await sandbox.ledger(FACEBOOK))
    assert entry["platform_post_id"] == published.id
    assert entry["request"]["body"]["link"] == "https://example.com/a"
    assert "access_token" not in entry["request"]["body"]


async def test_one_photo_is_pulled_from_its_url(sandbox: Sandbox, media_files: MediaServer) -> None:
    tokens = await sandbox.account(FACEBOOK)
    post = PlatformPost(text="a photo", marker="t1", media=(photo(media_files),))
    published = await sandbox.provider(FACEBOOK).publish(tokens, post)
    assert isinstance(published, PublishedPost)
    entry = only(await sandbox.ledger(FACEBOOK))
    assert entry["platform_post_id"] == published.id
    assert entry["media"][0]["url"] == post.media[0].url


async def test_several_photos_are_attached_to_one_feed_post(
    sandbox: Sandbox, media_files: MediaServer
) -> None:
    tokens = await sandbox.account(FACEBOOK)
    post = PlatformPost(
        text="an album", marker="t1", media=(photo(media_files), photo(media_files))
    )
    published = await sandbox.provider(FACEBOOK).publish(tokens, post)
    assert isinstance(published, PublishedPost)
    entry = only(await sandbox.ledger(FACEBOOK))  # the unpublished photos are not posts
    assert entry["platform_post_id"] == published.id and len(entry["media"]) == 2


async def test_a_video_is_pending_while_processed_then_published(
    sandbox: Sandbox, media_files: MediaServer
) -> None:
    provider = sandbox.provider(FACEBOOK)
    tokens = await sandbox.account(FACEBOOK)
    post = PlatformPost(text="a video", marker="t1", media=(video(media_files),))
    pending = await provider.publish(tokens, post)
    assert isinstance(pending, Pending)
    video_id = pending.progress["video_id"]
    again = await provider.publish(tokens, post, pending.progress)
    assert isinstance(again, Pending) and again.status == "processing"
    await sandbox.advance(10)
    published = await provider.publish(tokens, post, pending.progress)
    assert isinstance(published, PublishedPost)
    assert published.url == f"https://www.facebook.com/{tokens.platform_user_id}/videos/{video_id}"
    # the id is the page post the video became, as the feed and post insights know it
    assert only(await sandbox.ledger(FACEBOOK))["platform_post_id"] == published.id != video_id


async def test_a_video_facebook_cannot_read_fails(
    sandbox: Sandbox, media_files: MediaServer
) -> None:
    provider = sandbox.provider(FACEBOOK)
    tokens = await sandbox.account(FACEBOOK)
    post = PlatformPost(text="not a video", marker="t1", media=(video(media_files, PNG),))
    pending = await provider.publish(tokens, post)
    assert isinstance(pending, Pending)
    with pytest.raises(PlatformError) as caught:
        await provider.publish(tokens, post, pending.progress)
    assert caught.value.kind is ErrorKind.BAD_REQUEST
    assert await provider.find_published_post(tokens, post, sandbox.now()) is None


async def test_a_dropped_feed_post_is_found_again_with_the_same_id(sandbox: Sandbox) -> None:
    provider = sandbox.provider(FACEBOOK)
    tokens = await sandbox.account(FACEBOOK)
    post = PlatformPost(text="did the page post it?", marker="t1")
    since = sandbox.now()
    await sandbox.fault(FACEBOOK, endpoint="*/feed", method="POST", drop_after_accept=True, count=1)
    with pytest.raises(PlatformError) as caught:
        await provider.publish(tokens, post)
    assert caught.value.kind is ErrorKind.TRANSIENT
    found = await provider.find_published_post(tokens, post, since)
    assert isinstance(found, PublishedPost)
    assert found.id == only(await sandbox.ledger(FACEBOOK))["platform_post_id"]
    assert found.url


async def test_a_dropped_video_is_found_again_and_followed_until_ready(
    sandbox: Sandbox, media_files: MediaServer
) -> None:
    provider = sandbox.provider(FACEBOOK)
    tokens = await sandbox.account(FACEBOOK)
    post = PlatformPost(text="a video that went out", marker="t1", media=(video(media_files),))
    since = sandbox.now()
    await sandbox.fault(
        FACEBOOK, endpoint="*/videos", method="POST", drop_after_accept=True, count=1
    )
    with pytest.raises(PlatformError):
        await provider.publish(tokens, post)
    found = await provider.find_published_post(tokens, post, since)
    assert isinstance(found, Pending) and set(found.progress) == {"video_id"}
    await sandbox.advance(10)
    done = await provider.find_published_post(tokens, post, since)
    assert isinstance(done, PublishedPost)
    assert done.id == only(await sandbox.ledger(FACEBOOK))["platform_post_id"]
    assert done.url.endswith(f"/videos/{found.progress['video_id']}")


async def test_find_returns_none_for_a_video_never_published(
    sandbox: Sandbox, media_files: MediaServer
) -> None:
    """(A text post never published: ``test_publish_common.py``.)"""
    provider = sandbox.provider(FACEBOOK)
    tokens = await sandbox.account(FACEBOOK)
    since = sandbox.now()
    await provider.publish(tokens, PlatformPost(text="something else", marker="t0"))
    never_video = PlatformPost(text="never", marker="t2", media=(video(media_files),))
    assert await provider.find_published_post(tokens, never_video, since) is None


async def test_a_page_throttle_in_a_400_body_is_a_rate_limit(tight: Sandbox) -> None:
    # The tight sandbox allows 2 calls per page and hour (Business Use Case limit, code 80001).
    provider = tight.provider(FACEBOOK)
    _, connections = await tight.connect(provider)
    tokens = connections[0].tokens
    with pytest.raises(PlatformError) as caught:
        for number in range(3):
            await provider.publish(tokens, PlatformPost(text=f"post {number}", marker=f"t{number}"))
    error = caught.value
    assert error.kind is ErrorKind.RATE_LIMITED and error.status == 400
    assert error.code == "80001" and error.retry_after and error.retry_after > 0


async def test_a_server_error_is_transient(sandbox: Sandbox) -> None:
    tokens = await sandbox.account(FACEBOOK)
    await sandbox.fault(FACEBOOK, endpoint="*/feed", method="POST", error_rate=1.0, count=1)
    with pytest.raises(PlatformError) as caught:
        await sandbox.provider(FACEBOOK).publish(tokens, PlatformPost(text="later", marker="t1"))
    assert caught.value.kind is ErrorKind.TRANSIENT
    assert await sandbox.ledger(FACEBOOK) == []
