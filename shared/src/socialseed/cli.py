"""``socialseed up``: the whole system on this machine as plain processes, no Docker.

Starts, in order, PostgreSQL (data in ``.data/pg``), Apache Kafka in KRaft mode (``.data/kafka``,
topics created explicitly), each service's migrations, then the sandbox and the services, then
Prometheus scraping them (``.data/prometheus``); waits for their health, prints the URLs, and
on Ctrl-C / SIGTERM stops everything in reverse order. Logs go to ``.data/logs/``:
human-readable text when ``socialseed up`` runs in a terminal, JSON lines otherwise
(``--log-format`` / ``SOCIALSEED_LOG_FORMAT``). Every port can be overridden by environment
(see README).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

import httpx

from socialseed.console import CommandHelp
from socialseed.contracts import asyncapi, eventdocs
from socialseed.devstack.kafka import LocalKafka
from socialseed.devstack.postgres import LocalPostgres
from socialseed.devstack.procs import Watchdog, open_log, tail, terminate
from socialseed.devstack.prometheus import LocalPrometheus, job_name, local_config
from socialseed.logs import LOG_FORMAT_ENV, LOG_FORMATS, LogFormat, log_format
from socialseed.stack import DATABASE, SANDBOX, SERVICES, ServiceSpec, all_topics, migrate
from socialseed.workers import worker_count


def _port(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def _workers(value: str) -> str:
    """``--workers``: checked here (a clear usage error), handed on as given."""
    worker_count(value)
    return value


@dataclass
class Running:
    spec: ServiceSpec
    port: int
    proc: subprocess.Popen[bytes]
    watchdog: Watchdog
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        terminate(self.proc, timeout=15.0)
        self.watchdog.disarm()


class Supervisor:
    def __init__(self, data: Path, workers: str = "1", log_format: LogFormat = "text") -> None:
        self.data = data.absolute()
        self.workers = workers
        # Decided here, where the person (or the supervisor of this process) is: the services
        # write into files, never a terminal, and would otherwise always choose JSON.
        self.log_format = log_format
        self.logs = self.data / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.pg = LocalPostgres(
            self.data / "pg",
            port=_port("SOCIALSEED_PG_PORT", 54320),
            log_file=self.logs / "postgres.log",
        )
        self.kafka = LocalKafka(
            self.data / "kafka",
            port=_port("SOCIALSEED_KAFKA_PORT", 19092),
            log_dir=self.logs / "kafka",
        )
        self.running: list[Running] = []
        self.ports = {s.name: _port(f"{s.env_prefix}PORT", s.port) for s in (*SERVICES, SANDBOX)}
        self.metrics_token_file = self.data / "prometheus" / "metrics-token"
        self.prometheus = LocalPrometheus(
            self.data / "prometheus",
            local_config(
                {job_name(s.name): f"127.0.0.1:{self.ports[s.name]}" for s in SERVICES},
                token_file=self.metrics_token_file,
                scrape_interval="5s",
            ),
            port=_port("SOCIALSEED_PROMETHEUS_PORT", 9090),
            log_file=self.logs / "prometheus.log",
        )

    def metrics_token(self) -> str:
        """The stack's metrics token, made once (dev mode opens /metrics anyway; the services
        and Prometheus still share a token, as they do in production)."""
        path = self.metrics_token_file
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch(mode=0o600)
            path.write_text(secrets.token_urlsafe(32) + "\n")
        return path.read_text().strip()

    def service_env(self, spec: ServiceSpec) -> dict[str, str]:
        p = spec.env_prefix
        env = {
            # The local stack runs on the repo's public development credentials, on purpose.
            f"{p}DEV_MODE": "true",
            f"{p}PORT": str(self.ports[spec.name]),
            f"{p}KAFKA_BOOTSTRAP": self.kafka.bootstrap,
            f"{p}JWKS_URL": f"http://127.0.0.1:{self.ports['auth']}/.well-known/jwks.json",
            LOG_FORMAT_ENV: self.log_format,
        }
        if spec is not SANDBOX:
            env[f"{p}METRICS_TOKEN"] = self.metrics_token()
        if spec.schema:
            env[f"{p}DATABASE_URL"] = spec.database_url("127.0.0.1", self.pg.port, DATABASE)
        if spec.name == "accounts":
            env["ACCOUNTS_PUBLIC_BASE_URL"] = f"http://127.0.0.1:{self.ports['gateway']}"
            env["ACCOUNTS_PLATFORMS__SANDBOX_URL"] = f"http://127.0.0.1:{self.ports['sandbox']}"
        if spec.name == "publisher":
            env["PUBLISHER_AUTH_URL"] = f"http://127.0.0.1:{self.ports['auth']}"
            env["PUBLISHER_ACCOUNTS_URL"] = f"http://127.0.0.1:{self.ports['accounts']}"
            env["PUBLISHER_PLATFORMS__SANDBOX_URL"] = f"http://127.0.0.1:{self.ports['sandbox']}"
            env["PUBLISHER_PUBLIC_MEDIA_URL"] = f"http://127.0.0.1:{self.ports['publisher']}"
        if spec.name == "analytics":
            env["ANALYTICS_AUTH_URL"] = f"http://127.0.0.1:{self.ports['auth']}"
            env["ANALYTICS_ACCOUNTS_URL"] = f"http://127.0.0.1:{self.ports['accounts']}"
            env["ANALYTICS_PLATFORMS__SANDBOX_URL"] = f"http://127.0.0.1:{self.ports['sandbox']}"
        if spec.name == "auth":
            env["AUTH_JWT_PRIVATE_KEY_FILE"] = str(self.data / "auth" / "jwt-ed25519.pem")
        if spec.name == "gateway":
            upstreams = {s.name: f"http://127.0.0.1:{self.ports[s.name]}" for s in SERVICES}
            upstreams.pop("gateway")
            env["GATEWAY_UPSTREAMS"] = json.dumps(upstreams)
            env["GATEWAY_WEB_DIST"] = os.environ.get(
                "GATEWAY_WEB_DIST", str(Path("web/dist").absolute())
            )
        return env

    def worker_setting(self, spec: ServiceSpec) -> str:
        """``<PREFIX>WORKERS`` for one service, else the stack's ``--workers``. The sandbox
        keeps its emulated platforms in memory: always one process."""
        if spec is SANDBOX:
            return "1"
        return os.environ.get(f"{spec.env_prefix}WORKERS", self.workers)

    def start_service(self, spec: ServiceSpec) -> Running:
        port = self.ports[spec.name]
        log = self.logs / f"{spec.name}.log"
        cmd = [
            sys.executable, "-m", "socialseed.run", spec.app,
            "--port", str(port), "--name", spec.name, "--workers", self.worker_setting(spec),
        ]  # fmt: skip
        proc = subprocess.Popen(
            cmd,
            env=os.environ | self.service_env(spec),
            stdout=open_log(log),
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches us; we stop children in order
        )
        running = Running(spec, port, proc, Watchdog(proc.pid), log)
        self.running.append(running)
        return running

    def wait_healthy(self, running: Running, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if running.proc.poll() is not None:
                raise SystemExit(f"{running.spec.name} exited:\n{tail(running.log)}")
            try:
                if httpx.get(running.url + running.spec.health, timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.25)
        raise SystemExit(f"{running.spec.name} not healthy in {timeout:.0f}s:\n{tail(running.log)}")

    def up(self) -> None:
        print("starting PostgreSQL and Kafka ...", flush=True)
        self.pg.start()
        self.kafka.start()
        self.kafka.create_topics(all_topics())
        print("migrating ...", flush=True)
        migrate(SERVICES, admin_url=self.pg.admin_url, host="127.0.0.1", port=self.pg.port)
        for spec in (SANDBOX, *SERVICES):
            self.wait_healthy(self.start_service(spec))
        print("starting Prometheus ...", flush=True)
        self.prometheus.start()
        print(f"\nSocialSeed is up (logs in {self.logs}):")
        print(f"  Web app       http://127.0.0.1:{self.ports['gateway']}/")
        print(f"  API gateway   http://127.0.0.1:{self.ports['gateway']}   (Swagger UI at /docs)")
        for r in self.running:
            print(f"  {r.spec.name:<13} {r.url}")
        print(f"  PostgreSQL    {self.pg.admin_url}")
        print(f"  Kafka         {self.kafka.bootstrap}")
        print(f"  Prometheus    {self.prometheus.url}   (alerts at /alerts; dashboards' queries")
        print("                in deploy/grafana, runbooks in docs/operations.md)")
        print("Ctrl-C stops everything.", flush=True)

    def watch(self) -> None:
        """Block until a signal or until a service dies (which brings the stack down)."""
        stop = False

        def _on_signal(signum: int, _: FrameType | None) -> None:
            nonlocal stop
            stop = True

        signal.signal(signal.SIGINT, _on_signal)
        signal.signal(signal.SIGTERM, _on_signal)
        while not stop:
            for r in self.running:
                if r.proc.poll() is not None:
                    print(f"{r.spec.name} exited; stopping. Last log lines:\n{tail(r.log)}")
                    return
            time.sleep(0.5)

    def down(self) -> None:
        print("stopping ...", flush=True)
        self.prometheus.stop()
        for r in reversed(self.running):
            r.stop()
        self.kafka.stop()
        self.pg.stop()
        print("stopped.", flush=True)


def _key_value(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return key, value


def _deploy_commands(sub: Any) -> None:
    """The one-shot steps of a deployment (a container or a Kubernetes Job runs them before
    the services start, and again on every upgrade): ``socialseed.provisioning``."""
    mig = sub.add_parser(
        "migrate",
        help="migrate every service's schema to head (each with its <PREFIX>DATABASE_URL)",
    )
    mig.add_argument("--service", action="append", default=[], help="only this one (repeatable)")
    mig.add_argument(
        "--admin-url",
        default=os.environ.get("SOCIALSEED_ADMIN_DATABASE_URL") or None,
        help="a role that may create roles and schemas: each service's role and schema are "
        "created first (SOCIALSEED_ADMIN_DATABASE_URL); without it they must exist",
    )
    top = sub.add_parser("topics", help="create every event topic and its dead-letter topic")
    top.add_argument(
        "--bootstrap", default=os.environ.get("SOCIALSEED_KAFKA_BOOTSTRAP", "127.0.0.1:19092")
    )
    top.add_argument("--partitions", type=int, default=3)
    top.add_argument("--replication-factor", type=int, default=1)
    top.add_argument(
        "--topic-partitions",
        type=_key_value,
        action="append",
        default=[],
        metavar="TOPIC=N",
        help="partitions of one busier topic (repeatable)",
    )
    top.add_argument(
        "--config",
        type=_key_value,
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a topic setting for every topic, e.g. min.insync.replicas=2 (repeatable)",
    )
    top.add_argument("--wait", type=float, default=120.0, help="seconds to wait for Kafka")


def _run_deploy_command(args: argparse.Namespace) -> None:
    import asyncio

    from socialseed import provisioning

    try:
        if args.command == "migrate":
            for name in provisioning.migrate_all(args.service, admin_url=args.admin_url):
                print(f"migrated {name}", flush=True)
            return
        report = asyncio.run(
            provisioning.create_topics(
                args.bootstrap,
                partitions=args.partitions,
                replication_factor=args.replication_factor,
                overrides={topic: int(n) for topic, n in args.topic_partitions},
                configs=dict(args.config),
                wait=args.wait,
            )
        )
    except (provisioning.ProvisioningError, ValueError) as exc:
        raise SystemExit(f"socialseed {args.command}: {exc}") from exc
    print(f"topics created: {len(report.created)}, already there: {len(report.existing)}")
    for topic, count in sorted(report.other_partitions.items()):
        print(f"  {topic} has {count} partitions (not changed; raise them with kafka-topics.sh)")


def parser() -> argparse.ArgumentParser:
    """The command line; every command has a one-line ``help`` (``socialseed --help``)."""
    parser = argparse.ArgumentParser(
        prog="socialseed",
        formatter_class=CommandHelp,
        description="SocialSeed's command line: the local stack and its published contracts.",
        epilog="'socialseed COMMAND --help' shows a command's options.",
    )
    sub = parser.add_subparsers(dest="command", required=True, title="commands", metavar="COMMAND")
    up = sub.add_parser(
        "up",
        help="run the whole stack on this machine (no Docker)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    up.add_argument("--data", type=Path, default=Path(os.environ.get("SOCIALSEED_DATA", ".data")))
    up.add_argument(
        "--workers",
        default=os.environ.get("SOCIALSEED_WORKERS", "1"),
        type=_workers,
        help="worker processes per service: a number, or 'auto' for one per core",
    )
    up.add_argument(
        "--log-format",
        choices=LOG_FORMATS,
        default=os.environ.get(LOG_FORMAT_ENV) or "auto",
        help="the services' log lines: text, json, or auto (text when this runs in a "
        f"terminal, JSON otherwise; {LOG_FORMAT_ENV})",
    )
    spec = sub.add_parser("asyncapi", help="print the events' AsyncAPI document")
    spec.add_argument("--out", type=Path, default=None)
    events = sub.add_parser(
        "events-docs", help="write the events' AsyncAPI document and JSON Schemas"
    )
    events.add_argument("--out", type=Path, default=Path("docs"))
    events.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if the files are not current"
    )
    events.add_argument(
        "--breaking",
        action="store_true",
        help="overwrite a schema even with a change that is not additive",
    )
    public = sub.add_parser("openapi", help="print the public API's merged OpenAPI document")
    public.add_argument("--out", type=Path, default=None)
    _deploy_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> None:
    command_line = parser()
    args = command_line.parse_args(argv)
    if args.command in ("migrate", "topics"):
        _run_deploy_command(args)
    if args.command == "openapi":
        from socialseed.public_openapi import document

        text = json.dumps(document(), indent=2) + "\n"
        if args.out:
            args.out.write_text(text)
        else:
            print(text, end="")
    if args.command == "asyncapi":
        text = json.dumps(asyncapi.document(), indent=2, sort_keys=True) + "\n"
        if args.out:
            args.out.write_text(text)
        else:
            print(text, end="")
    if args.command == "events-docs":
        if args.check:
            if stale := eventdocs.drift(args.out):
                sys.exit(
                    f"not current in {args.out}: {', '.join(stale)}\n"
                    f"regenerate with: socialseed events-docs --out {args.out}"
                )
            print(f"{args.out}: current")
        else:
            if (broken := eventdocs.breaking(args.out)) and not args.breaking:
                sys.exit(
                    "not additive, so not within a type version (docs/events.md, Versioning):\n"
                    + "".join(f"  {f}: {c}\n" for f, changes in broken.items() for c in changes)
                    + "publish a new type version (<topic>.v2) instead, or pass --breaking"
                )
            changed = eventdocs.write(args.out)
            print(f"{args.out}: {', '.join(changed) if changed else 'nothing'} changed")
    if args.command == "up":
        try:
            chosen = log_format(args.log_format, sys.stdout)
        except ValueError as exc:  # a bad SOCIALSEED_LOG_FORMAT (argparse checks only --log-format)
            command_line.error(str(exc))
        supervisor = Supervisor(args.data, workers=args.workers, log_format=chosen)
        try:
            supervisor.up()
            supervisor.watch()
        finally:
            supervisor.down()


if __name__ == "__main__":
    main()
