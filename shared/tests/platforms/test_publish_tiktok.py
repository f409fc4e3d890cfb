"""TikTok direct posts: creator_info, init, the video in chunks, then the status until the
public post id; the publish_id is kept from the init on, so nothing is ever posted twice."""

from __future__ import annotations

import pytest

from sandbox.testing import JPEG, MP4
from shared.tests.platforms.helpers import Sandbox, stored_media
from socialseed.platforms import (
    ErrorKind,
    Platform,
    PlatformCredentials,
    PlatformError,
    PlatformPost,
    PublishedPost,
)
from socialseed.platforms.base import Pending, PlatformMedia
from socialseed.platforms.tiktok import CHUNK, TikTokProvider

TIKTOK = Platform.TIKTOK
INIT = "POST /v2/post/publish/video/init/"
UPLOAD = "PUT /video/"


def clip(
    media: PlatformMedia | None = None, privacy: str = "PUBLIC_TO_EVERYONE", **options: object
) -> PlatformPost:
    return PlatformPost(
        text="Behind the scenes #making",
        marker="target-1",
        media=(media or stored_media(MP4, duration_s=12.0),),
        options={"privacy_level": privacy, **options},
    )


async def test_upload_then_processing_then_moderation_then_published(sandbox: Sandbox) -> None:
    provider, tokens = await sandbox.connected(TikTokProvider)
    post = clip(disable_duet=True)
    since = sandbox.now()

    first = await provider.publish(tokens, post)
    assert isinstance(first, Pending) and first.progress["publish_id"]
    assert await sandbox.ledger(TIKTOK) == []  # the publish_id is ours before any byte is sent
    # An init whose video has not arrived is no post (publish goes on sending it).
    assert await provider.find_published_post(tokens, post, since, first.progress) is None

    published, pendings = await sandbox.publish_until_done(provider, tokens, post, first.progress)
    assert {p.status for p in pendings} >= {"PROCESSING_UPLOAD", "PUBLISH_COMPLETE"}
    [entry] = await sandbox.ledger(TIKTOK)
    assert published.id == entry["platform_post_id"]
    assert published.url == f"https://www.tiktok.com/@alice/video/{published.id}"
    post_info = entry["request"]["body"]["post_info"]
    assert post_info["title"] == post.text and post_info["privacy_level"] == "PUBLIC_TO_EVERYONE"
    assert post_info["disable_duet"] is True and post_info["disable_comment"] is False
    assert entry["request"]["body"]["source_info"]["source"] == "FILE_UPLOAD"
    assert await sandbox.calls(TIKTOK, INIT) == 1

    assert await provider.find_published_post(tokens, post, since, first.progress) == published
    found = await provider.find_published_post(tokens, post, since)  # by caption, no handle
    assert isinstance(found, PublishedPost) and found.id == published.id


async def test_chunked_upload_resumes_where_tiktok_stopped(sandbox: Sandbox) -> None:
    provider, tokens = await sandbox.connected(TikTokProvider)
    data = MP4 + bytes(2 * CHUNK + 12_345 - len(MP4))  # two chunks, the remainder in the last
    post = clip(stored_media(data, fail_reads_at=CHUNK))
    pending = await provider.publish(tokens, post)
    assert isinstance(pending, Pending)
    with pytest.raises(ConnectionError):  # the first chunk went, the second could not be read
        await provider.publish(tokens, post, pending.progress)
    assert await sandbox.calls(TIKTOK, UPLOAD) == 1

    published, _ = await sandbox.publish_until_done(provider, tokens, post, pending.progress)
    assert await sandbox.calls(TIKTOK, UPLOAD) == 2  # the first chunk was not sent again
    [entry] = await sandbox.ledger(TIKTOK)
    assert entry["platform_post_id"] == published.id and entry["media"][0]["size"] == len(data)


async def test_failed_processing_fails_with_the_reason_in_words(sandbox: Sandbox) -> None:
    provider, tokens = await sandbox.connected(TikTokProvider)
    post = clip(stored_media(JPEG))  # not a video at all
    with pytest.raises(PlatformError) as caught:
        await sandbox.publish_until_done(provider, tokens, post)
    assert caught.value.kind is ErrorKind.BAD_REQUEST
    assert caught.value.code == "file_format_check_failed"
    assert "format is not supported" in caught.value.message


async def test_lost_answer_to_the_last_chunk_is_found_by_publish_id(sandbox: Sandbox) -> None:
    provider, tokens = await sandbox.connected(TikTokProvider)
    post = clip()
    since = sandbox.now()
    pending = await provider.publish(tokens, post)
    assert isinstance(pending, Pending)
    await sandbox.fault(TIKTOK, endpoint="/video/", method="PUT", drop_after_accept=True, count=1)
    with pytest.raises(PlatformError) as caught:
        await provider.publish(tokens, post, pending.progress)
    assert caught.value.kind is ErrorKind.TRANSIENT

    outcome = await provider.find_published_post(tokens, post, since, pending.progress)
    for _ in range(5):
        if not isinstance(outcome, Pending):
            break
        await sandbox.advance(outcome.poll_after)
        outcome = await provider.find_published_post(tokens, post, since, pending.progress)
    [entry] = await sandbox.ledger(TIKTOK)
    assert isinstance(outcome, PublishedPost) and outcome.id == entry["platform_post_id"]
    again = await provider.publish(tokens, post, pending.progress)
    assert again == outcome and len(await sandbox.ledger(TIKTOK)) == 1


