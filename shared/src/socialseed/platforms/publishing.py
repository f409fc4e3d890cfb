"""What the publish flows share: media read in chunks, progress values, and how a post we
sent is recognised among the account's recent posts when its outcome is unknown."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator, Mapping
from datetime import datetime, timedelta
from typing import Any

from socialseed.platforms.base import PlatformMedia
from socialseed.platforms.parsing import parse_time

#: Platforms print times to the second and their clocks and ours differ: a post is looked for
#: from a little before the attempt started.
CLOCK_SKEW = timedelta(seconds=60)
URL = re.compile(r"https?://\S+")
SPACE = re.compile(r"\s+")


async def chunks(
    media: PlatformMedia, size: int, start: int = 0, end: int | None = None
) -> AsyncIterator[bytes]:
    """The bytes ``start`` to ``end`` (exclusive; the whole file by default) of ``media``, read
    ``size`` bytes at a time: a file is never held whole in memory."""
    end = media.size if end is None else end
    offset = start
    while offset < end:
        data = await media.read(offset, min(size, end - offset))
        if not data:
            raise ValueError(f"media {media.id} ended at byte {offset} of {end}")
        yield data
        offset += len(data)


def comparable(text: str) -> str:
    """A post's text as platforms give it back: entities decoded (X answers ``&amp;``), links
    (X rewrites them to t.co) and runs of white space made equal, ends trimmed."""
    return SPACE.sub(" ", URL.sub("<link>", html.unescape(text))).strip()


def same_text(sent: str, found: Any) -> bool:
    return isinstance(found, str) and comparable(sent) == comparable(found)


def looked_for_since(since: datetime) -> datetime:
    return since - CLOCK_SKEW


def posted_since(value: Any, since: datetime) -> bool:
    """Whether a platform timestamp is at or after ``since`` (within the clock skew)."""
    moment = parse_time(value)
    return moment is not None and moment >= looked_for_since(since)


def ids_in(progress: Mapping[str, Any] | None, key: str) -> list[str]:
    """A list of platform ids a previous ``Pending`` stored (empty when there is none)."""
    value = (progress or {}).get(key)
    return [str(v) for v in value] if isinstance(value, list) else []


def id_in(progress: Mapping[str, Any] | None, key: str) -> str | None:
    value = (progress or {}).get(key)
    return str(value) if value else None
