from __future__ import annotations

import asyncio
import os
import queue
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from socialseed.db import Database
from socialseed.migrate import migrate_service
from socialseed.testing import TEST_DATABASE, Infra
from tests.bus.schema import effects

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def bus_db_url(infra: Infra) -> str:
    url = (
        f"postgresql+asyncpg://bustest:dev-only-bustest@{infra.pg_host}:{infra.pg_port}"
        f"/{TEST_DATABASE}"
    )
    migrate_service(
        admin_url=infra.admin_url,
        service_url=url,
        schema="bustest",
        script_location=Path(__file__).with_name("migrations"),
    )
    return url


@pytest.fixture
async def bus_db(bus_db_url: str) -> AsyncIterator[Database]:
    db = Database(bus_db_url, pool_size=2)
    yield db
    await db.dispose()


async def effect_count(db: Database, user_id: uuid.UUID | str) -> int:
    async with db.transaction() as session:
        count = await session.execute(
            select(func.count()).where(effects.c.user_id == uuid.UUID(str(user_id)))
        )
        return int(count.scalar_one())


async def wait_for_effects(db: Database, user_id: uuid.UUID | str, *, timeout: float = 30) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if n := await effect_count(db, user_id):
            return n
        await asyncio.sleep(0.1)
    return 0


class ConsumerProcess:
    """The bus-test consumer in its own OS process, its stdout read line by line."""

    def __init__(self, infra: Infra, db_url: str, group: str, stall_user: str | None = None):
        env = os.environ | {
            "BUS_DB_URL": db_url,
            "BUS_KAFKA": infra.kafka_bootstrap,
            "BUS_GROUP": group,
            "PYTHONPATH": str(ROOT),
        }
        if stall_user:
            env["BUS_STALL_USER"] = stall_user
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.bus.consumer_app"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip())

    async def wait_for(self, text: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        seen: list[str] = []
        while time.monotonic() < deadline:
            try:
                line = self.lines.get_nowait()
            except queue.Empty:
                if self.proc.poll() is not None:
                    raise AssertionError(f"consumer exited: {seen[-20:]}") from None
                await asyncio.sleep(0.05)
                continue
            seen.append(line)
            if text in line:
                return
        raise AssertionError(f"{text!r} not seen; last lines: {seen[-20:]}")

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def consumers(infra: Infra, bus_db_url: str) -> Iterator[list[ConsumerProcess]]:
    started: list[ConsumerProcess] = []
    yield started
    for c in started:
        c.stop()
