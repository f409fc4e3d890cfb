"""Each platform's rules for one target (``rules.check``): text counted as the platform counts
it, media kinds, sizes, durations and shapes, and the options each platform takes. A verdict's
``problems`` are words for the composer; the tests look for the rule each one names."""

from __future__ import annotations

from typing import Any

import pytest

from publisher.posts.rules import (
    MediaFacts,
    TargetDraft,
    Verdict,
    check,
    typed,
    youtube_tags_length,
)
from socialseed.platforms import Platform
from socialseed.platforms.base import MediaKind

MB = 1024 * 1024
X, TIKTOK, INSTAGRAM = Platform.X, Platform.TIKTOK, Platform.INSTAGRAM
FACEBOOK, LINKEDIN, YOUTUBE = Platform.FACEBOOK, Platform.LINKEDIN, Platform.YOUTUBE
TIKTOK_OK = {"privacy_level": "PUBLIC_TO_EVERYONE"}
YOUTUBE_OK = {"title": "A title"}


def image(
    mime: str = "image/jpeg", size: int = MB, width: int = 1080, height: int = 1080
) -> MediaFacts:
    return MediaFacts(MediaKind.IMAGE, mime, size, width, height)


def video(seconds: float = 30, mime: str = "video/mp4", size: int = 10 * MB) -> MediaFacts:
    return MediaFacts(MediaKind.VIDEO, mime, size, 1080, 1920, seconds)


def verdict(
    platform: Platform, text: str = "", media: list[MediaFacts] | None = None, **options: Any
) -> Verdict:
    return check(platform, TargetDraft(text=text, media=media or [], options=options))


def problems(platform: Platform, text: str = "", media: list[MediaFacts] | None = None,
             **options: Any) -> str:  # fmt: skip
    """Every problem in one string ("" when the draft can be published)."""
    return " ".join(verdict(platform, text, media, **options).problems)


# X -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "a" * 280,
        "あ" * 140,  # CJK counts 2
        "😀" * 140,  # an emoji counts 2
        "👨‍👩‍👧" * 140,  # a ZWJ sequence (5 code points) is one emoji: 2
        "e\u0301" * 280,  # a combining accent is read with its letter (NFC): 1
        "a" * 256 + " https://example.com/" + "b" * 200,  # a URL is 23, however long
        "a" * 256 + " example.com",  # a bare domain is a URL too
    ],
)
def test_x_takes_280_as_x_weighs_them(text: str) -> None:
    assert problems(X, text) == ""
    assert problems(X, "a" + text) == ("The post is 281 characters as X counts them; X allows 280.")


def test_x_weighs_cjk_and_emoji_twice_where_raw_lengths_pass() -> None:
    assert "282 characters" in problems(X, "あ" * 141)
    assert "282 characters" in problems(X, "😀" * 141)


def test_x_counts_every_reply_of_a_thread_and_refuses_an_empty_one() -> None:
    found = problems(X, "first", thread=["ok", "a" * 281, "  "])
    assert "Reply 2 of the thread is 281 characters" in found
    assert "Reply 3 of the thread is empty." in found
    assert "Reply 1" not in found
    assert problems(X, "first", thread=["r"] * 24) == ""
    assert "thread" in problems(X, "first", thread=["r"] * 25)  # 24 replies at most


def test_x_media_images_or_one_video() -> None:
    assert problems(X, "", [image()] * 4) == ""
    assert "at most 4 images" in problems(X, "", [image()] * 5)
    assert "either images or one video, not both" in problems(X, "", [image(), video()])
    assert "either images or one video" in problems(X, "", [video(), video()])
    assert "X does not take image/heic images." in problems(X, "t", [image("image/heic")])
    for mime in ("image/jpeg", "image/png", "image/gif", "image/webp"):
        assert problems(X, "t", [image(mime)]) == ""


def test_x_media_sizes_and_durations() -> None:
    assert problems(X, "t", [image(size=5 * MB)]) == ""
    assert "X takes images up to 5 MB; one is 5.0 MB." in problems(X, "t", [image(size=5 * MB + 1)])
    assert problems(X, "t", [video(140)]) == ""
    assert "X takes videos up to 140 s; this one is 141 s." in problems(X, "t", [video(140.6)])
    assert problems(X, "t", [video(size=512 * MB)]) == ""
    assert "up to 512 MB" in problems(X, "t", [video(size=512 * MB + 1)])


def test_x_needs_text_or_media() -> None:
    assert "An X post needs text or media." in problems(X, "  \n")
    assert problems(X, "", [image()]) == ""


