"""Small process helpers shared by the local Postgres and Kafka runtimes.

Lifecycle model (the same for every service process started here):

* The service runs in its own session (``start_new_session=True``), so a Ctrl-C in the
  terminal reaches only the Python parent (``socialseed up`` or pytest). The parent then stops
  things in order: application services first, then Kafka, then Postgres.
* An :func:`atexit` hook stops every service still running when the interpreter exits normally
  (including after an unhandled ``KeyboardInterrupt``).
* A tiny :class:`Watchdog` sidecar covers abrupt parent death (SIGKILL, OOM kill, a plain
  SIGTERM, which skips ``atexit``): it blocks reading a pipe from the parent and, when the pipe
  hits EOF without having been disarmed, terminates the service. No ``prctl`` involved.
* A pid file in the data directory lets the next ``start()`` get rid of a leftover process
  should all of the above have failed.
"""

from __future__ import annotations

import asyncio
import atexit
import collections
import contextlib
import fcntl
import logging
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import weakref
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Protocol, Self, TypeVar

from socialseed.console import step

log = logging.getLogger("socialseed.devstack")

T = TypeVar("T")


class LocalServer:
    """Start/stop as a context manager, for the local infrastructure processes."""

    data_dir: Path
    port: int

    def start(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(data_dir={str(self.data_dir)!r}, port={self.port})"


class DevstackError(RuntimeError):
    """A local infrastructure process could not be provisioned, started or stopped."""


# --------------------------------------------------------------------------- misc


def is_root() -> bool:
    return os.geteuid() == 0


def cache_root() -> Path:
    """``$XDG_CACHE_HOME/socialseed`` (default ``~/.cache/socialseed``), shared by checkouts."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "socialseed"


def tail(path: Path | None, lines: int = 40) -> str:
    """The last ``lines`` lines of a log file, for error messages."""
    if path is None:
        return ""
    try:
        with path.open("rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - 64 * 1024))
            data = fh.read().decode("utf-8", "replace")
    except OSError:
        return ""
    return "\n".join(data.splitlines()[-lines:])


def port_open(host: str, port: int, timeout: float = 0.2) -> bool:
    """True when something accepts TCP connections on ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def free_port(host: str = "127.0.0.1") -> int:
    """An ephemeral port that is free right now (racy by nature, fine for local use)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """An exclusive advisory lock (``flock``), e.g. around a shared cache fill."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def run_sync(factory: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine to completion from synchronous code.

    Uses :func:`asyncio.run` directly, or in a helper thread when this thread already runs an
    event loop (e.g. a sync call made from inside an async pytest fixture).
    """

    async def runner() -> T:
        return await factory()

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(runner())
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="devstack") as pool:
        return pool.submit(asyncio.run, runner()).result()


# --------------------------------------------------------------------------- packages


def apt_install(*packages: str) -> bool:
    """``apt-get install -y`` as root, its progress shown (``socialseed.console``); False when
    that is not possible or fails."""
    if not is_root() or shutil.which("apt-get") is None:
        return False
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    # apt-get writes machine-readable progress lines to the Status-Fd (here its stdout).
    cmd = ["apt-get", "install", "-y", "--no-install-recommends", "-o", "APT::Status-Fd=1"]
    log.info("installing %s with apt-get", " ".join(packages))
    with step(f"installing {' '.join(packages)} (Debian packages, first run only)") as progress:
        for attempt in range(2):
            if attempt:  # a fresh machine may have empty package lists
                progress.update(note="apt-get update")
                subprocess.run(["apt-get", "update"], env=env, capture_output=True, check=False)
            proc = subprocess.Popen(
                [*cmd, *packages],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            assert proc.stdout is not None
            output: collections.deque[str] = collections.deque(maxlen=40)
            with proc:
                for line in proc.stdout:
                    if status := apt_status(line):
                        percent, what = status
                        progress.update(completed=round(percent), total=100, note=what)
                    else:
                        output.append(line)
            if proc.returncode == 0:
                return True
            log.debug("apt-get install failed: %s", "".join(output))
    return False


def apt_status(line: str) -> tuple[float, str] | None:
    """(percent, what) from an ``APT::Status-Fd`` line: ``dlstatus:<n>:<percent>:<text>``
    while downloading, ``pmstatus:<package>:<percent>:<text>`` while unpacking and setting up
    (each phase counts from 0 to 100); None for other lines."""
    kind, _, rest = line.partition(":")
    if kind not in ("dlstatus", "pmstatus"):
        return None
    _, _, rest = rest.partition(":")
    percent, _, text = rest.partition(":")
    try:
        value = float(percent)
    except ValueError:
        return None
    phase = "downloading" if kind == "dlstatus" else "installing"
    return value, f"{phase}: {text.strip()}"


# --------------------------------------------------------------------------- users


@dataclass(frozen=True)
class ServiceUser:
    """An unprivileged account to run a service as when we are root."""

    name: str
    uid: int
    gid: int
    home: str


def unprivileged_user(preferred: str = "postgres", fallback: str = "socialseed") -> ServiceUser:
    """The ``preferred`` account if it exists, else ``fallback``, created with ``useradd -r``."""
    for name in (preferred, fallback):
        try:
            pw = pwd.getpwnam(name)
        except KeyError:
            continue
        return ServiceUser(pw.pw_name, pw.pw_uid, pw.pw_gid, pw.pw_dir)
    if not is_root():
        raise DevstackError(f"no {preferred!r} or {fallback!r} user and not root to create one")
    nologin = shutil.which("nologin") or "/usr/sbin/nologin"
    res = subprocess.run(
        ["useradd", "--system", "--user-group", "--no-create-home", "--shell", nologin, fallback],
        capture_output=True,
        text=True,
        check=False,
    )
    if res.returncode not in (0, 9):  # 9: already exists (a concurrent creator won)
        raise DevstackError(f"useradd {fallback} failed: {res.stderr.strip()}")
    pw = pwd.getpwnam(fallback)
    return ServiceUser(pw.pw_name, pw.pw_uid, pw.pw_gid, pw.pw_dir)


def ensure_traversable(path: Path, user: ServiceUser) -> None:
    """Make sure ``user`` can reach ``path`` (search permission on every ancestor).

    Directories such as ``/root`` or pytest's ``/tmp/pytest-of-root`` are mode 0700. Where an
    ancestor blocks the user, the search-only bit for "other" (``o+x``) is added: it lets the
    user walk through by exact name but not list the directory.
    """
    for parent in reversed(path.resolve().parents):
        st = parent.stat()
        if st.st_uid == user.uid:
            ok = bool(st.st_mode & 0o100)
        elif st.st_gid == user.gid:
            ok = bool(st.st_mode & 0o010)
        else:
            ok = bool(st.st_mode & 0o001)
        if not ok:
            log.warning("adding o+x to %s so that user %s can reach %s", parent, user.name, path)
            os.chmod(parent, st.st_mode | 0o001)


# --------------------------------------------------------------------------- processes


def pid_alive(pid: int) -> bool:
    """True for a running (non-zombie) process."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def kill_stale(
    pid_file: Path, marker: str, sig: int = signal.SIGKILL, timeout: float = 10.0
) -> None:
    """Stop a leftover process recorded in ``pid_file`` if its command line contains ``marker``.

    ``marker`` (e.g. the data directory) guards against a recycled pid.
    """
    try:
        pid = int(pid_file.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return
    if pid <= 1 or not pid_alive(pid) or marker not in cmdline(pid):
        return
    log.warning("stopping leftover process %d (%s)", pid, marker)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)
    deadline = time.monotonic() + timeout
    while pid_alive(pid):
        if time.monotonic() > deadline:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            deadline = time.monotonic() + 5.0
        time.sleep(0.05)


