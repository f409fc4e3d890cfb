"""X's weighted tweet length, as twitter-text v3 counts it (its "weighted length").

The documented rules (developer.x.com "Counting characters", twitter-text config v3): the text
is NFC-normalized; every URL counts 23 (``transformedURLLength``) whatever its length; code
points in the ranges below weigh 1, every other one 2 (CJK, most symbols); an emoji, even a
sequence joined by ZWJ or followed by a variation selector or skin tone, weighs 2 in all. The
limit is 280. twitter-text-parser (PyPI) implements the same rules but imports
``pkg_resources``, which current setuptools no longer ships, so the sandbox keeps this one
function. URLs here are ``http(s)://...`` and ``www....`` (twitter-text also finds bare
domains such as ``example.com``, which this count treats as text).
"""

from __future__ import annotations

import re
import unicodedata

MAX_WEIGHTED_LENGTH = 280
URL_LENGTH = 23
# twitter-text v3 ranges of weight 1 (weight 2 elsewhere): Latin through Cyrillic, Hebrew,
# Arabic, Devanagari...; general punctuation spaces; dashes and quotes; primes.
LIGHT_RANGES = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))
URL = re.compile(r"(?:https?://|www\.)[^\s]+", re.IGNORECASE)
ZWJ = "\u200d"
# Code points that only modify the emoji before them: variation selectors, skin tones, tags.
MODIFIERS = re.compile(r"[\ufe0e\ufe0f\U0001f3fb-\U0001f3ff\U000e0020-\U000e007f]")


def char_weight(char: str) -> int:
    code = ord(char)
    return 1 if any(low <= code <= high for low, high in LIGHT_RANGES) else 2


def is_emoji(char: str) -> bool:
    code = ord(char)
    return 0x1F000 <= code <= 0x1FAFF or 0x2600 <= code <= 0x27BF or 0x2300 <= code <= 0x23FF


def text_weight(text: str) -> int:
    weight, after_emoji, joined = 0, False, False
    for char in text:
        if after_emoji and MODIFIERS.fullmatch(char):
            continue
        if after_emoji and char == ZWJ:
            joined = True
            continue
        if joined and is_emoji(char):  # the next emoji of a ZWJ sequence adds nothing
            joined = False
            continue
        joined = False
        after_emoji = is_emoji(char)
        weight += 2 if after_emoji else char_weight(char)
    return weight


def weighted_length(text: str) -> int:
    """The length X compares with 280."""
    text = unicodedata.normalize("NFC", text)
    urls = URL.findall(text)
    return len(urls) * URL_LENGTH + text_weight(URL.sub("", text))
