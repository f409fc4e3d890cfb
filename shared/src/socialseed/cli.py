"""``socialseed up``: the whole system on this machine as plain processes, no Docker.

Starts, in order, PostgreSQL (data in ``.data/pg``), Apache Kafka in KRaft mode (``.data/kafka``,
topics created explicitly), each service's migrations, then the sandbox and the services, then
Prometheus scraping them (``.data/prometheus``); waits for their health, prints the URLs, and
on Ctrl-C / SIGTERM stops everything in reverse order.
Logs go to ``.data/logs/``. Every port can be overridden by environment (see README).
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

import httpx

from socialseed.contracts import asyncapi
from socialseed.devstack.kafka import LocalKafka
from socialseed.devstack.postgres import LocalPostgres
from socialseed.devstack.procs import Watchdog, open_log, tail, terminate
from socialseed.devstack.prometheus import LocalPrometheus, job_name, local_config
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
    def __init__(self, data: Path, workers: str = "1") -> None:
        self.data = data.absolute()
        self.workers = workers
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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="socialseed", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="run the whole stack locally")
    up.add_argument("--data", type=Path, default=Path(os.environ.get("SOCIALSEED_DATA", ".data")))
    up.add_argument(
        "--workers",
        default=os.environ.get("SOCIALSEED_WORKERS", "1"),
        type=_workers,
        help="worker processes per service: a number, or 'auto' for one per core",
    )
    spec = sub.add_parser("asyncapi", help="print the events' AsyncAPI document")
    spec.add_argument("--out", type=Path, default=None)
    public = sub.add_parser("openapi", help="print the public API's merged OpenAPI document")
    public.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
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
    if args.command == "up":
        supervisor = Supervisor(args.data, workers=args.workers)
        try:
            supervisor.up()
            supervisor.watch()
        finally:
            supervisor.down()


if __name__ == "__main__":
    main()
