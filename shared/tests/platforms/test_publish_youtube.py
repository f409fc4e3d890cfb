"""YouTube: a resumable upload whose session URI is the progress, then processing; an upload cut
off resumes where YouTube stopped, and a lost last answer is found through the session."""

from __future__ import annotations

import logging
from urllib.parse import parse_qs, urlsplit

import pytest

from sandbox.testing import JPEG, MP4
from shared.tests.platforms.helpers import Sandbox, stored_media
from socialseed.platforms import ErrorKind, Platform, PlatformError, PlatformPost
from socialseed.platforms.base import Pending, PlatformMedia
from socialseed.platforms.redaction import install_log_redaction
from socialseed.platforms.youtube import YouTubeProvider

YOUTUBE = Platform.YOUTUBE
UPLOAD = "/upload/youtube/v3/videos"
PUT = f"PUT {UPLOAD}"
KIB_256 = 256 * 1024


def upload(media: PlatformMedia | None = None, **options: object) -> PlatformPost:
    return PlatformPost(
        text="How we brew\nA look at the roastery, start to finish.",
        marker="target-1",
        media=(media or stored_media(MP4, duration_s=12.0),),
        options={"privacy_status": "unlisted", **options},
    )


async def test_upload_then_processing_then_published(sandbox: Sandbox) -> None:
    provider, tokens = await sandbox.connected(YouTubeProvider)
    post = upload(category_id="28", made_for_kids=False)
    since = sandbox.now()

    first = await provider.publish(tokens, post)
    assert isinstance(first, Pending) and first.progress["upload_url"]
    assert await sandbox.ledger(YOUTUBE) == []  # a session is not a video
    assert await provider.find_published_post(tokens, post, since, first.progress) is None

    published, pendings = await sandbox.publish_until_done(provider, tokens, post, first.progress)
    assert "processing" in {p.status for p in pendings}
    [entry] = await sandbox.ledger(YOUTUBE)
    assert published.id == entry["platform_post_id"]
    assert published.url == f"https://www.youtube.com/watch?v={published.id}"
    metadata = entry["request"]["body"]
    assert metadata["snippet"]["title"] == "How we brew"  # the first line, without options.title
    assert metadata["snippet"]["description"] == post.text
    assert metadata["snippet"]["categoryId"] == "28"
    assert metadata["status"] == {"privacyStatus": "unlisted", "selfDeclaredMadeForKids": False}

    assert await provider.find_published_post(tokens, post, since, first.progress) == published
    assert await provider.find_published_post(tokens, post, since) == published  # by title


async def test_interrupted_upload_resumes_where_youtube_stopped(sandbox: Sandbox) -> None:
    provider, tokens = await sandbox.connected(YouTubeProvider)
    provider.chunk_bytes, provider.upload_budget = KIB_256, 2 * KIB_256
    data = MP4 + bytes(4 * KIB_256 + 1_000 - len(MP4))  # four chunks and a short last one
    post = upload(stored_media(data, fail_reads_at=3 * KIB_256))

    session = await provider.publish(tokens, post)
    assert isinstance(session, Pending)
    part = await provider.publish(tokens, post, session.progress)  # probe + 2 chunks: budget
    assert isinstance(part, Pending) and part.progress["offset"] == 2 * KIB_256
    with pytest.raises(ConnectionError):  # probe + the 3rd chunk, then the storage fails
        await provider.publish(tokens, post, part.progress)
    # YouTube has 3 chunks, our progress says 2: nothing is published yet, and the next call
    # asks YouTube instead of trusting it.
    assert await provider.find_published_post(tokens, post, sandbox.now(), part.progress) is None
    done = await provider.publish(tokens, post, part.progress)  # probe + chunks 4 and 5
    assert isinstance(done, Pending) and done.progress["video_id"]
    assert await sandbox.calls(YOUTUBE, PUT) == 3 + 2 + 1 + 3  # no chunk was sent twice
    [entry] = await sandbox.ledger(YOUTUBE)
    assert entry["media"][0]["size"] == len(data)


async def test_lost_answer_to_the_last_chunk_is_found_through_the_session(
    sandbox: Sandbox,
) -> None:
    provider, tokens = await sandbox.connected(YouTubeProvider)
    post = upload()
    since = sandbox.now()
    session = await provider.publish(tokens, post)
    assert isinstance(session, Pending)
    # The probe goes through; the one chunk (the last) is accepted, its answer lost.
    await sandbox.fault(
        YOUTUBE, endpoint=UPLOAD, method="PUT", drop_after_accept=True, after=1, count=1
    )
    with pytest.raises(PlatformError) as caught:
        await provider.publish(tokens, post, session.progress)
    assert caught.value.kind is ErrorKind.TRANSIENT

    found = await provider.find_published_post(tokens, post, since, session.progress)
    [entry] = await sandbox.ledger(YOUTUBE)
    assert isinstance(found, Pending) and found.progress["video_id"] == entry["platform_post_id"]
    published, _ = await sandbox.publish_until_done(provider, tokens, post, session.progress)
    assert published.id == entry["platform_post_id"]
    assert len(await sandbox.ledger(YOUTUBE)) == 1


