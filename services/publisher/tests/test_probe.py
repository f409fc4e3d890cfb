"""The media probe against hostile files: FFmpeg never follows a playlist to another file, and
the child process that reads uploads is held to its memory and time limits."""

from __future__ import annotations

import io
import os
import threading
from pathlib import Path

import pytest
from PIL import Image

from publisher.media.probe import ProbeLimits, UnsupportedMediaType, probe
from publisher.settings import PublisherSettings

DEFAULTS = PublisherSettings.model_fields
LIMITS = ProbeLimits(
    memory_bytes=DEFAULTS["probe_memory_bytes"].default,
    cpu_seconds=DEFAULTS["probe_cpu_seconds"].default,
    timeout=DEFAULTS["probe_timeout"].default,
)

# Lists FFmpeg has demuxers for that name other files: each would open ``seg.ts`` beside it
# (HLS only when the playlist's name ends in .m3u8; ffconcat takes names in its own folder).
PLAYLISTS = {
    "list.m3u8": "#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\n{seg}\n#EXT-X-ENDLIST\n",
    "list.ffconcat": "ffconcat version 1.0\nfile seg.ts\n",
}


@pytest.mark.parametrize("name", PLAYLISTS)
def test_a_playlist_never_makes_ffmpeg_open_another_file(tmp_path: Path, name: str) -> None:
    """The file the playlist names is a FIFO: opening it for reading blocks until a writer
    comes, so a thread waiting to write learns whether anyone opened it, and when."""
    segment = tmp_path / "seg.ts"
    os.mkfifo(segment)
    playlist = tmp_path / name
    playlist.write_text(PLAYLISTS[name].format(seg=segment))
    opened = threading.Event()

    def writer() -> None:
        with segment.open("wb"):  # returns once a reader has opened the FIFO
            opened.set()
        # closing it gives the reader an end of file, so a probe that opened it ends too

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    with pytest.raises(UnsupportedMediaType):
        probe(playlist, LIMITS)
    # Had FFmpeg opened the segment, the writer would have set ``opened`` before closing it,
    # which is what let the probe end: nothing else has opened the FIFO yet.
    assert not opened.is_set(), "FFmpeg opened the file the playlist names"
    release = os.open(segment, os.O_RDONLY | os.O_NONBLOCK)  # let the writer go
    thread.join(10)
    os.close(release)


def jpeg() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 20, 30)).save(buf, "JPEG")
    return buf.getvalue()


def test_the_probe_is_held_to_its_memory_limit(tmp_path: Path) -> None:
    photo = tmp_path / "photo"
    photo.write_bytes(jpeg())
    assert (probe(photo, LIMITS).width, probe(photo, LIMITS).height) == (64, 48)
    # Under the address space Pillow and PyAV need to load, the child cannot even start: the
    # limit is really applied, and running out of it is a named 415, not a 500.
    starved = ProbeLimits(memory_bytes=32 * 1024 * 1024, cpu_seconds=10, timeout=30)
    with pytest.raises(UnsupportedMediaType, match="memory and time"):
        probe(photo, starved)


def test_a_probe_that_blocks_is_killed_at_its_timeout(tmp_path: Path) -> None:
    """A FIFO with no writer: opening it blocks the child for good; the timeout ends it."""
    stuck = tmp_path / "stuck"
    os.mkfifo(stuck)
    hurried = ProbeLimits(memory_bytes=LIMITS.memory_bytes, cpu_seconds=10, timeout=1.0)
    with pytest.raises(UnsupportedMediaType, match="within 1 seconds"):
        probe(stuck, hurried)
