"""A throwaway local PostgreSQL cluster run as a plain child process (no Docker, no systemd).

Postgres is started directly (``postgres -D ...``), not through ``pg_ctl``: we keep the
``Popen`` handle, so a crash during startup is seen at once, stop is a plain SIGINT (Postgres'
"fast" shutdown: roll back open transactions, checkpoint, exit) followed by ``wait()``, and the
watchdog/atexit machinery of :mod:`socialseed.devstack.procs` applies. ``pg_ctl`` would
daemonise the server and leave us polling pid files instead.

Postgres refuses to run as root. When we are root, ``initdb`` and ``postgres`` run as the
Debian ``postgres`` account (or a ``socialseed`` system account created on demand), the data
directory is owned by it, and privileges are dropped in the child by ``subprocess.Popen``.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import IO, Any

from socialseed.devstack.procs import (
    DevstackError,
    LocalServer,
    ServiceUser,
    Watchdog,
    apt_install,
    ensure_traversable,
    is_root,
    kill_stale,
    log,
    open_log,
    register_running,
    tail,
    terminate,
    unprivileged_user,
    unregister_running,
)

SUPERUSER = "postgres"
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
_SOCKET_PATH_MAX = 100  # sun_path is 108 bytes on Linux; keep a margin


def _version_key(path: Path) -> tuple[int, ...]:
    digits = re.findall(r"\d+", path.parent.name)
    return tuple(int(d) for d in digits) or (0,)


def find_pg_bindir() -> Path | None:
    """The directory holding ``initdb``/``postgres``/``psql``, newest major first.

    Order: ``$SOCIALSEED_PG_BIN``, ``/usr/lib/postgresql/*/bin`` (Debian/Ubuntu), ``PATH``.
    """
    candidates: list[Path] = []
    if env := os.environ.get("SOCIALSEED_PG_BIN"):
        candidates.append(Path(env))
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=_version_key, reverse=True)
    if found := shutil.which("initdb"):
        candidates.append(Path(found).resolve().parent)
    for bindir in candidates:
        if all((bindir / exe).is_file() for exe in ("initdb", "postgres", "psql")):
            return bindir
    return None


def ensure_pg_bindir() -> Path:
    """Like :func:`find_pg_bindir`, installing Debian's ``postgresql`` when root and missing."""
    bindir = find_pg_bindir()
    if bindir is None and apt_install("postgresql"):
        bindir = find_pg_bindir()
    if bindir is None:
        raise DevstackError(
            "PostgreSQL server binaries (initdb, postgres) not found in /usr/lib/postgresql/*/bin "
            "or PATH; install them (Debian: apt-get install postgresql) or set SOCIALSEED_PG_BIN"
        )
    return bindir