async def test_video_youtube_cannot_process_fails_with_the_reason(sandbox: Sandbox) -> None:
    provider, tokens = await sandbox.connected(YouTubeProvider)
    post = upload(stored_media(JPEG))
    with pytest.raises(PlatformError) as caught:
        await sandbox.publish_until_done(provider, tokens, post)
    assert caught.value.kind is ErrorKind.BAD_REQUEST and caught.value.code == "invalidFile"
    assert "is not a video file YouTube can read" in caught.value.message
    # A failed upload is no post to reconcile with.
    assert (
        await provider.find_published_post(tokens, post, sandbox.now().replace(year=2000)) is None
    )


async def test_never_published_is_none(sandbox: Sandbox) -> None:
    provider, tokens = await sandbox.connected(YouTubeProvider)
    assert await provider.find_published_post(tokens, upload(), sandbox.now()) is None


async def test_quota_exhausted_waits_for_pacific_midnight(tight: Sandbox) -> None:
    provider, tokens = await tight.connected(YouTubeProvider)  # 1 unit of 2
    with pytest.raises(PlatformError) as caught:
        await provider.find_published_post(tokens, upload(), tight.now())  # 1 + 1 units
    assert caught.value.kind is ErrorKind.RATE_LIMITED and caught.value.code == "quotaExceeded"
    assert caught.value.retry_after is not None and 0 < caught.value.retry_after <= 86_400


async def test_daily_upload_cap_is_a_rate_limit(capped: Sandbox) -> None:
    provider, tokens = await capped.connected(YouTubeProvider)
    await capped.publish_until_done(provider, tokens, upload())
    with pytest.raises(PlatformError) as caught:
        await provider.publish(tokens, upload(title="Another one"))
    assert caught.value.kind is ErrorKind.RATE_LIMITED
    assert caught.value.code == "uploadLimitExceeded"


async def test_burst_is_a_rate_limit(sandbox: Sandbox) -> None:
    provider, tokens = await sandbox.connected(YouTubeProvider)
    await sandbox.fault(YOUTUBE, endpoint=UPLOAD, method="POST", burst_429=1)
    with pytest.raises(PlatformError) as caught:
        await provider.publish(tokens, upload())
    assert caught.value.kind is ErrorKind.RATE_LIMITED
    assert caught.value.code == "rateLimitExceeded"
    sandbox.assert_error_clean(caught.value)


async def test_expired_session_starts_again(sandbox: Sandbox) -> None:
    provider, tokens = await sandbox.connected(YouTubeProvider)
    post = upload()
    session = await provider.publish(tokens, post)
    assert isinstance(session, Pending)
    await sandbox.advance(8 * 86_400)  # sessions last about a week
    tokens = await provider.refresh(tokens)
    again = await provider.publish(tokens, post, session.progress)
    assert isinstance(again, Pending)
    assert again.progress["upload_url"] != session.progress["upload_url"]
    published, _ = await sandbox.publish_until_done(provider, tokens, post, again.progress)
    assert [e["platform_post_id"] for e in await sandbox.ledger(YOUTUBE)] == [published.id]


async def test_the_session_uri_stays_out_of_logs(
    sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    provider, tokens = await sandbox.connected(YouTubeProvider)
    install_log_redaction()  # what every service installs
    caplog.set_level(logging.INFO)
    post = upload()
    session = await provider.publish(tokens, post)
    assert isinstance(session, Pending)
    await sandbox.publish_until_done(provider, tokens, post, session.progress)
    # Whoever holds the session URI can upload into it: a capability, like a token.
    upload_id = parse_qs(urlsplit(session.progress["upload_url"]).query)["upload_id"][0]
    assert "HTTP Request: PUT" in caplog.text and upload_id not in caplog.text


async def test_tags_are_sent_and_bounded_as_youtube_counts_them(sandbox: Sandbox) -> None:
    """``options.tags`` reach YouTube; past 500 characters as YouTube counts them (commas
    between tags, quotes around a tag with a space) the upload is refused (invalidTags) before
    any byte is sent."""
    provider, tokens = await sandbox.connected(YouTubeProvider)
    fits = ["abcde"] + ["abcd"] * 99  # 5 + 396 + 99 commas = 500
    first = await provider.publish(tokens, upload(tags=fits))
    assert isinstance(first, Pending)
    await sandbox.publish_until_done(provider, tokens, upload(tags=fits), first.progress)
    [entry] = await sandbox.ledger(YOUTUBE)
    assert entry["request"]["body"]["snippet"]["tags"] == fits
    spaced = ["a b"] * 84  # 5 each quoted, plus 83 commas: 503; 335 characters as sent
    with pytest.raises(PlatformError) as caught:
        await provider.publish(tokens, upload(tags=spaced))
    assert caught.value.kind is ErrorKind.BAD_REQUEST
    assert "invalidTags" in str(caught.value.code or caught.value.message)
    assert len(await sandbox.ledger(YOUTUBE)) == 1
