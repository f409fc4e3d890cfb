"""What an uploaded file is, decided by its content and never by its name: images opened and
measured by Pillow, videos probed by PyAV (FFmpeg): container, codec, dimensions, duration."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av
from PIL import Image, UnidentifiedImageError

from socialseed.errors import AppError
from socialseed.platforms.base import MediaKind

IMAGE_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif", "WEBP": "image/webp"}
# FFmpeg's demuxer names for the containers platforms take.
VIDEO_TYPES = {"mp4": "video/mp4", "mov": "video/quicktime", "webm": "video/webm"}
VIDEO_CODECS = frozenset({"h264", "hevc", "vp8", "vp9", "av1", "mpeg4"})
# Decompression bombs: refuse images with more pixels than any platform takes.
Image.MAX_IMAGE_PIXELS = 100_000_000


class UnsupportedMediaType(AppError):
    status_code = 415
    default_detail = (
        "Not an image (JPEG, PNG, GIF, WebP) or a video (MP4, MOV, WebM) that platforms take."
    )


@dataclass(frozen=True)
class Probed:
    kind: MediaKind
    mime_type: str
    width: int
    height: int
    duration_s: float | None = None
    codec: str | None = None


def probe(path: Path) -> Probed:
    """Blocking (run it in a thread)."""
    image = _image(path)
    if image is not None:
        return image
    video = _video(path)
    if video is not None:
        return video
    raise UnsupportedMediaType()


def _image(path: Path) -> Probed | None:
    try:
        with Image.open(path) as img:
            img.verify()  # a truncated or corrupt file fails here
            fmt, (width, height) = img.format or "", img.size
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError):
        return None
    if fmt not in IMAGE_TYPES:
        raise UnsupportedMediaType(f"{fmt} images are not taken by the platforms.")
    return Probed(MediaKind.IMAGE, IMAGE_TYPES[fmt], width, height)


def _video(path: Path) -> Probed | None:
    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            formats = set(container.format.name.split(","))
            streams = container.streams.video
            if not streams:
                return None
            stream = streams[0]
            codec = stream.codec_context.name
            width, height = stream.codec_context.width, stream.codec_context.height
            duration = container.duration / 1_000_000 if container.duration else None
    except (av.FFmpegError, OSError, ValueError):
        return None
    mime = next((VIDEO_TYPES[f] for f in VIDEO_TYPES if f in formats), None)
    if mime == "video/mp4" and _quicktime_brand(path):
        mime = "video/quicktime"
    if mime is None or codec not in VIDEO_CODECS or not width or not height:
        raise UnsupportedMediaType(
            f"This video ({'/'.join(sorted(formats))}, {codec}) is not one platforms take; "
            "use MP4 with H.264."
        )
    return Probed(MediaKind.VIDEO, mime, width, height, duration, codec)


def _quicktime_brand(path: Path) -> bool:
    """MP4 and MOV share a demuxer; the ``ftyp`` box's major brand tells them apart."""
    with path.open("rb") as f:
        head = f.read(12)
    return head[4:8] == b"ftyp" and head[8:12] == b"qt  "
