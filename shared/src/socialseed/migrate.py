"""Provision a service's schema and role, and run its Alembic migrations.

Each service owns one schema and connects as its own role, which can touch only that schema.
Provisioning runs as a superuser (the local harness or an operator); migrations then run as the
service role, so every object is owned by it.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import asyncpg
from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData, pool, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import create_async_engine

from socialseed.db import async_url

_IDENT = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def _ident(name: str) -> str:
    if not _IDENT.match(name):
        raise ValueError(f"not a safe SQL identifier: {name!r}")
    return name


async def provision(admin_url: str, *, service_url: str, schema: str) -> None:
    """Create the database, the service's login role and its schema (idempotent)."""
    target = make_url(async_url(service_url))
    role, password, database = target.username, target.password, target.database
    assert role and database, "service URL must name a user and a database"
    _ident(role), _ident(schema), _ident(database)
    admin = make_url(async_url(admin_url))
    conn = await asyncpg.connect(
        host=admin.host,
        port=admin.port,
        user=admin.username,
        password=admin.password,
        database=admin.database or "postgres",
    )
    try:
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", database):
            await conn.execute(f'CREATE DATABASE "{database}"')
    finally:
        await conn.close()
    conn = await asyncpg.connect(
        host=admin.host,
        port=admin.port,
        user=admin.username,
        password=admin.password,
        database=database,
    )
    try:
        async with conn.transaction():
            # Serialise concurrent provisioning of the same database (parallel service starts).
            await conn.execute("SELECT pg_advisory_xact_lock(4242)")
            exists = await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", role)
            verb = "ALTER" if exists else "CREATE"
            quoted_pw = (password or "").replace("'", "''")
            await conn.execute(f"{verb} ROLE \"{role}\" LOGIN PASSWORD '{quoted_pw}'")
            await conn.execute("REVOKE ALL ON SCHEMA public FROM PUBLIC")
            await conn.execute(f'GRANT CONNECT ON DATABASE "{database}" TO "{role}"')
            await conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}" AUTHORIZATION "{role}"')
            await conn.execute(f'REVOKE ALL ON SCHEMA "{schema}" FROM PUBLIC')
    finally:
        await conn.close()


def alembic_config(script_location: Path, url: str, schema: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(script_location))
    cfg.set_main_option("sqlalchemy.url", async_url(url).replace("%", "%%"))
    cfg.set_main_option("schema", schema)
    return cfg


def upgrade(script_location: Path, url: str, schema: str, revision: str = "head") -> None:
    """Run ``alembic upgrade``; safe to call from a thread or a sync context."""
    command.upgrade(alembic_config(script_location, url, schema), revision)


def run_env(target_metadata: MetaData) -> None:
    """The body of every service's ``migrations/env.py`` (online mode, async engine)."""
    cfg = context.config
    schema = cfg.get_main_option("schema")
    url = cfg.get_main_option("sqlalchemy.url")
    assert schema and url

    def do_run(connection: Connection) -> None:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            version_table_schema=schema,
            include_schemas=False,
            compare_type=True,
        )
        with context.begin_transaction():
            connection.execute(text(f'SET search_path TO "{_ident(schema)}"'))
            context.run_migrations()

    async def main() -> None:
        engine = create_async_engine(url, poolclass=pool.NullPool)
        async with engine.connect() as conn:
            await conn.run_sync(do_run)
        await engine.dispose()

    asyncio.run(main())


def migrate_service(
    *, admin_url: str | None, service_url: str, schema: str, script_location: Path
) -> None:
    """Provision (when an admin URL is given) and upgrade to head."""
    if admin_url:
        asyncio.run(provision(admin_url, service_url=service_url, schema=schema))
    upgrade(script_location, service_url, schema)