def test_x_options() -> None:
    v = verdict(X, "t", reply_settings="following")
    assert v == Verdict({"reply_settings": "following", "thread": []}, [])
    assert "reply_settings" in problems(X, "t", reply_settings="everyone")
    assert "Option poll" in problems(X, "t", poll={"options": ["a", "b"]})  # unknown option


# TikTok ------------------------------------------------------------------------------------


def test_tiktok_is_exactly_one_video_of_3_seconds_or_more() -> None:
    assert problems(TIKTOK, "c", [video(3)], **TIKTOK_OK) == ""
    assert "at least 3 seconds" in problems(TIKTOK, "c", [video(2.9)], **TIKTOK_OK)
    for media in ([], [image()], [video(), video()], [video(), image()]):
        assert "exactly one video" in problems(TIKTOK, "c", media, **TIKTOK_OK)
    assert "TikTok does not take video/x-msvideo videos." in problems(
        TIKTOK, "c", [video(mime="video/x-msvideo")], **TIKTOK_OK
    )
    for mime in ("video/mp4", "video/quicktime", "video/webm"):
        assert problems(TIKTOK, "c", [video(mime=mime)], **TIKTOK_OK) == ""


def test_tiktok_captions_are_2200_utf16_units() -> None:
    assert problems(TIKTOK, "a" * 2200, [video()], **TIKTOK_OK) == ""
    assert "at most 2,200" in problems(TIKTOK, "a" * 2201, [video()], **TIKTOK_OK)
    # an emoji outside the BMP is two UTF-16 units: 1,101 of them are 2,202
    assert problems(TIKTOK, "😀" * 1100, [video()], **TIKTOK_OK) == ""
    assert "at most 2,200" in problems(TIKTOK, "😀" * 1101, [video()], **TIKTOK_OK)


def test_tiktok_cover_frame_lies_within_the_video() -> None:
    clip = [video(4)]
    assert problems(TIKTOK, "c", clip, **TIKTOK_OK, video_cover_timestamp_ms=0) == ""
    assert problems(TIKTOK, "c", clip, **TIKTOK_OK, video_cover_timestamp_ms=4000) == ""
    assert (
        "The cover frame (video_cover_timestamp_ms 4001) is after the end of the video (4000 ms)."
        in problems(TIKTOK, "c", clip, **TIKTOK_OK, video_cover_timestamp_ms=4001)
    )
    # bounded as TikTok's int32 field is, whatever the video
    assert "video_cover_timestamp_ms" in problems(
        TIKTOK, "c", clip, **TIKTOK_OK, video_cover_timestamp_ms=2**31
    )
    assert "video_cover_timestamp_ms" in problems(
        TIKTOK, "c", clip, **TIKTOK_OK, video_cover_timestamp_ms=-1
    )


def test_stored_options_are_answered_typed_even_when_a_rule_has_tightened_since() -> None:
    """The API answers stored options as their platform's model, tagged with the platform; a
    row stored before a rule tightened (TikTok without privacy) is still answered, not a 500."""
    stored = verdict(TIKTOK, "c", [video()], **TIKTOK_OK).options
    assert "platform" not in stored
    answered = typed(TIKTOK, stored).model_dump()
    assert answered["platform"] == "tiktok" and answered["privacy_level"] == "PUBLIC_TO_EVERYONE"
    old = typed(TIKTOK, {"disable_duet": True}).model_dump()
    assert old["platform"] == "tiktok" and old["disable_duet"] is True


def test_tiktok_options() -> None:
    assert "Option privacy_level: Field required." in problems(TIKTOK, "c", [video()])
    assert "Branded content cannot be private" in problems(
        TIKTOK, "c", [video()], privacy_level="SELF_ONLY", brand_content_toggle=True
    )
    assert problems(TIKTOK, "c", [video()], privacy_level="SELF_ONLY") == ""
    # booleans are booleans: "true" is not read as one
    assert "disable_comment" in problems(
        TIKTOK, "c", [video()], **TIKTOK_OK, disable_comment="true"
    )
    assert verdict(TIKTOK, "c", [video()], **TIKTOK_OK).options == {
        "privacy_level": "PUBLIC_TO_EVERYONE",
        "disable_comment": False,
        "disable_duet": False,
        "disable_stitch": False,
        "brand_content_toggle": False,
        "brand_organic_toggle": False,
    }


# Instagram ---------------------------------------------------------------------------------


def test_instagram_needs_media_and_counts_items() -> None:
    assert "needs an image or a video" in problems(INSTAGRAM, "c")
    assert problems(INSTAGRAM, "c", [image()]) == ""
    assert problems(INSTAGRAM, "c", [image()] * 10) == ""  # more than one: a carousel
    assert "2 to 10 items; this one has 11" in problems(INSTAGRAM, "c", [image()] * 11)
    assert "2 to 10 items; this one has 1" in problems(
        INSTAGRAM, "c", [image()], media_type="CAROUSEL"
    )
    assert "An Instagram feed post has one item; use CAROUSEL" in problems(
        INSTAGRAM, "c", [image()] * 2, media_type="FEED"
    )
    assert problems(INSTAGRAM, "c", [video()], media_type="REELS") == ""
    assert "reel is exactly one video" in problems(INSTAGRAM, "c", [image()], media_type="REELS")


