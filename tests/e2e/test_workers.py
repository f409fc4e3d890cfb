"""A service run with several worker processes (``socialseed.run --workers``): one background
leader among them, taken over when it dies, and one ``/metrics`` for all of them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from accounts.background import LEADER_JOB
from socialseed.devstack.procs import open_log, terminate
from socialseed.testing import Infra, free_port
from tests.conftest import own_accounts_database, until

# Who holds the session-level advisory lock of a leader job (socialseed.leader): pg_locks
# shows its bigint key split in two 32-bit halves.
LEADER_HOLDERS = """
SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
  AND ((l.classid::bigint << 32) | l.objid::bigint) = hashtextextended('leader:' || $1, 0)
  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
"""
WORKERS = """
SELECT DISTINCT application_name FROM pg_stat_activity
WHERE datname = current_database() AND application_name LIKE 'accounts/%'
"""
EXPIRED_STATE = """
INSERT INTO accounts.oauth_states
  (state_hash, user_id, workspace_id, platform, callback_uri, expires_at)
VALUES (sha256(random()::text::bytea), gen_random_uuid(), gen_random_uuid(), 'x', 'http://x', $1)
RETURNING state_hash
"""


@dataclass
class Workers:
    proc: subprocess.Popen[bytes]
    database_url: str
    url: str
    log: Path


@pytest.fixture(scope="module")
async def workers_database(infra: Infra) -> str:
    return await own_accounts_database(infra, "socialseed_workers")


@pytest.fixture(scope="module")
def workers(workers_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workers]:
    """``python -m socialseed.run`` of accounts with two workers, as ``socialseed up`` runs it,
    once for this module: spawning workers is slow on a busy machine. Kafka off: its consumer
    group would take partitions from the shared stack's accounts."""
    port = free_port()
    log = tmp_path_factory.mktemp("workers") / "accounts.log"
    env = os.environ | {
        "ACCOUNTS_DEV_MODE": "true",
        "ACCOUNTS_DATABASE_URL": workers_database,
        "ACCOUNTS_KAFKA_ENABLED": "false",
        "ACCOUNTS_REFRESHER_INTERVAL": "0.2",
        "ACCOUNTS_WORKERS": "2",
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    cmd = [sys.executable, "-m", "socialseed.run", "accounts.app:create_app", "--port", str(port)]
    proc = subprocess.Popen(
        cmd, env=env, stdout=open_log(log), stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        yield Workers(proc, workers_database, f"http://127.0.0.1:{port}", log)
    finally:
        terminate(proc, timeout=15)


def worker_pid(application_name: str) -> int:
    return int(application_name.rsplit("/", 1)[1])


@pytest.mark.timeout(400)
async def test_metrics_of_every_worker_are_served_behind_one_port(workers: Workers) -> None:
    probes = 40

    async def healthy() -> bool | None:
        try:
            async with httpx.AsyncClient(timeout=30) as client:
                return (await client.get(f"{workers.url}/healthz")).status_code == 200 or None
        except httpx.TransportError:
            return None

    await until(healthy, "the service to answer", workers.log)
    # A fresh connection each: the kernel hands them to both workers.
    for _ in range(probes):
        async with httpx.AsyncClient(timeout=30) as client:
            assert (await client.get(f"{workers.url}/no-such-path")).status_code == 404
    for _ in range(10):
        async with httpx.AsyncClient(timeout=30) as client:
            text = (await client.get(f"{workers.url}/metrics")).text
        assert _unmatched_requests(text) == probes


def _unmatched_requests(text: str) -> float:
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "socialseed_http_requests_total"
        and sample.labels.get("route") == "unmatched"
    )


@pytest.mark.timeout(400)
async def test_two_workers_elect_one_background_leader_and_hand_over_when_it_dies(
    workers: Workers,
) -> None:
    pg = await asyncpg.connect(workers.database_url.replace("+asyncpg", ""))

    async def both_workers() -> set[int] | None:
        pids = {worker_pid(r[0]) for r in await pg.fetch(WORKERS)}
        return pids if len(pids) == 2 and workers.proc.pid not in pids else None

    async def leader(excluding: int | None = None) -> int | None:
        holders = [worker_pid(r[0]) for r in await pg.fetch(LEADER_HOLDERS, LEADER_JOB)]
        assert len(holders) <= 1, holders
        return holders[0] if holders and holders[0] != excluding else None

    async def purged_by_the_leader() -> None:
        state = await pg.fetchval(EXPIRED_STATE, datetime.now(UTC) - timedelta(days=2))

        async def gone() -> bool | None:
            row = await pg.fetchval(
                "SELECT 1 FROM accounts.oauth_states WHERE state_hash = $1", state
            )
            return True if row is None else None

        await until(gone, "the leader's turn to purge an expired state", workers.log)

    try:
        pids = await until(both_workers, "both workers to connect", workers.log)
        first = await until(leader, "a leader", workers.log)
        assert first in pids
        await purged_by_the_leader()

        os.kill(first, signal.SIGKILL)
        second = await until(lambda: leader(excluding=first), "a new leader", workers.log)
        # The other worker, which was waiting its turn: not the dead one's replacement.
        assert second == (pids - {first}).pop()
        await purged_by_the_leader()
    finally:
        await pg.close()
