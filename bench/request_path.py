"""Requests per second along the request path: a bare app, a service, and the gateway before it.

Starts the local stack the way ``socialseed up`` does (PostgreSQL, Kafka, the sandbox, auth,
accounts and the gateway as their own processes, in a temp dir on free ports, rate limits out of
the way) plus a bare FastAPI app (one route returning a small dict) under the same server
settings (``socialseed.run``). Then loads each target with ``wrk`` (Debian's package) at 32
connections: the bare app, a light service endpoint (auth's JWKS), an authenticated endpoint
with one database read (``/auth/me``), and both through the gateway. Prints requests/s and
p50/p99 for each run and their medians, with the ratios the targets are stated in. Figures, not
assertions: the machine is shared and noisy; ratios measured in one run are the robust part.

With ``--profile``, one more wrk run per authenticated target samples the process that
answers it (auth for ``/auth/me``, the gateway for ``gateway -> /me``) with py-spy and prints
where its time goes: by package, our functions, and self time.

    uv run python bench/request_path.py [--runs 3] [--duration 8] [--connections 32] [--profile]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx
from fastapi import FastAPI
from profiling import Profiler, summarize_profile

from socialseed.cli import Supervisor
from socialseed.stack import SANDBOX, SERVICES, ServiceSpec
from socialseed.testing import free_port

# Served by ``socialseed.run`` like a service: this directory goes on the child's PYTHONPATH.
BARE = ServiceSpec("bare", "request_path:create_bare_app", 0, "BARE_", health="/")
UNLIMITED = "1000000000/minute"


def create_bare_app() -> FastAPI:
    """The ceiling: FastAPI and the server with nothing of ours in between."""
    app = FastAPI()

    @app.get("/")
    async def hello() -> dict[str, str]:
        return {"hello": "world"}

    return app


@dataclass(frozen=True)
class Target:
    name: str
    url: str
    headers: tuple[str, ...] = ()
    # The target this one is compared with, and the ratio it should reach.
    versus: str = "bare"
    min_ratio: float | None = None
    max_p99_ms: float | None = None


@dataclass(frozen=True)
class Load:
    rps: float
    p50_ms: float
    p99_ms: float
    failures: int  # non-2xx/3xx answers and socket errors


_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(value) * _UNIT_MS[unit]


def parse_wrk(output: str) -> Load:
    """Requests/s, p50, p99 and failures from ``wrk --latency``'s report."""
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", output, re.M).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", output, re.M).group(1))  # type: ignore[union-attr]
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    failures = (int(non_2xx.group(1)) if non_2xx else 0) + (
        sum(int(n) for n in errors.groups()) if errors else 0
    )
    return Load(rps, p50, p99, failures)


def wrk(target: Target, *, duration: float, connections: int) -> Load:
    # A generous timeout: a slow answer counts in the latencies instead of vanishing from them.
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{duration:g}s", "--timeout", "10s", "--latency"]
    for header in target.headers:
        cmd += ["-H", header]
    proc = subprocess.run(
        [*cmd, target.url], capture_output=True, text=True, check=True, timeout=duration + 60
    )
    return parse_wrk(proc.stdout)


#: The gateway's limits lifted: a bench's client is one IP and one user, and would measure the
#: limiter instead of what it loads.
LIFTED_LIMITS = {
    "GATEWAY_LIMIT_PER_IP": UNLIMITED,
    "GATEWAY_LIMIT_PER_USER": UNLIMITED,
    "GATEWAY_LIMIT_LOGIN_PER_IP": UNLIMITED,
    "GATEWAY_MAX_IN_FLIGHT_PER_CLIENT": "100000",
}


def bench_environment(supervisor: Supervisor) -> None:
    """What the children inherit: limits that would measure the limiter, not the path, lifted,
    and this directory importable for the bare app."""
    os.environ |= LIFTED_LIMITS | {
        "PYTHONPATH": os.pathsep.join(
            p for p in (str(Path(__file__).parent), os.environ.get("PYTHONPATH")) if p
        ),
    }
    supervisor.ports[BARE.name] = free_port()