async def test_lost_init_left_nothing_to_find(sandbox: Sandbox) -> None:
    provider, tokens = await sandbox.connected(TikTokProvider)
    post = clip()
    since = sandbox.now()
    assert await provider.find_published_post(tokens, post, since) is None
    await sandbox.fault(
        TIKTOK, endpoint="/v2/post/publish/video/init/", drop_after_accept=True, count=1
    )
    with pytest.raises(PlatformError):
        await provider.publish(tokens, post)
    # No bytes were sent under that publish_id: no post, so publishing again is safe.
    assert await provider.find_published_post(tokens, post, since) is None
    assert await sandbox.ledger(TIKTOK) == []
    await sandbox.publish_until_done(provider, tokens, post)
    assert len(await sandbox.ledger(TIKTOK)) == 1


async def test_privacy_is_checked_against_the_creator_and_private_posts_have_no_public_id(
    sandbox: Sandbox,
) -> None:
    provider, tokens = await sandbox.connected(TikTokProvider)
    with pytest.raises(PlatformError) as caught:
        await provider.publish(tokens, clip(privacy="FRIENDS"))
    assert caught.value.kind is ErrorKind.BAD_REQUEST
    assert "PUBLIC_TO_EVERYONE" in caught.value.message and "SELF_ONLY" in caught.value.message
    assert await sandbox.calls(TIKTOK, INIT) == 0

    published, _ = await sandbox.publish_until_done(provider, tokens, clip(privacy="SELF_ONLY"))
    assert published.id.startswith("v_pub_file~") and published.url is None  # the publish_id


async def test_daily_post_cap_is_a_rate_limit(capped: Sandbox) -> None:
    provider, tokens = await capped.connected(TikTokProvider)
    await capped.publish_until_done(provider, tokens, clip())
    with pytest.raises(PlatformError) as caught:
        await provider.publish(tokens, clip())
    assert caught.value.kind is ErrorKind.RATE_LIMITED
    assert caught.value.code == "spam_risk_too_many_posts" and caught.value.retry_after == 3600


async def test_init_rate_limit(sandbox: Sandbox) -> None:
    provider, tokens = await sandbox.connected(TikTokProvider)
    await sandbox.fault(TIKTOK, endpoint="/v2/post/publish/video/init/", burst_429=1)
    with pytest.raises(PlatformError) as caught:
        await provider.publish(tokens, clip())
    assert (
        caught.value.kind is ErrorKind.RATE_LIMITED and caught.value.code == "rate_limit_exceeded"
    )
    assert caught.value.retry_after == 60


async def test_media_on_a_verified_domain_is_pulled_and_tiktok_checks_the_domain(
    sandbox: Sandbox,
) -> None:
    # Our config says the media host is verified for PULL_FROM_URL; TikTok (the sandbox, with
    # no verified domain) disagrees: a request to fix, not to retry.
    provider = sandbox.provider(TIKTOK, tiktok_verified_domains=["socialseed.test"])
    tokens, _ = await sandbox.connect(provider)
    with pytest.raises(PlatformError) as caught:
        await provider.publish(tokens, clip())
    assert caught.value.kind is ErrorKind.BAD_REQUEST
    assert caught.value.code == "url_ownership_unverified"
    assert "not verified" in caught.value.message
    assert await sandbox.ledger(TIKTOK) == []


async def test_without_video_list_a_lookup_by_caption_is_none_not_a_reconnect(
    sandbox: Sandbox,
) -> None:
    scopes = ["user.info.basic", "video.publish", "video.upload"]
    provider = sandbox.provider(TIKTOK, tiktok=PlatformCredentials(scopes=scopes))
    tokens, _ = await sandbox.connect(provider)
    assert "video.list" not in tokens.scopes
    assert await provider.find_published_post(tokens, clip(), sandbox.now()) is None
    assert await sandbox.calls(TIKTOK, "POST /v2/video/list/") == 0


async def test_video_longer_than_the_creator_may_post_is_refused_before_init(
    sandbox: Sandbox,
) -> None:
    provider, tokens = await sandbox.connected(TikTokProvider)
    with pytest.raises(PlatformError) as caught:
        await provider.publish(tokens, clip(stored_media(MP4, duration_s=601.0)))
    assert caught.value.kind is ErrorKind.BAD_REQUEST
    assert "up to 600 s" in caught.value.message and "601 s" in caught.value.message
    assert await sandbox.calls(TIKTOK, INIT) == 0


async def test_a_cover_frame_beyond_int32_is_refused_at_init(sandbox: Sandbox) -> None:
    """TikTok's post_info integers are int32: the sandbox refuses a larger cover frame, as a
    bad request, and nothing is posted."""
    provider, tokens = await sandbox.connected(TikTokProvider)
    with pytest.raises(PlatformError) as caught:
        await provider.publish(tokens, clip(video_cover_timestamp_ms=2**31))
    assert caught.value.kind is ErrorKind.BAD_REQUEST
    assert await sandbox.calls(TIKTOK, INIT) == 1
    assert await sandbox.ledger(TIKTOK) == []
