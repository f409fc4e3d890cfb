"""The pytest harness: real PostgreSQL and real Kafka, started once per test run.

Loaded as a plugin by the repository's root ``conftest.py``. Set
``SOCIALSEED_TEST_DATABASE_URL`` (a superuser URL) and/or ``SOCIALSEED_TEST_KAFKA_BOOTSTRAP``
to use servers you already run instead. Schemas are built by the services' Alembic migrations,
never by ``create_all``.
"""

from __future__ import annotations

import asyncio
import os
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy.engine import make_url

from socialseed.devstack.kafka import LocalKafka
from socialseed.devstack.postgres import LocalPostgres
from socialseed.migrate import migrate_service
from socialseed.run import SERVER_SETTINGS
from socialseed.stack import SERVICES, all_topics, migrate

TEST_DATABASE = "socialseed_test"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def serve(app: FastAPI, *, port: int | None = None, timeout: float = 20.0) -> Iterator[str]:
    """Serve an ASGI app over real HTTP (a free port unless given) from a thread, lifespan
    included."""
    port = port or free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=port,
            log_level="warning",
            **SERVER_SETTINGS,  # served as socialseed.run serves the services
        )
    )
    thread = threading.Thread(target=server.run, name=f"serve-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("app did not start; see the captured log")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout)


@asynccontextmanager
async def asgi_client(
    app: FastAPI, *, base_url: str = "http://test"
) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client calling ``app`` in-process (``ASGITransport``), lifespan included: the
    fast way for a service's own tests, against the real Postgres of ``infra``."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=base_url) as client:
            yield client


@dataclass
class Infra:
    admin_url: str
    kafka_bootstrap: str
    kafka: LocalKafka | None

    @property
    def pg_host(self) -> str:
        return make_url(self.admin_url).host or "127.0.0.1"

    @property
    def pg_port(self) -> int:
        return make_url(self.admin_url).port or 5432

    def service_url(self, service: str) -> str:
        spec = next(s for s in SERVICES if s.name == service)
        return spec.database_url(self.pg_host, self.pg_port, TEST_DATABASE)


@pytest.fixture(scope="session")
def infra(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Infra]:
    base: Path = tmp_path_factory.mktemp("infra")
    admin_url = os.environ.get("SOCIALSEED_TEST_DATABASE_URL")
    bootstrap = os.environ.get("SOCIALSEED_TEST_KAFKA_BOOTSTRAP")
    pg = None if admin_url else LocalPostgres(base / "pg", port=free_port(), fast=True)
    kafka = None if bootstrap else LocalKafka(base / "kafka", port=free_port())
    # Both start in parallel: the JVM's start-up dominates.
    with ThreadPoolExecutor(2) as pool:
        for fut in [pool.submit(x.start) for x in (pg, kafka) if x is not None]:
            fut.result()
    try:
        admin_url = admin_url or (pg.admin_url if pg else "")
        bootstrap = bootstrap or (kafka.bootstrap if kafka else "")
        if kafka is not None:
            kafka.create_topics(all_topics())
        infra = Infra(admin_url=admin_url, kafka_bootstrap=bootstrap, kafka=kafka)
        migrate(
            SERVICES,
            admin_url=admin_url,
            host=infra.pg_host,
            port=infra.pg_port,
            database=TEST_DATABASE,
        )
        yield infra
    finally:
        for proc in (kafka, pg):
            if proc is not None:
                proc.stop()


async def own_database(infra: Infra, service: str, database: str) -> str:
    """A separate database with ``service``'s schema migrated, for a test that runs its own
    instance of the service or a command over every row (the shared stack's data must not
    reach it, nor its reach the shared stack's)."""
    spec = next(s for s in SERVICES if s.name == service)
    assert spec.schema
    url = spec.database_url(infra.pg_host, infra.pg_port, database)
    await asyncio.to_thread(
        migrate_service,
        admin_url=infra.admin_url,
        service_url=url,
        schema=spec.schema,
        script_location=spec.migrations,
    )
    return url
