"""X publishing: POST /2/tweets, chunked media upload with processing, threads one reply per
call, the duplicate signal, reconciliation from the user's timeline, rate limits."""

from __future__ import annotations

import dataclasses

import pytest

from sandbox.testing import JPEG, MP4
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

X = Platform.X
IMAGE = stored_media(JPEG, MediaKind.IMAGE, "image/jpeg")
# Bigger than one APPEND segment, so the upload takes several.
VIDEO = stored_media(MP4 + b"\x00" * (5 * 1024 * 1024), MediaKind.VIDEO, "video/mp4", media_id="v1")


async def test_text_post_is_published_with_its_public_url(sandbox: Sandbox) -> None:
    tokens = await sandbox.account(X)
    post = PlatformPost(
        text="Hello from SocialSeed & friends",
        marker="t1",
        options={"username": "alice", "reply_settings": "following"},
    )
    published = await sandbox.provider(X).publish(tokens, post)
    assert isinstance(published, PublishedPost)
    entry = only(await sandbox.ledger(X))
    assert entry["platform_post_id"] == published.id and entry["text"] == post.text
    assert entry["request"]["body"]["reply_settings"] == "following"
    assert published.url == f"https://x.com/alice/status/{published.id}"


async def test_without_a_username_the_url_is_the_one_x_redirects(sandbox: Sandbox) -> None:
    tokens = await sandbox.account(X)
    published = await sandbox.provider(X).publish(
        tokens, PlatformPost(text="no handle", marker="t1")
    )
    assert isinstance(published, PublishedPost)
    assert published.url == f"https://x.com/i/web/status/{published.id}"


async def test_images_are_uploaded_and_attached(sandbox: Sandbox) -> None:
    tokens = await sandbox.account(X)
    images = tuple(dataclasses.replace(IMAGE, id=f"m{i}") for i in range(2))
    published = await sandbox.provider(X).publish(
        tokens, PlatformPost(text="two pictures", marker="t1", media=images)
    )
    assert isinstance(published, PublishedPost)
    entry = only(await sandbox.ledger(X))
    assert [m["kind"] for m in entry["media"]] == ["tweet_image", "tweet_image"]


async def test_a_video_is_pending_while_x_processes_it_then_published(sandbox: Sandbox) -> None:
    provider = sandbox.provider(X)
    tokens = await sandbox.account(X)
    post = PlatformPost(text="a video", marker="t1", media=(VIDEO,))
    pending = await provider.publish(tokens, post)
    assert isinstance(pending, Pending) and pending.poll_after >= 1
    assert await sandbox.ledger(X) == []  # nothing visible while the media is processed
    assert await sandbox.calls(X, "POST /2/media/upload/{media_id}/append") == 2

    still = await provider.publish(tokens, post, pending.progress)
    assert isinstance(still, Pending) and still.progress == pending.progress

    await sandbox.advance(10)
    published = await provider.publish(tokens, post, pending.progress)
    assert isinstance(published, PublishedPost)
    entry = only(await sandbox.ledger(X))
    assert entry["platform_post_id"] == published.id
    assert [m["kind"] for m in entry["media"]] == ["tweet_video"]
    # Resuming asked STATUS; it never uploaded the video again.
    assert await sandbox.calls(X, "POST /2/media/upload/initialize") == 1


async def test_a_thread_posts_one_reply_per_call_under_the_previous_tweet(
    sandbox: Sandbox,
) -> None:
    provider = sandbox.provider(X)
    tokens = await sandbox.account(X)
    post = PlatformPost(text="1/3 a thread", marker="t1", options={"thread": ["2/3", "3/3"]})
    first = await provider.publish(tokens, post)
    assert isinstance(first, Pending) and len(first.progress["tweet_ids"]) == 1
    assert len(await sandbox.ledger(X)) == 1
    second = await provider.publish(tokens, post, first.progress)
    assert isinstance(second, Pending) and len(second.progress["tweet_ids"]) == 2
    done = await provider.publish(tokens, post, second.progress)
    assert isinstance(done, PublishedPost)

    entries = await sandbox.ledger(X)
    ids = [e["platform_post_id"] for e in entries]
    assert [e["text"] for e in entries] == ["1/3 a thread", "2/3", "3/3"]
    assert done.id == ids[0]
    replies = [e["request"]["body"].get("reply", {}).get("in_reply_to_tweet_id") for e in entries]
    assert replies == [None, ids[0], ids[1]]


