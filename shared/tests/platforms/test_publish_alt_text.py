"""An image's alt text reaches the platforms that take it, as each takes it (X media metadata,
LinkedIn ``content.media.altText``, Instagram image containers' ``alt_text``), and the sandbox
refuses what the platforms refuse (too long; on a video)."""

from __future__ import annotations

import dataclasses

import httpx
import pytest

from sandbox.testing import JPEG
from shared.tests.platforms.helpers import MediaServer, Sandbox, only, stored_media
from socialseed.platforms import (
    ErrorKind,
    MediaKind,
    Platform,
    PlatformError,
    PlatformPost,
    PublishedPost,
)
from socialseed.platforms.instagram import InstagramProvider
from socialseed.platforms.x import XProvider

DESCRIBED = dataclasses.replace(
    stored_media(JPEG, MediaKind.IMAGE, "image/jpeg"),
    alt_text="A red square on a white table, seen from above",
)


async def test_x_sets_the_alt_text_of_the_image_it_posts(sandbox: Sandbox) -> None:
    tokens = await sandbox.account(Platform.X)
    published = await sandbox.provider(Platform.X).publish(
        tokens, PlatformPost(text="described", marker="t1", media=(DESCRIBED,))
    )
    assert isinstance(published, PublishedPost)
    [media] = only(await sandbox.ledger(Platform.X))["media"]
    assert media["alt_text"] == DESCRIBED.alt_text


async def test_x_refuses_alt_text_over_1000_characters(sandbox: Sandbox) -> None:
    provider = sandbox.provider(Platform.X)
    tokens = await sandbox.account(Platform.X)
    assert isinstance(provider, XProvider)
    uploaded = await provider.upload(tokens, dataclasses.replace(DESCRIBED, alt_text=None))
    headers = {"Authorization": f"Bearer {tokens.access_token}"}
    url = f"{sandbox.url}/x/2/media/metadata"

    def body(text: str) -> dict[str, object]:
        return {"id": uploaded["id"], "metadata": {"alt_text": {"text": text}}}

    async with httpx.AsyncClient() as http:
        r = await http.post(url, json=body("é" * 1001), headers=headers)
        assert r.status_code == 400, r.text
        r = await http.post(url, json=body("é" * 1000), headers=headers)
        assert r.status_code == 200, r.text
        assert r.json()["data"]["associated_metadata"]["alt_text"]["text"] == "é" * 1000


async def test_linkedin_posts_the_image_with_its_alt_text(sandbox: Sandbox) -> None:
    provider = sandbox.provider(Platform.LINKEDIN)
    tokens = await sandbox.account(Platform.LINKEDIN)
    post = PlatformPost(text="described", marker="t1", media=(DESCRIBED,))
    published, _ = await sandbox.publish_until_done(provider, tokens, post)
    entry = only(await sandbox.ledger(Platform.LINKEDIN))
    assert entry["platform_post_id"] == published.id
    assert entry["media"][0]["altText"] == DESCRIBED.alt_text
    assert entry["request"]["body"]["content"]["media"]["altText"] == DESCRIBED.alt_text


async def test_linkedin_refuses_alt_text_over_4086_characters(sandbox: Sandbox) -> None:
    provider = sandbox.provider(Platform.LINKEDIN)
    tokens = await sandbox.account(Platform.LINKEDIN)
    long = dataclasses.replace(DESCRIBED, alt_text="a" * 4087)
    post = PlatformPost(text="too long", marker="t1", media=(long,))
    with pytest.raises(PlatformError) as refused:
        await sandbox.publish_until_done(provider, tokens, post)
    assert refused.value.kind is ErrorKind.BAD_REQUEST and refused.value.status == 422
    assert "altText" in refused.value.message
    assert await sandbox.ledger(Platform.LINKEDIN) == []


async def test_instagram_describes_feed_images(sandbox: Sandbox, media_files: MediaServer) -> None:
    provider, tokens = await sandbox.connected(InstagramProvider)
    image = dataclasses.replace(
        media_files.media(MediaKind.IMAGE, JPEG, "image/jpeg"), alt_text=DESCRIBED.alt_text
    )
    post = PlatformPost(text="described #alt", marker="t1", media=(image,))
    await sandbox.publish_until_done(provider, tokens, post)
    [entry] = await sandbox.ledger(Platform.INSTAGRAM)
    assert entry["media"][0]["alt_text"] == DESCRIBED.alt_text
    assert entry["request"]["body"]["alt_text"] == DESCRIBED.alt_text
