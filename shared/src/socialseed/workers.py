"""Several worker processes of one service behind one port.

uvicorn's supervisor binds the port once and spawns the workers; each imports the service's app
factory and builds its own Runtime (database pool, Kafka producer and consumers, outbox relay,
background jobs) in its own process, so nothing is shared by accident. What must happen once
across them elects a leader in PostgreSQL already (the accounts background jobs); consumers of
one group share the partitions (Kafka assigns them); any worker may run the idempotent
housekeeping.

Metrics: every worker writes its samples to files in one directory (``prometheus_client``'s
multiprocess mode, ``PROMETHEUS_MULTIPROC_DIR``) and ``/metrics``, whichever worker answers,
sums them. This module imports nothing of ``prometheus_client``: the variable must be set
before the workers import it.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

MULTIPROC_DIR = "PROMETHEUS_MULTIPROC_DIR"


def worker_count(value: str | int) -> int:
    """``"auto"``: a process per core; otherwise a positive number."""
    if value == "auto":
        return os.cpu_count() or 1
    count = int(value)
    if count < 1:
        raise ValueError(f"workers must be at least 1 or 'auto', not {value!r}")
    return count


def share_metrics_between_workers() -> Path:
    """Point the workers' metrics at one directory, emptied first (samples of a previous run
    would otherwise be summed in): the operator's ``PROMETHEUS_MULTIPROC_DIR``, or a fresh
    temporary one."""
    configured = os.environ.get(MULTIPROC_DIR)
    directory = Path(configured or tempfile.mkdtemp(prefix="socialseed-metrics-"))
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):
        stale.unlink()
    os.environ[MULTIPROC_DIR] = str(directory)
    return directory


def forget_dead_workers(directory: Path) -> None:
    """Drop the live-gauge samples of workers that are gone (a killed worker cannot clean up
    after itself; its counters stay, as counters must)."""
    from prometheus_client.multiprocess import mark_process_dead

    pids = {int(f.stem.rsplit("_", 1)[1]) for f in directory.glob("gauge_live*_*.db")}
    for pid in pids:
        if not _alive(pid):
            mark_process_dead(pid, str(directory))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
