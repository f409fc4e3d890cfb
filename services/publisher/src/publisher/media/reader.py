"""What a file is, read from its content: the code the probing child process runs.

It imports only Pillow, PyAV and the standard library, so the child starts in a fraction of a
second (``publisher.media.probe`` holds the parent's side: the limits, the process, the error).

- Images are read by Pillow only, and only in the four formats platforms take. The pixel count
  comes from the header (``Image.open`` decodes nothing) and is compared with ``MAX_PIXELS``
  before anything else; a file Pillow recognises but finds corrupt is refused, never handed
  on to FFmpeg (whose image demuxers decode a whole frame just to describe the stream).
- FFmpeg sees only what Pillow did not recognise, and may use only the demuxers of the
  containers we take (``format_whitelist``: a PNG, an HLS or ffconcat playlist is refused
  before its header is read), only the file itself (``protocol_whitelist``), only the decoders
  of the codecs we take and of their usual audio (``codec_whitelist``), and no frame over
  ``MAX_PIXELS`` (``max_pixels``, checked by every decoder before it allocates a frame).
"""

from __future__ import annotations

import json
import resource
import sys
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

import av
from PIL import Image, UnidentifiedImageError

IMAGE_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif", "WEBP": "image/webp"}
# The most pixels (width x height) any of our six platforms takes in one image: LinkedIn's
# Images API takes images of fewer than 36,152,320 pixels (its documented pixel-count limit);
# the others document smaller images or scale them down (Instagram to 1440 wide, TikTok photos
# to 1080p), and YouTube takes no images but thumbnails. The largest video frame any of them
# takes (YouTube's 8K, 7680 x 4320 = 33,177,600) is under it too: one cap for both.
MAX_PIXELS = 36_152_320
# FFmpeg's demuxer names for the containers platforms take (MP4 and MOV share ``mov``, WebM
# is read by ``matroska``): nothing else may read an upload.
VIDEO_TYPES = {"mp4": "video/mp4", "mov": "video/quicktime", "webm": "video/webm"}
DEMUXERS = "mov,mp4,m4a,3gp,3g2,mj2,matroska,webm"
VIDEO_CODECS = frozenset({"h264", "hevc", "vp8", "vp9", "av1", "mpeg4"})
# Decoders FFmpeg may open while it measures the streams: those of the video codecs above and
# of the audio that comes with them. Others are not opened (their streams stay undescribed).
DECODERS = (
    "h264,hevc,vp8,vp9,av1,libdav1d,mpeg4,"
    "aac,aac_fixed,mp3,mp3float,opus,libopus,vorbis,libvorbis,ac3,eac3,flac,alac"
)
FFMPEG_CONTAINER_OPTIONS = {
    "format_whitelist": DEMUXERS,
    "protocol_whitelist": "file",
    "codec_whitelist": DECODERS,
}
# Given to the container and to every decoder opened while probing.
FFMPEG_OPTIONS = {"max_pixels": str(MAX_PIXELS)}


class Refused(Exception):
    """Not a file platforms take; the message says why, or is empty for "not media"."""


@dataclass(frozen=True)
class Found:
    kind: str  # "image" or "video"
    mime_type: str
    width: int
    height: int
    duration_s: float | None = None
    codec: str | None = None


def read(path: Path) -> Found:
    """Decide what ``path`` is, in this process and without bounds: the probing child runs
    this under limits; tests call it directly."""
    image = _image(path)
    if image is not None:
        return image
    video = _video(path)
    if video is not None:
        return video
    raise Refused("")


def _too_many_pixels(width: int, height: int) -> Refused:
    return Refused(
        f"This file is {width} x {height} pixels; platforms take fewer than {MAX_PIXELS:,}."
    )


def _image(path: Path) -> Found | None:
    try:
        with warnings.catch_warnings():
            # Pillow's own bomb check warns past its default; ours below is stricter.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            img = Image.open(path, formats=list(IMAGE_TYPES))  # reads the header only
    except Image.DecompressionBombError:
        raise Refused(f"This image has far more than {MAX_PIXELS:,} pixels.") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        return None  # not one of the four image formats: perhaps a video
    with img:
        fmt, (width, height) = img.format or "", img.size
        if width * height >= MAX_PIXELS:
            raise _too_many_pixels(width, height)
        try:
            img.verify()  # a truncated or corrupt file fails here
        except Exception:  # Pillow's plugins raise many kinds for a broken file
            raise Refused(f"This {fmt} image is truncated or corrupt.") from None
    return Found("image", IMAGE_TYPES[fmt], width, height)


def _video(path: Path) -> Found | None:
    try:
        with av.open(
            str(path),
            metadata_errors="ignore",
            options=FFMPEG_OPTIONS,
            container_options=FFMPEG_CONTAINER_OPTIONS,
        ) as container:
            formats = set(container.format.name.split(","))
            streams = container.streams.video
            if not streams:
                return None
            context = streams[0].codec_context  # None when FFmpeg has no decoder for the codec
            codec = context.name if context is not None else None
            width, height = (context.width, context.height) if context is not None else (0, 0)
            duration = container.duration / 1_000_000 if container.duration else None
    except (av.FFmpegError, OSError, ValueError):
        return None
    mime = next((VIDEO_TYPES[f] for f in VIDEO_TYPES if f in formats), None)
    if mime == "video/mp4" and _quicktime_brand(path):
        mime = "video/quicktime"
    if mime is None or codec not in VIDEO_CODECS or not width or not height:
        raise Refused(
            f"This video ({'/'.join(sorted(formats))}, {codec or 'a codec FFmpeg does not know'})"
            " is not one platforms take; use MP4 with H.264."
        )
    if width * height >= MAX_PIXELS:
        raise _too_many_pixels(width, height)
    return Found("video", mime, width, height, duration, codec)


def _quicktime_brand(path: Path) -> bool:
    """MP4 and MOV share a demuxer; the ``ftyp`` box's major brand tells them apart."""
    with path.open("rb") as f:
        head = f.read(12)
    return head[4:8] == b"ftyp" and head[8:12] == b"qt  "


def main() -> None:
    """The child (``python -m publisher.media.reader MEMORY_BYTES CPU_SECONDS FILE``): limit
    itself, read the file, print one JSON answer."""
    memory, cpu, path = int(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3])
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))  # SIGXCPU, then SIGKILL
    try:
        answer: dict[str, object] = {"found": asdict(read(path))}
    except Refused as exc:
        answer = {"refused": str(exc)}
    sys.stdout.write(json.dumps(answer))


if __name__ == "__main__":
    main()