#: What a kept stack directory leaves out: the database's, the broker's and the media files.
_BULKY = frozenset({"pg", "kafka", "auth", "media"})


@contextlib.contextmanager
def running_stack(
    environment: Callable[[Supervisor], None] | None = None,
    *,
    supervisor: type[Supervisor] = Supervisor,
    keep: Path | None = None,
) -> Iterator[tuple[Supervisor, Path]]:
    """The whole stack as ``socialseed up`` runs it, in a temporary directory on free ports,
    stopped on the way out. ``environment`` sets what the children inherit once the ports are
    chosen; ``keep``: where its logs (and profiles) are copied when it stops."""
    with tempfile.TemporaryDirectory() as tmp:
        free_ports_for_the_stack()
        stack = supervisor(Path(tmp))
        if environment is not None:
            environment(stack)
        try:
            stack.up()
            yield stack, Path(tmp)
        finally:
            stack.down()
            if keep is not None:
                shutil.copytree(
                    tmp, keep, dirs_exist_ok=True, ignore=lambda _, names: _BULKY & set(names)
                )
                print(f"logs kept in {keep}")


def free_ports_for_the_stack() -> None:
    """``socialseed up`` reads its ports from the environment: free ones, so a running stack
    (or another bench) is left alone."""
    os.environ["SOCIALSEED_PG_PORT"] = str(free_port())
    os.environ["SOCIALSEED_KAFKA_PORT"] = str(free_port())
    os.environ["SOCIALSEED_PROMETHEUS_PORT"] = str(free_port())
    for spec in (*SERVICES, SANDBOX):
        os.environ[f"{spec.env_prefix}PORT"] = str(free_port())


def bearer_header(gateway: str) -> str:
    """Registers and signs in a fresh user through the gateway."""
    user = {"email": "bench@example.com", "password": "a long bench passphrase", "name": "Bench"}
    with httpx.Client(base_url=gateway, timeout=30) as client:
        client.post("/api/v1/auth/register", json=user).raise_for_status()
        login = client.post("/api/v1/auth/login", json=user)
        login.raise_for_status()
        return f"Authorization: Bearer {login.json()['access_token']}"


def targets(supervisor: Supervisor, auth_header: str) -> list[Target]:
    url = {name: f"http://127.0.0.1:{port}" for name, port in supervisor.ports.items()}
    jwks, me = "/.well-known/jwks.json", "/api/v1/auth/me"
    return [
        Target("bare", f"{url['bare']}/"),
        Target("auth jwks (light)", url["auth"] + jwks, min_ratio=0.5),
        Target(
            "gateway -> jwks",
            url["gateway"] + jwks,
            versus="auth jwks (light)",
            min_ratio=0.5,
            max_p99_ms=50,
        ),
        Target("auth /me (JWT + 1 read)", url["auth"] + me, (auth_header,), min_ratio=0.25),
        Target(
            "gateway -> /me",
            url["gateway"] + me,
            (auth_header,),
            versus="auth /me (JWT + 1 read)",
            max_p99_ms=50,
        ),
    ]


def one_run(
    targets: list[Target], *, duration: float, connections: int
) -> dict[str, tuple[Load, float]]:
    """Each target's load and its ratio to the one it is compared with, in this run."""
    loads: dict[str, Load] = {}
    for target in targets:
        loads[target.name] = wrk(target, duration=duration, connections=connections)
    return {t.name: (loads[t.name], _ratio(loads[t.name], loads[t.versus])) for t in targets}


def _ratio(load: Load, versus: Load) -> float:
    return load.rps / versus.rps if versus.rps else 0.0