def test_instagram_images_are_jpeg_up_to_8_mb() -> None:
    assert "only JPEG images, not image/png" in problems(INSTAGRAM, "c", [image("image/png")])
    assert problems(INSTAGRAM, "c", [image(size=8 * MB)]) == ""
    assert "up to 8 MB; one is 8.0 MB" in problems(INSTAGRAM, "c", [image(size=8 * MB + 1)])


@pytest.mark.parametrize(
    ("width", "height", "fits"),
    [(800, 1000, True), (799, 1000, False), (1910, 1000, True), (1911, 1000, False),
     (1080, 1080, True), (1080, 1920, False)],
)  # fmt: skip
def test_instagram_feed_images_are_between_4_5_and_1_91_1(
    width: int, height: int, fits: bool
) -> None:
    photo = image(width=width, height=height)
    for kind in ("FEED", "CAROUSEL"):
        media = [photo] * (2 if kind == "CAROUSEL" else 1)
        found = problems(INSTAGRAM, "c", media, media_type=kind)
        assert ("between 4:5 and 1.91:1" not in found) is fits, (kind, found)
    assert problems(INSTAGRAM, "c", [photo], media_type="STORIES") == ""  # any shape


def test_instagram_videos_and_captions() -> None:
    assert problems(INSTAGRAM, "c", [video(3)]) == ""
    assert problems(INSTAGRAM, "c", [video(15 * 60)]) == ""
    for seconds in (2.9, 15 * 60 + 1):
        assert "3 seconds to 15 minutes" in problems(INSTAGRAM, "c", [video(seconds)])
    assert problems(INSTAGRAM, "#t " * 30, [image()]) == ""
    assert "at most 30 hashtags" in problems(INSTAGRAM, "#t " * 31, [image()])
    assert problems(INSTAGRAM, "😀" * 1100, [image()]) == ""
    assert "at most 2,200" in problems(INSTAGRAM, "😀" * 1101, [image()])


# Facebook ----------------------------------------------------------------------------------


def test_facebook_rules() -> None:
    assert problems(FACEBOOK, "a" * 63206) == ""
    assert "at most 63,206" in problems(FACEBOOK, "a" * 63207)
    assert "at most 63,206" in problems(FACEBOOK, "😀" * 31604)  # 63,208 UTF-16 units
    assert problems(FACEBOOK, "", [image()] * 10) == ""
    assert "at most 10 photos" in problems(FACEBOOK, "", [image()] * 11)
    assert "either photos or one video" in problems(FACEBOOK, "", [image(), video()])
    assert problems(FACEBOOK, "", link="https://example.com/a") == ""
    assert "link post cannot carry media" in problems(
        FACEBOOK, "", [image()], link="https://example.com/a"
    )
    assert "needs text, a link or media" in problems(FACEBOOK, " ")
    assert "Option link" in problems(FACEBOOK, "t", link="javascript:alert(1)")


# LinkedIn ----------------------------------------------------------------------------------


def test_linkedin_rules() -> None:
    assert verdict(LINKEDIN, "a" * 3000) == Verdict({"visibility": "PUBLIC"}, [])
    assert "at most 3,000" in problems(LINKEDIN, "a" * 3001)
    assert "at most 3,000" in problems(LINKEDIN, "😀" * 1501)
    assert problems(LINKEDIN, "", [image()]) == ""
    assert "at most 1 images" in problems(LINKEDIN, "", [image()] * 2)
    assert problems(LINKEDIN, "", [video(3)]) == ""
    assert problems(LINKEDIN, "", [video(30 * 60)]) == ""
    for seconds in (2.9, 30 * 60 + 1):
        assert "3 seconds to 30 minutes" in problems(LINKEDIN, "", [video(seconds)])
    assert "needs text or media" in problems(LINKEDIN, "")
    assert "visibility" in problems(LINKEDIN, "t", visibility="FRIENDS")


# YouTube -----------------------------------------------------------------------------------


