"""What an uploaded file is, decided by its content and never by its name: images measured by
Pillow, videos probed by PyAV (FFmpeg) — container, codec, dimensions, duration.

Reading a file someone else made is the dangerous part. What may read it, and how, is in
``publisher.media.reader``; here it runs in a child process (``python -m
publisher.media.reader FILE``) under an address-space limit (``RLIMIT_AS``), a CPU-time limit
(``RLIMIT_CPU``) and a wall-clock timeout, so whatever a decoder does with a hostile file
happens outside the service's memory and event loop. A child that fails or is killed is a 415.
"""

from __future__ import annotations

import asyncio
import json
import logging
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from publisher.media.reader import Found
from socialseed.errors import AppError
from socialseed.platforms.base import MediaKind

log = logging.getLogger(__name__)
# Isolated mode: no PYTHON* variables, no user site-packages, no current folder on the path.
CHILD = (sys.executable, "-I", "-m", "publisher.media.reader")


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


@dataclass(frozen=True)
class ProbeLimits:
    """What the probing child may spend (``PublisherSettings.probe_*``)."""

    memory_bytes: int
    cpu_seconds: int
    timeout: float


class Prober:
    """Probes uploads, at most ``concurrency`` at once in this process: each child may use up
    to ``limits.memory_bytes``, so this bounds what uploads can make the host spend."""

    def __init__(self, limits: ProbeLimits, concurrency: int) -> None:
        self.limits = limits
        self.slots = asyncio.Semaphore(concurrency)

    async def __call__(self, path: Path) -> Probed:
        async with self.slots:
            return await asyncio.to_thread(probe, path, self.limits)


def probe(path: Path, limits: ProbeLimits) -> Probed:
    """Probe ``path`` in a bounded child process. Blocking (run it in a thread)."""
    try:
        done = subprocess.run(
            [*CHILD, str(limits.memory_bytes), str(limits.cpu_seconds), str(path)],
            capture_output=True,
            timeout=limits.timeout,
            # Nothing of the service's environment (its secrets), and no inherited descriptor
            # (close_fds: no database connection). One malloc arena: glibc reserves 64 MiB of
            # address space for each.
            env={"MALLOC_ARENA_MAX": "1"},
            check=False,
        )
    except subprocess.TimeoutExpired:  # run() has killed and reaped it
        log.info("media probe of %s timed out after %ss", path.name, limits.timeout)
        raise UnsupportedMediaType(
            f"This file could not be read within {limits.timeout:g} seconds."
        ) from None
    try:
        answer = json.loads(done.stdout)
    except ValueError:
        answer = None
    if done.returncode != 0 or not isinstance(answer, dict):
        # Out of memory, out of CPU time (SIGXCPU/SIGKILL), or a decoder crashed.
        log.info(
            "media probe of %s failed (exit %s): %s",
            path.name,
            done.returncode,
            done.stderr[-300:].decode(errors="replace").strip().splitlines()[-1:],
        )
        raise UnsupportedMediaType(
            "This file could not be read within the memory and time allowed for uploads."
        )
    if "refused" in answer:
        raise UnsupportedMediaType(answer["refused"] or None)
    found = Found(**answer["found"])
    return Probed(
        MediaKind(found.kind),
        found.mime_type,
        found.width,
        found.height,
        found.duration_s,
        found.codec,
    )
