"""A single-node Apache Kafka (KRaft, combined broker+controller) run as a plain JVM process.

The broker jars are the official ``org.apache.kafka:kafka_2.13`` artifacts from Maven Central,
resolved once with ``deploy/kafka/pom.xml`` into a cache shared by all checkouts
(``~/.cache/socialseed/kafka-<version>/libs``, or ``$SOCIALSEED_KAFKA_LIBS``). Logging goes
through log4j2 (``deploy/kafka/log4j2.xml``) to ``<log_dir>/server.log``; the JVM's own
stdout/stderr go to ``<log_dir>/kafka.out``. Nothing reaches the parent's terminal.

Layout of ``data_dir``: ``server.properties`` (rewritten on every start), ``data/`` (the
KRaft metadata and topic logs, formatted once) and ``kafka.pid``.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import os
import re
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

from socialseed.console import Step, step
from socialseed.devstack.procs import (
    DevstackError,
    LocalServer,
    Watchdog,
    apt_install,
    cache_root,
    file_lock,
    free_port,
    kill_stale,
    log,
    open_log,
    port_open,
    register_running,
    run_sync,
    tail,
    terminate,
    unregister_running,
)

TOPIC_ALREADY_EXISTS = 36
_MARKER = ".socialseed-complete"


# --------------------------------------------------------------------------- jars


def deploy_dir() -> Path:
    """``deploy/kafka`` of this checkout (``$SOCIALSEED_KAFKA_DEPLOY`` overrides)."""
    if env := os.environ.get("SOCIALSEED_KAFKA_DEPLOY"):
        return Path(env)
    here = Path(__file__).resolve()
    for base in (*here.parents, Path.cwd(), *Path.cwd().parents):
        candidate = base / "deploy" / "kafka"
        if (candidate / "pom.xml").is_file():
            return candidate
    raise DevstackError("deploy/kafka/pom.xml not found; set SOCIALSEED_KAFKA_DEPLOY")


def kafka_version(pom: Path | None = None) -> str:
    """The ``kafka.version`` property of ``deploy/kafka/pom.xml``."""
    text = (pom or deploy_dir() / "pom.xml").read_text()
    match = re.search(r"<kafka\.version>\s*([^<\s]+)\s*</kafka\.version>", text)
    if match is None:
        raise DevstackError("no <kafka.version> property in deploy/kafka/pom.xml")
    return match.group(1)


def libs_dir(version: str | None = None) -> Path:
    """Where the jars live: ``$SOCIALSEED_KAFKA_LIBS`` or the shared user cache."""
    if env := os.environ.get("SOCIALSEED_KAFKA_LIBS"):
        return Path(env)
    return cache_root() / f"kafka-{version or kafka_version()}" / "libs"


def _require_tool(name: str, package: str) -> str:
    found = shutil.which(name)
    if found is None and apt_install(package):
        found = shutil.which(name)
    if found is None:
        raise DevstackError(f"{name!r} not found on PATH (Debian package: {package})")
    return found


def java_executable() -> str:
    if home := os.environ.get("JAVA_HOME"):
        candidate = Path(home) / "bin" / "java"
        if candidate.is_file():
            return str(candidate)
    return _require_tool("java", "default-jre-headless")


def ensure_jars() -> Path:
    """Resolve the broker jars with Maven unless the cache already holds them.

    The cache is valid when it carries a marker with the digest of the pom it was filled
    from (so editing the pom refetches), or, for a directory without a marker (e.g. one given
    with ``$SOCIALSEED_KAFKA_LIBS``), when it has ``kafka_2.13-<version>.jar`` and log4j-core.
    """
    pom = deploy_dir() / "pom.xml"
    version = kafka_version(pom)
    libs = libs_dir(version)
    digest = hashlib.sha256(pom.read_bytes()).hexdigest()[:16]

    def complete() -> bool:
        marker = libs / _MARKER
        if marker.is_file():
            return marker.read_text().strip() == digest
        return (libs / f"kafka_2.13-{version}.jar").is_file() and any(libs.glob("log4j-core-*.jar"))

    if complete():
        return libs
    with file_lock(libs.parent / ".lock"):
        if complete():  # filled by a concurrent process while we waited
            return libs
        mvn = _require_tool("mvn", "maven")
        staging = libs.parent / f".libs-{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        log.info("fetching Kafka %s jars with Maven into %s", version, libs)
        t0 = time.monotonic()
        with step(f"fetching Apache Kafka {version} (first run only)") as progress:
            code, output = _maven_copy(mvn, pom, staging, progress)
        if code != 0 or not (staging / f"kafka_2.13-{version}.jar").is_file():
            shutil.rmtree(staging, ignore_errors=True)
            raise DevstackError(
                f"mvn dependency:copy-dependencies failed ({code}):\n" + output[-4000:]
            )
        (staging / _MARKER).write_text(digest + "\n")
        shutil.rmtree(libs, ignore_errors=True)
        staging.rename(libs)
        log.info("Kafka jars fetched in %.1fs", time.monotonic() - t0)
    return libs


_DOWNLOADED = re.compile(r"^\[INFO\] Downloaded from \S+: \S*/([^/\s]+) \(([^)]*)\)")


def _maven_copy(mvn: str, pom: Path, staging: Path, progress: Step) -> tuple[int, str]:
    """``mvn dependency:copy-dependencies`` into ``staging``, counting on ``progress`` the
    files Maven downloads (none when its local repository already has them). Returns the exit
    code and Maven's output."""
    cmd = [
        mvn,
        "-B",
        "-Dstyle.color=never",
        "-f",
        str(pom),
        "dependency:copy-dependencies",
        f"-DoutputDirectory={staging}",
        "-DincludeScope=runtime",
    ]
    lines: list[str] = []
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    with proc:
        for line in proc.stdout:
            lines.append(line)
            if match := _DOWNLOADED.match(line):
                progress.update(advance=1, note=f"{match.group(1)} ({match.group(2)})")
    return proc.returncode, "".join(lines)


