"""LinkedIn publishing: the Posts API (id in x-restli-id), Images and multi-part Videos uploads
polled until AVAILABLE, the 422 duplicate, reconciliation from the member's posts, throttles."""

from __future__ import annotations

import pytest

from sandbox.testing import JPEG, MP4, PNG
from shared.tests.platforms.helpers import Sandbox, only, stored_media
from socialseed.platforms import (
    ErrorKind,
    MediaKind,
    Pending,
    Platform,
    PlatformError,
    PlatformPost,
    PublishedPost,
)
from socialseed.platforms.parsing import seconds_until_midnight

LINKEDIN = Platform.LINKEDIN
IMAGE = stored_media(JPEG, MediaKind.IMAGE, "image/jpeg")
# Two parts of the sandbox's 4 MB, the second shorter.
VIDEO = stored_media(MP4 + b"\x00" * (5 * 1024 * 1024), MediaKind.VIDEO, "video/mp4", media_id="v1")


async def test_text_post_is_published_with_reserved_characters_escaped(sandbox: Sandbox) -> None:
    tokens = await sandbox.account(LINKEDIN)
    post = PlatformPost(
        text="Launch (beta) today #news", marker="t1", options={"visibility": "CONNECTIONS"}
    )
    published = await sandbox.provider(LINKEDIN).publish(tokens, post)
    assert isinstance(published, PublishedPost)
    assert published.id.startswith("urn:li:share:")
    assert published.url == f"https://www.linkedin.com/feed/update/{published.id}"
    entry = only(await sandbox.ledger(LINKEDIN))
    assert entry["platform_post_id"] == published.id
    body = entry["request"]["body"]
    assert body["commentary"] == r"Launch \(beta\) today #news"
    assert body["visibility"] == "CONNECTIONS" and body["lifecycleState"] == "PUBLISHED"
    assert body["author"] == f"urn:li:person:{tokens.platform_user_id}"


async def test_an_image_is_pending_until_available_then_posted(sandbox: Sandbox) -> None:
    provider = sandbox.provider(LINKEDIN)
    tokens = await sandbox.account(LINKEDIN)
    post = PlatformPost(text="a picture", marker="t1", media=(IMAGE,))
    pending = await provider.publish(tokens, post)
    assert isinstance(pending, Pending) and pending.status == "PROCESSING"
    assert str(pending.progress["media"]).startswith("urn:li:image:")
    assert await sandbox.ledger(LINKEDIN) == []

    await sandbox.advance(10)
    published = await provider.publish(tokens, post, pending.progress)
    assert isinstance(published, PublishedPost)
    entry = only(await sandbox.ledger(LINKEDIN))
    assert entry["media"][0]["id"] == pending.progress["media"]
    assert await sandbox.calls(LINKEDIN, "POST /rest/images") == 1  # not uploaded twice


async def test_a_video_is_uploaded_in_parts_and_finalized_with_their_etags(
    sandbox: Sandbox,
) -> None:
    provider = sandbox.provider(LINKEDIN)
    tokens = await sandbox.account(LINKEDIN)
    post = PlatformPost(text="a video", marker="t1", media=(VIDEO,))
    pending = await provider.publish(tokens, post)
    assert isinstance(pending, Pending)
    assert str(pending.progress["media"]).startswith("urn:li:video:")
    assert await sandbox.calls(LINKEDIN, "PUT /dms-uploads/sp/v2/{upload_token}/uploadedVideo") == 2
    await sandbox.advance(10)
    published = await provider.publish(tokens, post, pending.progress)
    assert isinstance(published, PublishedPost)
    assert only(await sandbox.ledger(LINKEDIN))["media"][0]["format"] == "mp4"


async def test_a_video_linkedin_cannot_process_fails_as_a_bad_request(sandbox: Sandbox) -> None:
    tokens = await sandbox.account(LINKEDIN)
    not_a_video = stored_media(PNG, MediaKind.VIDEO, "video/mp4")
    with pytest.raises(PlatformError) as caught:
        await sandbox.provider(LINKEDIN).publish(
            tokens, PlatformPost(text="broken", marker="t1", media=(not_a_video,))
        )
    assert caught.value.kind is ErrorKind.BAD_REQUEST and caught.value.code == "PROCESSING_FAILED"
    assert await sandbox.ledger(LINKEDIN) == []


async def test_a_dropped_answer_is_found_again_with_the_same_id(sandbox: Sandbox) -> None:
    provider = sandbox.provider(LINKEDIN)
    tokens = await sandbox.account(LINKEDIN)
    post = PlatformPost(text="did it (really) go out?", marker="t1")
    since = sandbox.now()
    await sandbox.fault(
        LINKEDIN, endpoint="/rest/posts", method="POST", drop_after_accept=True, count=1
    )
    with pytest.raises(PlatformError) as caught:
        await provider.publish(tokens, post)
    assert caught.value.kind is ErrorKind.TRANSIENT
    found = await provider.find_published_post(tokens, post, since)
    assert isinstance(found, PublishedPost)
    assert found.id == only(await sandbox.ledger(LINKEDIN))["platform_post_id"]
    # The same words with an image would be another post.
    other = PlatformPost(text=post.text, marker="t2", media=(IMAGE,))
    assert await provider.find_published_post(tokens, other, since) is None


async def test_a_throttled_publish_waits_until_midnight_utc(sandbox: Sandbox) -> None:
    provider = sandbox.provider(LINKEDIN)
    tokens = await sandbox.account(LINKEDIN)
    await sandbox.fault(LINKEDIN, endpoint="/rest/posts", method="POST", burst_429=1)
    with pytest.raises(PlatformError) as caught:
        await provider.publish(tokens, PlatformPost(text="throttled", marker="t1"))
    error = caught.value
    assert error.kind is ErrorKind.RATE_LIMITED and error.retry_after is not None
    assert abs(error.retry_after - seconds_until_midnight(sandbox.now(), "UTC")) < 5