def test_youtube_is_exactly_one_video_with_a_title() -> None:
    assert problems(YOUTUBE, "d", [video()], **YOUTUBE_OK) == ""
    for media in ([], [image()], [video(), video()]):
        assert "exactly one video" in problems(YOUTUBE, "d", media, **YOUTUBE_OK)
    assert "Option title: Field required." in problems(YOUTUBE, "d", [video()])
    assert "Option title" in problems(YOUTUBE, "d", [video()], title="")
    assert problems(YOUTUBE, "d", [video()], title="t" * 100) == ""
    assert "Option title" in problems(YOUTUBE, "d", [video()], title="t" * 101)
    assert "titles cannot contain < or >" in problems(YOUTUBE, "d", [video()], title="a <b>")
    assert "Option category_id" in problems(YOUTUBE, "d", [video()], **YOUTUBE_OK, category_id="x")


def test_youtube_descriptions_are_5000_bytes() -> None:
    # "é" is two bytes in UTF-8: 2,500 of them are the limit, whatever their count
    assert problems(YOUTUBE, "é" * 2500, [video()], **YOUTUBE_OK) == ""
    assert "at most 5,000 bytes" in problems(YOUTUBE, "é" * 2501, [video()], **YOUTUBE_OK)
    assert "descriptions cannot contain < or >" in problems(
        YOUTUBE, "1 < 2", [video()], **YOUTUBE_OK
    )


@pytest.mark.parametrize(
    ("tags", "length"),
    [([], 0), (["Foo"], 3), (["Foo-Baz"], 7), (["Foo Baz"], 9), (["a", "b"], 3),
     (["a b", "c"], 7)],
)  # fmt: skip
def test_youtube_counts_tags_with_commas_and_quotes(tags: list[str], length: int) -> None:
    assert youtube_tags_length(tags) == length


def test_youtube_tags_are_500_characters_as_youtube_counts_them() -> None:
    at_limit = ["abcde"] + ["abcd"] * 99  # 5 + 99 * 4 + 99 commas
    assert problems(YOUTUBE, "d", [video()], **YOUTUBE_OK, tags=at_limit) == ""
    over = ["abcde", "abcde"] + ["abcd"] * 98
    assert "YouTube tags are 501 characters" in problems(
        YOUTUBE, "d", [video()], **YOUTUBE_OK, tags=over
    )
    # raw, these are 294 characters: quoted and with commas, 587
    spaced = [f"{chr(97 + i % 26)} {i % 10}" for i in range(98)]
    assert "YouTube tags are 587 characters" in problems(
        YOUTUBE, "d", [video()], **YOUTUBE_OK, tags=spaced
    )
    for bad in ("", " ", "a,b", "<b>"):
        assert "contain no <, > or comma" in problems(
            YOUTUBE, "d", [video()], **YOUTUBE_OK, tags=["fine", bad]
        )


@pytest.mark.parametrize("platform", list(Platform))
def test_every_platform_refuses_an_option_it_does_not_know(platform: Platform) -> None:
    v = verdict(platform, "t", [video()], **TIKTOK_OK, **YOUTUBE_OK, unknown_option=1)
    assert v.options == {}
    assert any(p.startswith("Option unknown_option:") for p in v.problems), v.problems


# first comment -------------------------------------------------------------------------------
FIRST_COMMENT_LIMITS = {FACEBOOK: 8_000, INSTAGRAM: 2_200, LINKEDIN: 1_250, YOUTUBE: 10_000}


@pytest.mark.parametrize("platform", list(FIRST_COMMENT_LIMITS))
def test_first_comment_up_to_the_platforms_limit(platform: Platform) -> None:
    limit = FIRST_COMMENT_LIMITS[platform]
    media = [image()] if platform is INSTAGRAM else [video()] if platform is YOUTUBE else []
    extra = YOUTUBE_OK if platform is YOUTUBE else {}
    fine = verdict(platform, "t", media, **extra, first_comment="é" * limit)
    assert fine.problems == [] and fine.options["first_comment"] == "é" * limit
    long = verdict(platform, "t", media, **extra, first_comment="é" * (limit + 1))
    assert any(p.startswith("Option first_comment:") for p in long.problems), long.problems
    for blank in ("", " \n "):
        empty = verdict(platform, "t", media, **extra, first_comment=blank)
        assert any(p.startswith("Option first_comment:") for p in empty.problems)
    assert "first_comment" not in verdict(platform, "t", media, **extra).options


@pytest.mark.parametrize("platform", [X, TIKTOK])
def test_platforms_without_a_comment_api_refuse_a_first_comment(platform: Platform) -> None:
    v = verdict(platform, "t", [video()], **TIKTOK_OK, first_comment="hi")
    assert any(p.startswith("Option first_comment:") for p in v.problems), v.problems


def test_instagram_stories_take_no_first_comment() -> None:
    assert "stories take no comments" in problems(
        INSTAGRAM, "", [image()], media_type="STORIES", first_comment="hi"
    )
    assert problems(INSTAGRAM, "", [image()], media_type="STORIES") == ""