def _cluster_id() -> str:
    """A Kafka ``Uuid`` string: 16 random bytes, url-safe base64, no padding, no leading '-'."""
    while True:
        text = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not text.startswith("-"):
            return text


# --------------------------------------------------------------------------- broker


class LocalKafka(LocalServer):
    """A single-node KRaft Kafka in ``data_dir`` with a PLAINTEXT listener on 127.0.0.1.

    ``fast=True`` (tests) limits the JVM to the C1 JIT: about 1 s quicker to start and less CPU
    contention on small machines, at the cost of peak throughput (keep it off for benchmarks).
    ``controller_port=None`` picks a free port on the first start and reuses it afterwards (the
    single-voter quorum is formatted with that endpoint).
    """

    #: Extra broker settings callers may tweak before ``start()``.
    extra_config: dict[str, str]

    def __init__(
        self,
        data_dir: Path,
        port: int = 19092,
        controller_port: int | None = None,
        log_dir: Path | None = None,
        *,
        fast: bool = False,
        heap: str = "512m",
        start_timeout: float = 90.0,
        stop_timeout: float = 30.0,
    ) -> None:
        self.data_dir = Path(data_dir).absolute()
        self.port = port
        self._controller_port = controller_port
        self.log_dir = Path(log_dir).absolute() if log_dir else self.data_dir / "logs"
        self.fast = fast
        self.heap = heap
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self.extra_config = {}
        self._proc: subprocess.Popen[bytes] | None = None
        self._watchdog: Watchdog | None = None
        self._out: IO[bytes] | None = None
        self._cds_dump: tuple[Path, Path] | None = None  # (temp file, final archive)

    # ------------------------------------------------------------------ public API

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def controller_port(self) -> int:
        """Stable for a data dir: the port it was formatted with is reused on later starts."""
        if self._controller_port is None:
            self._controller_port = self._previous_controller_port() or free_port()
        return self._controller_port

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def out_file(self) -> Path:
        return self.log_dir / "kafka.out"

    @property
    def server_log(self) -> Path:
        return self.log_dir / "server.log"

    def start(self) -> None:
        """Fetch jars (cached), format storage (first time), start the JVM, wait for metadata."""
        if self.running:
            return
        t0 = time.monotonic()
        libs = ensure_jars()
        java = java_executable()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        kill_stale(self._pid_file, str(self._config_file), signal.SIGKILL)
        for port in (self.port, self.controller_port):
            # Otherwise the readiness probe could be answered by someone else's broker.
            if port_open("127.0.0.1", port):
                raise DevstackError(f"port {port} is already in use; cannot start {self!r}")
        self._write_config()
        cds = self._cds_options(java, libs)
        if not (self._storage_dir / "meta.properties").is_file():
            self._format(java, libs)
        self._out = open_log(self.out_file)
        jvm = self._jvm(java, libs, self.heap)
        if self.fast:
            jvm.insert(1, "-XX:TieredStopAtLevel=1")
        self._proc = subprocess.Popen(
            [*jvm[:1], *cds, *jvm[1:], "kafka.Kafka", str(self._config_file)],
            stdin=subprocess.DEVNULL,
            stdout=self._out,
            stderr=subprocess.STDOUT,
            cwd=self.data_dir,
            start_new_session=True,  # Ctrl-C goes to the parent, which stops us in order
        )
        self._pid_file.write_text(f"{self._proc.pid}\n")
        self._watchdog = Watchdog(self._proc.pid, signal.SIGTERM, grace=self.stop_timeout)
        register_running(self)
        try:
            run_sync(self._wait_ready)
        except BaseException:
            self.kill()
            raise
        log.info("kafka ready on %s in %.2fs", self.bootstrap, time.monotonic() - t0)

    def stop(self) -> None:
        """SIGTERM (controlled shutdown), SIGKILL after ``stop_timeout``. Idempotent."""
        self._halt(signal.SIGTERM)

    def kill(self) -> None:
        """SIGKILL, no controlled shutdown (for chaos tests). Idempotent."""
        self._halt(signal.SIGKILL)

    def restart(self) -> None:
        self.stop()
        self.start()

    def create_topics(self, names: Iterable[str], partitions: int = 3) -> None:
        """Create topics (replication factor 1) unless they exist; wait until they have leaders."""
        topics = list(dict.fromkeys(names))
        if topics:
            run_sync(lambda: self._create_topics(topics, partitions))

    # ------------------------------------------------------------------ internals

    @property
    def _config_file(self) -> Path:
        return self.data_dir / "server.properties"

    @property
    def _storage_dir(self) -> Path:
        return self.data_dir / "data"

    @property
    def _pid_file(self) -> Path:
        return self.data_dir / "kafka.pid"

    def _previous_controller_port(self) -> int | None:
        if not (self._storage_dir / "meta.properties").is_file():
            return None
        try:
            text = self._config_file.read_text()
        except OSError:
            return None
        match = re.search(r"^controller\.quorum\.bootstrap\.servers=[^:]+:(\d+)", text, re.M)
        return int(match.group(1)) if match else None

    def config(self) -> dict[str, str]:
        cport = self.controller_port
        return {
            "process.roles": "broker,controller",
            "node.id": "1",
            "controller.quorum.bootstrap.servers": f"127.0.0.1:{cport}",
            "listeners": f"PLAINTEXT://127.0.0.1:{self.port},CONTROLLER://127.0.0.1:{cport}",
            "advertised.listeners": f"PLAINTEXT://127.0.0.1:{self.port}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "log.dirs": str(self._storage_dir),
            "num.partitions": "3",
            "default.replication.factor": "1",
            "auto.create.topics.enable": "false",
            "offsets.topic.replication.factor": "1",
            # 50 partitions by default: creating them on first group join costs seconds.
            "offsets.topic.num.partitions": "10",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "transaction.state.log.num.partitions": "10",
            "share.coordinator.state.topic.replication.factor": "1",
            "share.coordinator.state.topic.min.isr": "1",
            "group.initial.rebalance.delay.ms": "0",
            # After a SIGKILL the restarted broker must wait for its old registration to expire
            # (default 9 s); a shorter session makes kill/restart chaos tests quicker.
            "broker.session.timeout.ms": "5000",
            "broker.heartbeat.interval.ms": "1000",
            "log.retention.hours": "168",
            "log.segment.bytes": str(64 * 1024 * 1024),
            **self.extra_config,
        }

    def _write_config(self) -> None:
        lines = ["# Generated by socialseed.devstack.kafka on every start; edits are lost."]
        lines += [f"{key}={value}" for key, value in self.config().items()]
        self._config_file.write_text("\n".join(lines) + "\n")

    def _jvm(self, java: str, libs: Path, heap: str) -> list[str]:
        return [
            java,
            f"-Xmx{heap}",
            # A single-node dev broker with a small heap: the serial collector starts faster and
            # leaves the 2 cores to the services (G1 gains nothing at this size).
            "-XX:+UseSerialGC",
            "-XX:+ExitOnOutOfMemoryError",
            "-Djava.awt.headless=true",
            f"-Dkafka.logs.dir={self.log_dir}",
            f"-Dlog4j2.configurationFile={deploy_dir() / 'log4j2.xml'}",
            "-cp",
            f"{libs}/*",
        ]

    def _cds_archive(self, java: str, libs: Path) -> Path | None:
        """AppCDS archive for this JVM + classpath, in the user cache (None: disabled).

        A dynamic class-data-sharing archive of the broker's classes roughly halves JVM
        startup. The JVM validates it and silently ignores a stale one; the key below makes a
        JDK or jar change pick a new file anyway.
        """
        if os.environ.get("SOCIALSEED_KAFKA_CDS", "1") == "0":
            return None
        real = Path(java).resolve()
        parts = [str(real), str(real.stat().st_mtime_ns), str(libs.resolve())]
        parts += sorted(f"{p.name}:{p.stat().st_size}" for p in libs.glob("*.jar"))
        key = hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]
        return cache_root() / "kafka-cds" / f"{key}.jsa"

    def _cds_use(self, java: str, libs: Path) -> list[str]:
        archive = self._cds_archive(java, libs)
        return [f"-XX:SharedArchiveFile={archive}"] if archive and archive.is_file() else []

    def _cds_options(self, java: str, libs: Path) -> list[str]:
        """Use the archive if present, else have this broker write it when it exits."""
        archive = self._cds_archive(java, libs)
        if archive is None:
            return []
        if archive.is_file():
            return [f"-XX:SharedArchiveFile={archive}"]
        archive.parent.mkdir(parents=True, exist_ok=True)
        tmp = archive.with_name(f"{archive.stem}.{uuid.uuid4().hex[:8]}.tmp")
        self._cds_dump = (tmp, archive)
        # The dump warns about every class it cannot archive; keep kafka.out for real errors.
        return [f"-XX:ArchiveClassesAtExit={tmp}", "-Xlog:cds*=error"]

    def _format(self, java: str, libs: Path) -> None:
        """``kafka-storage format --standalone``: a one-voter dynamic KRaft quorum."""
        cmd = [
            *self._jvm(java, libs, "256m"),
            "-XX:TieredStopAtLevel=1",  # a short-lived tool: skip the optimising JIT
            *self._cds_use(java, libs),
            "kafka.tools.StorageTool",
            "format",
            "--cluster-id",
            _cluster_id(),
            "--config",
            str(self._config_file),
            "--standalone",
        ]
        res = subprocess.run(cmd, capture_output=True, text=True, cwd=self.data_dir, check=False)
        if res.returncode != 0:
            raise DevstackError(f"kafka storage format failed:\n{res.stdout}{res.stderr}")

    def _halt(self, sig: int) -> None:
        proc, self._proc = self._proc, None
        code: int | None = None
        if proc is not None:
            code = terminate(proc, sig, self.stop_timeout, (signal.SIGKILL,))
            log.info("kafka on %s stopped (exit %d)", self.bootstrap, code)
            self._pid_file.unlink(missing_ok=True)
        if self._cds_dump is not None:
            tmp, final = self._cds_dump
            self._cds_dump = None
            # Written by the JVM on a normal exit; a killed JVM may leave a partial file.
            if code not in (None, -signal.SIGKILL) and tmp.is_file() and tmp.stat().st_size:
                os.replace(tmp, final)
                log.info("saved JVM class-data-sharing archive %s", final)
            tmp.unlink(missing_ok=True)
        if self._watchdog is not None:
            self._watchdog.disarm()
            self._watchdog = None
        if self._out is not None:
            self._out.close()
            self._out = None
        unregister_running(self)

    def _startup_failure(self, what: str) -> DevstackError:
        return DevstackError(
            f"kafka {what}; {self.out_file}:\n{tail(self.out_file, 20)}\n"
            f"{self.server_log}:\n{tail(self.server_log, 30)}"
        )

    async def _wait_ready(self) -> None:
        """Until the broker answers a metadata request listing itself (i.e. it is unfenced)."""
        from aiokafka.client import AIOKafkaClient

        deadline = time.monotonic() + self.start_timeout
        while True:
            if self._proc is None or self._proc.poll() is not None:
                code = None if self._proc is None else self._proc.returncode
                raise self._startup_failure(f"exited with code {code} during startup")
            if time.monotonic() > deadline:
                raise self._startup_failure(f"not ready after {self.start_timeout:.0f}s")
            try:
                _, writer = await asyncio.wait_for(
                    asyncio.open_connection("127.0.0.1", self.port), timeout=1.0
                )
            except (OSError, TimeoutError):
                await asyncio.sleep(0.05)
                continue
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
            client = AIOKafkaClient(bootstrap_servers=self.bootstrap, request_timeout_ms=3000)
            try:
                await client.bootstrap()
                if client.cluster.brokers():
                    return
            except Exception as exc:  # not ready yet: retry until the deadline
                log.debug("kafka not ready yet: %r", exc)
            finally:
                await client.close()
            await asyncio.sleep(0.1)

    async def _create_topics(self, topics: list[str], partitions: int) -> None:
        from aiokafka.admin import AIOKafkaAdminClient, NewTopic

        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap, request_timeout_ms=30000)
        await admin.start()
        try:
            response: Any = await admin.create_topics(
                [NewTopic(t, num_partitions=partitions, replication_factor=1) for t in topics]
            )
            failures = [
                f"{err[0]}: error {err[1]} {err[2] if len(err) > 2 else ''}".strip()
                for err in response.topic_errors
                if err[1] not in (0, TOPIC_ALREADY_EXISTS)
            ]
            if failures:
                raise DevstackError("creating topics failed: " + "; ".join(failures))
            deadline = time.monotonic() + 30.0
            while True:
                missing = _topics_without_leaders(await admin.describe_topics(topics), topics)
                if not missing:
                    return
                if time.monotonic() > deadline:
                    raise DevstackError(f"topics without partition leaders after 30s: {missing}")
                await asyncio.sleep(0.05)
        finally:
            await admin.close()


def _topics_without_leaders(described: list[Any], wanted: list[str]) -> list[str]:
    ready = {
        t["topic"]
        for t in described
        if t["error_code"] == 0
        and t["partitions"]
        and all(p["error_code"] == 0 and p["leader"] >= 0 for p in t["partitions"])
    }
    return [t for t in wanted if t not in ready]