def terminate(
    proc: subprocess.Popen[bytes],
    sig: int = signal.SIGTERM,
    timeout: float = 30.0,
    escalate: tuple[int, ...] = (signal.SIGKILL,),
) -> int:
    """Send ``sig``, wait up to ``timeout``, then each of ``escalate`` in turn; return the code."""
    for i, s in enumerate((sig, *escalate)):
        if proc.poll() is not None:
            break
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(s)
        try:
            proc.wait(timeout=timeout if i == 0 else 10.0)
        except subprocess.TimeoutExpired:
            log.warning("pid %d ignored signal %s, escalating", proc.pid, signal.Signals(s).name)
    return proc.wait()


_WATCHDOG = r"""
import os, signal, sys, time
signal.signal(signal.SIGINT, signal.SIG_IGN)
signal.signal(signal.SIGHUP, signal.SIG_IGN)
pid, sig, grace = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
if sys.stdin.buffer.read():  # the parent wrote "disarm": the service was stopped properly
    sys.exit(0)
def alive():
    try:
        os.kill(pid, 0)
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[-1].split()[0] != "Z"
    except ProcessLookupError:
        return False
    except OSError:
        return True
if alive():
    os.kill(pid, sig)
    deadline = time.monotonic() + grace
    while alive() and time.monotonic() < deadline:
        time.sleep(0.1)
    if alive():
        os.kill(pid, signal.SIGKILL)
"""


class Watchdog:
    """Kills ``pid`` if this Python process dies without calling :meth:`disarm` first.

    The sidecar inherits only the read end of a pipe. The write end, held here, is closed by the
    kernel whatever way we die; the sidecar then sees EOF and signals the service.
    """

    def __init__(self, pid: int, sig: int = signal.SIGTERM, grace: float = 15.0) -> None:
        self._proc: subprocess.Popen[bytes] | None = subprocess.Popen(
            [sys.executable, "-I", "-S", "-c", _WATCHDOG, str(pid), str(int(sig)), str(grace)],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            close_fds=True,
        )

    def disarm(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.stdin is None:
            return
        with contextlib.suppress(OSError):
            proc.stdin.write(b"disarm")
            proc.stdin.close()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# --------------------------------------------------------------------------- atexit


class Stoppable(Protocol):
    def stop(self) -> None: ...


_running: weakref.WeakValueDictionary[int, Stoppable] = weakref.WeakValueDictionary()
_running_lock = threading.Lock()
_order = 0


def register_running(obj: Stoppable) -> None:
    """Remember ``obj`` so that it is stopped at interpreter exit (newest first)."""
    global _order
    with _running_lock:
        _order += 1
        _running[_order] = obj


def unregister_running(obj: Stoppable) -> None:
    with _running_lock:
        for key, value in list(_running.items()):
            if value is obj:
                del _running[key]


@atexit.register
def _stop_all_at_exit() -> None:
    with _running_lock:
        items = sorted(_running.items(), reverse=True)
    for _, obj in items:
        try:
            obj.stop()
        except Exception:  # best effort while the interpreter goes down
            log.exception("stopping %r at exit failed", obj)


def open_log(path: Path) -> IO[bytes]:
    """Open ``path`` for appending (creating its directory); the caller closes it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.open("ab")
