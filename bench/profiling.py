"""py-spy sampling of a service while a benchmark loads it, and where the samples went.

    profiler = Profiler(pid, out=Path("auth.raw"))
    ...  # load the service
    summarize_profile(profiler.stop(), ours=("auth/", "socialseed/"))

The summary has three views of the same samples: by package (the time in SQLAlchemy, asyncpg,
Starlette, ... wherever it was called from), our own functions inclusive (on the stack), and
the functions at the top of the stack (self time).

``CpuMeter`` gives each process group's CPU seconds over a load (``process_groups``: each
service, PostgreSQL, Kafka, the bench itself): what an answer or a target costs the machine.
"""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import psutil

from socialseed.cli import Supervisor


class Profiler:
    """py-spy sampling one process (and its workers) until stopped; raw collapsed stacks."""

    def __init__(self, pid: int, out: Path, rate: int = 100) -> None:
        self.out = out
        self.rate = rate
        py_spy = Path(sys.executable).with_name("py-spy")
        self.proc = subprocess.Popen(
            [str(py_spy), "record", "--pid", str(pid), "--subprocesses", "--nonblocking",
             "--rate", str(rate), "--format", "raw", "--nolineno", "--output", str(out)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )  # fmt: skip

    def stop(self) -> Path | None:
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        return self.out if self.out.exists() else None


#: Package of a frame's file, for the by-package view (first match wins).
PACKAGES = (
    "sqlalchemy",
    "asyncpg",
    "aiohttp",
    "httpx",
    "httpcore",
    "fastapi",
    "starlette",
    "uvicorn",
    "httptools",
    "pydantic",
    "jwt",
    "cryptography",
    "prometheus_client",
    "opentelemetry",
    "aiokafka",
    "faststream",
    "cachetools",
    "limits",
    "anyio",
    "asyncio",
    "json",
    "logging",
)


def summarize_profile(
    path: Path | None, *, ours: Sequence[str] = ("socialseed/",), top: int = 22, rate: int = 100
) -> None:
    if path is None:
        print("  (no profile written)")
        return
    inclusive: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    packages: collections.Counter[str] = collections.Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = [_short(f) for f in stack.split(";")]
        for frame in set(frames):
            inclusive[frame] += n
        own[frames[-1]] += n
        packages[_package(frames, ours)] += n
    if not total:
        print("  (no samples)")
        return
    print(f"  {total} samples (busy threads only, {rate} Hz)")
    print("  by package (self time of the frames in it):")
    for package, n in packages.most_common(top):
        print(f"    {100 * n / total:5.1f}%  {package}")
    print(f"  inclusive, our code ({', '.join(ours)}; the server's entry points left out):")
    shown = [(f, n) for f, n in inclusive.most_common() if _ours(f, ours)][:top]
    for frame, n in shown:
        print(f"    {100 * n / total:5.1f}%  {frame}")
    print("  self:")
    for frame, n in own.most_common(top):
        print(f"    {100 * n / total:5.1f}%  {frame}")


def _package(frames: list[str], ours: Sequence[str]) -> str:
    """Where the sample's top frame lives: a known package, our code, or the rest."""
    where = frames[-1].rpartition(" (")[2]
    if _ours(frames[-1], ours):
        return "our code"
    for package in PACKAGES:
        if where.startswith((f"{package}/", f"{package}.")):
            return package
    return where.split("/", 1)[0] or "other"


def _ours(frame: str, ours: Sequence[str]) -> bool:
    return any(f"({prefix}" in frame for prefix in ours) and "socialseed/run.py" not in frame


def _short(frame: str) -> str:
    """``fn (path/to/site-packages/pkg/mod.py)`` -> ``fn (pkg/mod.py)``."""
    name, _, where = frame.partition(" (")
    where = where.rstrip(")")
    for marker in ("site-packages/", "/src/", "lib/python3.11/"):
        if marker in where:
            where = where.rsplit(marker, 1)[1]
            break
    return f"{name} ({where})"


class CpuMeter:
    """User + system seconds of each process group, from one mark to the next."""

    def __init__(self, groups: dict[str, list[int]]) -> None:
        self.groups = groups
        self.start: dict[str, float] = {}

    def _seconds(self, roots: list[int]) -> float:
        total = 0.0
        for pid in roots:
            try:
                root = psutil.Process(pid)
                # This client started the services: its children are theirs, not its own.
                own = pid == os.getpid()
                family = [] if own else root.children(recursive=True)
                for proc in (root, *family):
                    times = proc.cpu_times()
                    total += times.user + times.system
                if not own:
                    # children that ended and were reaped (PostgreSQL's backends of closed
                    # connections): their time is their parent's now
                    total += reaped_children_seconds(root)
            except psutil.NoSuchProcess:
                continue
        return total

    def mark(self) -> None:
        self.start = {name: self._seconds(pids) for name, pids in self.groups.items()}

    def since_mark(self) -> dict[str, float]:
        return {n: self._seconds(p) - self.start[n] for n, p in self.groups.items()}


def reaped_children_seconds(proc: psutil.Process | None = None) -> float:
    """CPU seconds of ``proc``'s children (this process by default) that ended and were
    waited for: a bench's finished ``wrk`` runs, PostgreSQL's closed backends."""
    times = (proc or psutil.Process()).cpu_times()
    return times.children_user + times.children_system


def process_groups(supervisor: Supervisor) -> dict[str, list[int]]:
    """The stack's processes by name (each service with its workers, PostgreSQL, Kafka) and
    this process (``bench client``)."""
    groups = {r.spec.name: [r.proc.pid] for r in supervisor.running}
    groups |= {"postgres": [], "kafka": []}
    for proc in psutil.process_iter(["pid", "cmdline"]):
        cmdline = " ".join(proc.info["cmdline"] or [])
        if str(supervisor.data) not in cmdline:
            continue
        if "postgres" in cmdline and "-D" in cmdline:
            groups["postgres"].append(proc.info["pid"])
        elif "java" in cmdline and "kafka" in cmdline:
            groups["kafka"].append(proc.info["pid"])
    groups["bench client"] = [os.getpid()]
    return groups