class LocalPostgres(LocalServer):
    """A single local Postgres cluster in ``data_dir``, listening on ``127.0.0.1:port``.

    ``fast=True`` turns off durability (fsync, synchronous_commit, full_page_writes): fine for
    a test cluster that is thrown away, never for ``socialseed up`` data you want to keep.
    """

    def __init__(
        self,
        data_dir: Path,
        port: int = 54320,
        log_file: Path | None = None,
        *,
        fast: bool = False,
        host: str = "127.0.0.1",
        max_connections: int = 300,
        start_timeout: float = 60.0,
    ) -> None:
        self.data_dir = Path(data_dir).absolute()
        self.port = port
        self.host = host
        self.fast = fast
        self.max_connections = max_connections
        self.start_timeout = start_timeout
        self.log_file = (
            Path(log_file).absolute()
            if log_file
            else self.data_dir.parent / (f"{self.data_dir.name}.log")
        )
        self._proc: subprocess.Popen[bytes] | None = None
        self._watchdog: Watchdog | None = None
        self._log_fh: IO[bytes] | None = None
        self._bindir: Path | None = None
        self._user: ServiceUser | None = None

    # ------------------------------------------------------------------ public API

    @property
    def admin_url(self) -> str:
        """Superuser URL (sync/libpq form); callers convert to ``postgresql+asyncpg://``."""
        return self.url()

    def url(self, database: str = "postgres", user: str = SUPERUSER, password: str = "") -> str:
        auth = f"{user}:{password}" if password else user
        return f"postgresql://{auth}@{self.host}:{self.port}/{database}"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> None:
        """Find (or install) binaries, ``initdb`` if needed, start and wait until ready."""
        if self.running:
            return
        t0 = time.monotonic()
        self._bindir = ensure_pg_bindir()
        self._prepare_data_dir()
        self._log_fh = open_log(self.log_file)
        cmd = [str(self._bindir / "postgres"), "-D", str(self.data_dir)]
        for key, value in self._settings().items():
            cmd += ["-c", f"{key}={value}"]
        self._proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=self._log_fh,
            stderr=subprocess.STDOUT,
            cwd=self.data_dir,
            env=self._child_env(),
            start_new_session=True,  # Ctrl-C goes to the parent, which stops us in order
            **self._privileges(),
        )
        # On abrupt parent death: fast shutdown, then SIGKILL after 15 s.
        self._watchdog = Watchdog(self._proc.pid, signal.SIGINT, grace=15.0)
        register_running(self)
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        log.info(
            "postgres ready on %s:%d in %.2fs (data %s)",
            self.host,
            self.port,
            time.monotonic() - t0,
            self.data_dir,
        )

    def stop(self, timeout: float = 30.0) -> None:
        """Fast shutdown (SIGINT), then immediate (SIGQUIT), then SIGKILL. Idempotent."""
        proc, self._proc = self._proc, None
        if proc is not None:
            code = terminate(proc, signal.SIGINT, timeout, (signal.SIGQUIT, signal.SIGKILL))
            log.info("postgres on port %d stopped (exit %d)", self.port, code)
        if self._watchdog is not None:
            self._watchdog.disarm()
            self._watchdog = None
        if self._log_fh is not None:
            self._log_fh.close()
            self._log_fh = None
        unregister_running(self)

    def execute(self, sql: str, database: str = "postgres") -> str:
        """Run SQL through ``psql`` as the superuser; returns unaligned, tuples-only output."""
        bindir = self._bindir or ensure_pg_bindir()
        res = subprocess.run(
            [
                str(bindir / "psql"),
                "-X",
                "-q",
                "-tA",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                self.host,
                "-p",
                str(self.port),
                "-U",
                SUPERUSER,
                "-d",
                database,
                "-c",
                sql,
            ],
            capture_output=True,
            text=True,
            env={**self._child_env(), "PGCONNECT_TIMEOUT": "10"},
            check=False,
        )
        if res.returncode != 0:
            raise DevstackError(f"psql failed ({res.returncode}): {res.stderr.strip()}")
        return res.stdout.strip()

    def ensure_database(self, name: str, owner: str | None = None) -> None:
        """``CREATE DATABASE name`` unless it exists (names: plain identifiers only)."""
        for ident in (name, owner):
            if ident is not None and not _IDENT.match(ident):
                raise ValueError(f"not a plain SQL identifier: {ident!r}")
        # Safe: both names matched _IDENT above (psql -c cannot bind parameters).
        exists = f"SELECT 1 FROM pg_database WHERE datname = '{name}'"  # noqa: S608
        if self.execute(exists) == "1":
            return
        create = f'CREATE DATABASE "{name}"' + (f' OWNER "{owner}"' if owner else "")
        try:
            self.execute(create)
        except DevstackError as exc:
            if "already exists" not in str(exc):  # lost a race with another creator
                raise

    # ------------------------------------------------------------------ internals

    def _settings(self) -> dict[str, str]:
        sock_path = self.data_dir / f".s.PGSQL.{self.port}"
        settings = {
            "listen_addresses": self.host,
            "port": str(self.port),
            # Sockets live in the data dir, not /var/run/postgresql; a too long path (sun_path
            # limit) disables the unix socket: all clients here use TCP anyway.
            "unix_socket_directories": (
                str(self.data_dir) if len(str(sock_path)) <= _SOCKET_PATH_MAX else ""
            ),
            "max_connections": str(self.max_connections),
            "log_line_prefix": "%m [%p] %q%u@%d ",
            "log_timezone": "UTC",
            "timezone": "UTC",
        }
        if self.fast:
            settings |= {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}
        return settings

    def _privileges(self) -> dict[str, Any]:
        if self._user is None:
            return {}
        return {"user": self._user.uid, "group": self._user.gid, "extra_groups": []}

    def _child_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env["LC_ALL"] = "C"
        if self._user is not None:
            env["HOME"] = str(self.data_dir)
            env["USER"] = env["LOGNAME"] = self._user.name
        return env

    def _prepare_data_dir(self) -> None:
        assert self._bindir is not None
        self.data_dir.mkdir(parents=True, exist_ok=True)
        kill_stale(self.data_dir / "postmaster.pid", str(self.data_dir), signal.SIGINT, 15.0)
        if is_root():
            self._user = unprivileged_user("postgres", "socialseed")
            ensure_traversable(self.data_dir, self._user)
            if self.data_dir.stat().st_uid != self._user.uid:
                for path in [self.data_dir, *self.data_dir.rglob("*")]:
                    os.lchown(path, self._user.uid, self._user.gid)
        os.chmod(self.data_dir, 0o700)

        version_file = self.data_dir / "PG_VERSION"
        binary_major = self._bindir.parent.name if self._bindir.parent.name.isdigit() else None
        if version_file.exists():
            data_major = version_file.read_text().strip()
            if binary_major and data_major != binary_major:
                raise DevstackError(
                    f"{self.data_dir} holds a PostgreSQL {data_major} cluster but the binaries "
                    f"in {self._bindir} are {binary_major}; delete the directory to start afresh"
                )
            return
        if any(self.data_dir.iterdir()):
            raise DevstackError(f"{self.data_dir} is neither empty nor a PostgreSQL data dir")
        res = subprocess.run(
            [
                str(self._bindir / "initdb"),
                "-D",
                str(self.data_dir),
                "-U",
                SUPERUSER,
                # trust on loopback (and the socket inside the 0700 data dir): acceptable for
                # this local dev/test cluster only. Services still get their own roles with
                # passwords, created by their migrations.
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
            ],
            capture_output=True,
            text=True,
            cwd=self.data_dir,
            env=self._child_env(),
            check=False,
            **self._privileges(),
        )
        if res.returncode != 0:
            raise DevstackError(f"initdb failed: {res.stdout[-2000:]}{res.stderr[-2000:]}")

    def _wait_ready(self) -> None:
        """Wait until the postmaster reports "ready" in postmaster.pid (what pg_ctl -w does)."""
        assert self._proc is not None
        pid_file = self.data_dir / "postmaster.pid"
        deadline = time.monotonic() + self.start_timeout
        while True:
            code = self._proc.poll()
            if code is not None:
                raise DevstackError(
                    f"postgres exited with code {code} during startup; log {self.log_file}:\n"
                    + tail(self.log_file)
                )
            try:
                lines = pid_file.read_text().splitlines()
            except OSError:
                lines = []
            pid_ok = len(lines) >= 8 and lines[0].strip() == str(self._proc.pid)
            if pid_ok and lines[7].strip() == "ready":
                return
            if time.monotonic() > deadline:
                raise DevstackError(
                    f"postgres not ready after {self.start_timeout:.0f}s; log {self.log_file}:\n"
                    + tail(self.log_file)
                )
            time.sleep(0.02)