async def test_a_dropped_answer_is_found_again_with_the_same_id(sandbox: Sandbox) -> None:
    provider = sandbox.provider(X)
    tokens = await sandbox.account(X)
    post = PlatformPost(text="did it go out?", marker="t1", media=(IMAGE,))
    since = sandbox.now()
    await sandbox.fault(X, endpoint="/2/tweets", method="POST", drop_after_accept=True, count=1)
    with pytest.raises(PlatformError) as caught:
        await provider.publish(tokens, post)
    assert caught.value.kind is ErrorKind.TRANSIENT

    found = await provider.find_published_post(tokens, post, since)
    assert isinstance(found, PublishedPost)
    assert found.id == only(await sandbox.ledger(X))["platform_post_id"]
    # The same text without its image is another post: not this one.
    assert (
        await provider.find_published_post(tokens, PlatformPost(text=post.text, marker="t2"), since)
        is None
    )


async def test_a_thread_dropped_mid_way_is_continued_from_the_reply_found(
    sandbox: Sandbox,
) -> None:
    provider = sandbox.provider(X)
    # Without the user id in the tokens, the provider asks /2/users/me for it.
    tokens = dataclasses.replace(await sandbox.account(X), platform_user_id=None)
    post = PlatformPost(text="thread root", marker="t1", options={"thread": ["reply a", "reply b"]})
    since = sandbox.now()
    first = await provider.publish(tokens, post)
    assert isinstance(first, Pending)
    await sandbox.fault(X, endpoint="/2/tweets", method="POST", drop_after_accept=True, count=1)
    with pytest.raises(PlatformError):
        await provider.publish(tokens, post, first.progress)

    for progress in (first.progress, None):  # with the stored progress, or none at all
        found = await provider.find_published_post(tokens, post, since, progress)
        assert isinstance(found, Pending)
        assert found.progress["tweet_ids"] == [
            e["platform_post_id"] for e in await sandbox.ledger(X)
        ]
    done = await provider.publish(tokens, post, found.progress)
    assert isinstance(done, PublishedPost)
    assert [e["text"] for e in await sandbox.ledger(X)] == ["thread root", "reply a", "reply b"]
    again = await provider.find_published_post(tokens, post, since)
    assert isinstance(again, PublishedPost) and again.id == done.id


async def test_an_older_identical_tweet_is_not_taken_for_this_one(sandbox: Sandbox) -> None:
    provider = sandbox.provider(X)
    tokens = await sandbox.account(X)
    post = PlatformPost(text="weekly reminder", marker="t1")
    assert isinstance(await provider.publish(tokens, post), PublishedPost)
    await sandbox.advance(2 * 86_400)  # past X's duplicate window
    tokens = await provider.refresh(tokens)
    assert await provider.find_published_post(tokens, post, sandbox.now()) is None


async def test_a_rate_limited_publish_says_when_the_window_resets(sandbox: Sandbox) -> None:
    provider = sandbox.provider(X)
    tokens = await sandbox.account(X)
    await sandbox.fault(
        X, endpoint="/2/tweets", method="POST", burst_429=1, rate_limit_headers=True
    )
    with pytest.raises(PlatformError) as caught:
        await provider.publish(tokens, PlatformPost(text="too fast", marker="t1"))
    error = caught.value
    assert error.kind is ErrorKind.RATE_LIMITED and error.status == 429
    assert error.retry_after is not None and 0 < error.retry_after <= 15 * 60
    assert await sandbox.ledger(X) == []


async def test_a_finished_thread_called_again_posts_nothing_more(sandbox: Sandbox) -> None:
    provider = sandbox.provider(X)
    tokens = await sandbox.account(X)
    post = PlatformPost(text="root", marker="t1", options={"thread": ["only reply"]})
    pending = await provider.publish(tokens, post)
    assert isinstance(pending, Pending)
    done = await provider.publish(tokens, post, pending.progress)
    assert isinstance(done, PublishedPost)
    posted = [e["platform_post_id"] for e in await sandbox.ledger(X)]
    finished = {**pending.progress, "tweet_ids": posted}
    assert isinstance(await provider.publish(tokens, post, finished), PublishedPost)
    assert len(await sandbox.ledger(X)) == 2


async def test_media_alone_is_posted_without_text(sandbox: Sandbox) -> None:
    tokens = await sandbox.account(X)
    published = await sandbox.provider(X).publish(
        tokens, PlatformPost(text="", marker="t1", media=(IMAGE,))
    )
    assert isinstance(published, PublishedPost)
    entry = only(await sandbox.ledger(X))
    assert "text" not in entry["request"]["body"] and len(entry["media"]) == 1


async def test_a_server_error_is_transient_and_nothing_is_posted(sandbox: Sandbox) -> None:
    tokens = await sandbox.account(X)
    await sandbox.fault(X, endpoint="/2/tweets", method="POST", error_rate=1.0, count=1)
    with pytest.raises(PlatformError) as caught:
        await sandbox.provider(X).publish(tokens, PlatformPost(text="later", marker="t1"))
    assert caught.value.kind is ErrorKind.TRANSIENT and caught.value.status == 503
    assert await sandbox.ledger(X) == []
