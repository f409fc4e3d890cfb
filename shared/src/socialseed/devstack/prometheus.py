"""A local Prometheus run as a plain child process, scraping the local stack.

The binaries are Debian's ``prometheus`` package (``prometheus`` and ``promtool``), installed on
first use like PostgreSQL. The configuration is the one committed in ``deploy/prometheus/``
(``prometheus.yml`` and its alert rules), with only what differs on this machine rewritten:
each job's target, the scrape interval and the file holding the metrics token (see
:func:`local_config`). ``socialseed up`` and the tests run it through :class:`LocalPrometheus`.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

import httpx
import yaml

from socialseed.devstack.procs import (
    DevstackError,
    LocalServer,
    Watchdog,
    apt_install,
    kill_stale,
    log,
    open_log,
    register_running,
    tail,
    terminate,
    unregister_running,
)

# deploy/prometheus in the checkout this package runs from (shared/src/socialseed/devstack).
DEPLOY_DIR = Path(__file__).resolve().parents[4] / "deploy" / "prometheus"
# A service's Prometheus job: its name in ``socialseed.stack.SERVICES``, except analytics.
JOB_NAMES = {"analytics": "analytics-sync"}


def job_name(service: str) -> str:
    return JOB_NAMES.get(service, service)


def _find(name: str) -> Path | None:
    if env := os.environ.get("SOCIALSEED_PROMETHEUS_BIN"):
        candidate = Path(env) / name
        if candidate.is_file():
            return candidate
    found = shutil.which(name)
    return Path(found) if found else None


def ensure_prometheus() -> tuple[Path, Path]:
    """The paths of ``prometheus`` and ``promtool``, installing Debian's ``prometheus`` when
    root and missing. Looked up in ``$SOCIALSEED_PROMETHEUS_BIN``, then ``PATH``."""
    prometheus, promtool = _find("prometheus"), _find("promtool")
    if (prometheus is None or promtool is None) and apt_install("prometheus"):
        prometheus, promtool = _find("prometheus"), _find("promtool")
    if prometheus is None or promtool is None:
        raise DevstackError(
            "prometheus and promtool not found in PATH; install them (Debian: apt-get install "
            "prometheus) or set SOCIALSEED_PROMETHEUS_BIN to the directory holding both"
        )
    return prometheus, promtool


def local_config(
    targets: Mapping[str, str],
    *,
    token_file: Path,
    scrape_interval: str | None = None,
    deploy_dir: Path = DEPLOY_DIR,
) -> dict[str, Any]:
    """``deploy_dir/prometheus.yml`` for this machine: each job's targets replaced by
    ``targets[job]`` (``host:port``), the metrics token read from ``token_file``, rule files
    by absolute path, and the scrape and evaluation intervals set to ``scrape_interval`` if
    given. Every job of the committed file must be in ``targets`` and the other way round."""
    config: dict[str, Any] = yaml.safe_load((deploy_dir / "prometheus.yml").read_text())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    if set(jobs) != set(targets):
        raise DevstackError(f"targets for {sorted(targets)}, but the jobs are {sorted(jobs)}")
    for name, job in jobs.items():
        job["static_configs"] = [{"targets": [targets[name]]}]
        job["authorization"] = {"type": "Bearer", "credentials_file": str(token_file)}
    config["rule_files"] = [str(deploy_dir / pattern) for pattern in config.get("rule_files", [])]
    if scrape_interval:
        config["global"]["scrape_interval"] = scrape_interval
        config["global"]["evaluation_interval"] = scrape_interval
        config["global"]["scrape_timeout"] = scrape_interval
    return config


class LocalPrometheus(LocalServer):
    """Prometheus on ``127.0.0.1:port`` with its data in ``data_dir`` and the configuration
    ``config`` (see :func:`local_config`), written beside the data as ``prometheus.yml``."""

    def __init__(
        self,
        data_dir: Path,
        config: Mapping[str, Any],
        port: int = 9090,
        log_file: Path | None = None,
        *,
        host: str = "127.0.0.1",
        retention: str = "15d",
        start_timeout: float = 60.0,
    ) -> None:
        self.data_dir = Path(data_dir).absolute()
        self.config = config
        self.port = port
        self.host = host
        self.retention = retention
        self.start_timeout = start_timeout
        self.log_file = Path(log_file).absolute() if log_file else self.data_dir / "prometheus.log"
        self.config_file = self.data_dir / "prometheus.yml"
        self._proc: subprocess.Popen[bytes] | None = None
        self._watchdog: Watchdog | None = None
        self._log_fh: IO[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> None:
        if self.running:
            return
        t0 = time.monotonic()
        prometheus, _ = ensure_prometheus()
        tsdb = self.data_dir / "data"
        tsdb.mkdir(parents=True, exist_ok=True)
        pid_file = self.data_dir / "prometheus.pid"
        kill_stale(pid_file, str(self.config_file), signal.SIGTERM, 15.0)
        self.config_file.write_text(yaml.safe_dump(dict(self.config), sort_keys=False))
        self._log_fh = open_log(self.log_file)
        self._proc = subprocess.Popen(
            [
                str(prometheus),
                f"--config.file={self.config_file}",
                f"--storage.tsdb.path={tsdb}",
                f"--storage.tsdb.retention.time={self.retention}",
                f"--web.listen-address={self.host}:{self.port}",
            ],
            stdin=subprocess.DEVNULL,
            stdout=self._log_fh,
            stderr=subprocess.STDOUT,
            cwd=self.data_dir,
            start_new_session=True,
        )
        pid_file.write_text(f"{self._proc.pid}\n")
        self._watchdog = Watchdog(self._proc.pid, signal.SIGTERM, grace=15.0)
        register_running(self)
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        log.info("prometheus ready on %s in %.2fs", self.url, time.monotonic() - t0)

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM (Prometheus flushes its head block and exits), then SIGKILL. Idempotent."""
        proc, self._proc = self._proc, None
        if proc is not None:
            terminate(proc, signal.SIGTERM, timeout)
        if self._watchdog is not None:
            self._watchdog.disarm()
            self._watchdog = None
        if self._log_fh is not None:
            self._log_fh.close()
            self._log_fh = None
        unregister_running(self)

    def _wait_ready(self) -> None:
        assert self._proc is not None
        deadline = time.monotonic() + self.start_timeout
        while True:
            code = self._proc.poll()
            if code is not None:
                raise DevstackError(
                    f"prometheus exited with code {code} during startup; log {self.log_file}:\n"
                    + tail(self.log_file)
                )
            try:
                if httpx.get(f"{self.url}/-/ready", timeout=1.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise DevstackError(
                    f"prometheus not ready after {self.start_timeout:.0f}s; log "
                    f"{self.log_file}:\n" + tail(self.log_file)
                )
            time.sleep(0.1)