def verdict(target: Target, ratio: float, p99_ms: float) -> str:
    goals = []
    if target.min_ratio is not None:
        met = "ok" if ratio >= target.min_ratio else "MISSED"
        goals.append(f">= {target.min_ratio:.2f}x {target.versus}: {met}")
    if target.max_p99_ms is not None:
        met = "ok" if p99_ms <= target.max_p99_ms else "MISSED"
        goals.append(f"p99 <= {target.max_p99_ms:.0f} ms: {met}")
    return "; ".join(goals)


def load_average() -> str:
    """The machine's 1/5/15-minute load averages: how busy it was beside the figures."""
    return "load average " + ", ".join(f"{n:.2f}" for n in os.getloadavg())


def report(targets: list[Target], runs: list[dict[str, tuple[Load, float]]]) -> None:
    print(f"\nmedians over {len(runs)} run(s) ({load_average()}):")
    print(
        f"{'target':<26} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'x bare':>7} {'x vs':>6}  goal"
    )
    for target in targets:
        loads = [run[target.name][0] for run in runs]
        rps = statistics.median(load.rps for load in loads)
        p50 = statistics.median(load.p50_ms for load in loads)
        p99 = statistics.median(load.p99_ms for load in loads)
        to_bare = statistics.median(_ratio(run[target.name][0], run["bare"][0]) for run in runs)
        ratio = statistics.median(run[target.name][1] for run in runs)
        versus = f"{ratio:6.2f}" if target.versus != "bare" else " " * 6
        print(
            f"{target.name:<26} {rps:>8,.0f} {p50:>8.1f} {p99:>8.1f} {to_bare:>7.2f} {versus}"
            f"  {verdict(target, ratio, p99)}"
        )
    failures = sum(load.failures for run in runs for load, _ in run.values())
    if failures:
        print(f"warning: {failures} failed requests (non-2xx or socket errors) in the runs")


#: Which process answers a target, for --profile.
PROFILED = {"auth /me (JWT + 1 read)": "auth", "gateway -> /me": "gateway"}


def profile(
    supervisor: Supervisor,
    targets: list[Target],
    *,
    duration: float,
    connections: int,
    out: Path,
    services: Mapping[str, str] = PROFILED,
) -> None:
    """One more wrk run per target in ``services`` (target name -> the service answering it)
    while py-spy samples that service; its profile printed after each."""
    pids = {running.spec.name: running.proc.pid for running in supervisor.running}
    for target in targets:
        service = services.get(target.name)
        if service is None:
            continue
        profiler = Profiler(pids[service], out / f"{service}.raw")
        load = wrk(target, duration=duration, connections=connections)
        print(f"\n{target.name}: {load.rps:,.0f}/s while sampled; {service}'s profile:")
        summarize_profile(profiler.stop(), ours=(f"{service}/", "socialseed/"))


def main(runs: int, duration: float, connections: int, *, with_profile: bool = False) -> None:
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (Debian: apt-get install wrk)")
    with running_stack(bench_environment) as (supervisor, tmp):
        supervisor.wait_healthy(supervisor.start_service(BARE))
        gateway = f"http://127.0.0.1:{supervisor.ports['gateway']}"
        loads = targets(supervisor, bearer_header(gateway))
        one_run(loads, duration=1, connections=connections)  # warm-up: pools, caches
        print(f"before the runs: {load_average()}")
        results = []
        for n in range(runs):
            results.append(one_run(loads, duration=duration, connections=connections))
            print(
                f"run {n + 1}: "
                + ", ".join(f"{name} {load.rps:,.0f}/s" for name, (load, _) in results[-1].items())
            )
        report(loads, results)
        if with_profile:
            profile(supervisor, loads, duration=duration, connections=connections, out=tmp)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--duration", type=float, default=8.0, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--profile", action="store_true", help="py-spy the /me targets")
    args = parser.parse_args()
    main(args.runs, args.duration, args.connections, with_profile=args.profile)
