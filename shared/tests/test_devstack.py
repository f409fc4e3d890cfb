"""Smoke test of the local infrastructure runtime: real Postgres and real Kafka, briefly."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from socialseed.devstack import LocalKafka, LocalPostgres
from socialseed.devstack.kafka import kafka_version
from socialseed.devstack.procs import free_port

pytestmark = pytest.mark.timeout(300)  # the first run on a machine fetches the Kafka jars


def test_postgres_select_1(tmp_path: Path) -> None:
    with LocalPostgres(tmp_path / "pg", port=free_port(), fast=True) as pg:
        pg.ensure_database("smoke")
        pg.ensure_database("smoke")  # idempotent

        async def query() -> tuple[int, str]:
            conn = await asyncpg.connect(pg.url("smoke"))
            try:
                return await conn.fetchval("SELECT 1"), await conn.fetchval("SHOW fsync")
            finally:
                await conn.close()

        assert asyncio.run(query()) == (1, "off")
        assert pg.running
    assert not pg.running
    pg.stop()  # idempotent


def test_kafka_produce_consume(tmp_path: Path) -> None:
    topic = f"smoke.{uuid.uuid4().hex[:8]}"
    with LocalKafka(tmp_path / "kafka", port=free_port(), fast=True) as kafka:
        kafka.create_topics([topic])
        kafka.create_topics([topic])  # idempotent

        async def roundtrip() -> bytes | None:
            producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap)
            await producer.start()
            try:
                await producer.send_and_wait(topic, b"hello", key=b"k")
            finally:
                await producer.stop()
            consumer = AIOKafkaConsumer(
                topic,
                bootstrap_servers=kafka.bootstrap,
                group_id="smoke",
                auto_offset_reset="earliest",
            )
            await consumer.start()
            try:
                msg = await asyncio.wait_for(consumer.getone(), timeout=30)
                return msg.value
            finally:
                await consumer.stop()

        assert asyncio.run(roundtrip()) == b"hello"
        assert (kafka.log_dir / "server.log").stat().st_size > 0
    assert not kafka.running
    kafka.stop()  # idempotent


def test_a_first_run_jar_fetch_reports_its_progress_in_plain_lines(tmp_path: Path) -> None:
    """An empty jar cache is filled by Maven (from its local repository once a machine has
    fetched them), with a start and an end line where no terminal is attached."""
    libs = tmp_path / "libs"
    run = subprocess.run(
        [sys.executable, "-c", "from socialseed.devstack.kafka import ensure_jars; ensure_jars()"],
        env=os.environ | {"SOCIALSEED_KAFKA_LIBS": str(libs)},
        capture_output=True,
        text=True,
        check=True,
    )
    version = kafka_version()
    lines = run.stderr.splitlines()
    assert lines[0] == f"fetching Apache Kafka {version} (first run only) ...", run.stderr
    assert re.fullmatch(
        rf"fetching Apache Kafka {version} \(first run only\): done \(.*s\)", lines[-1]
    )
    assert "\x1b[" not in run.stderr
    assert (libs / f"kafka_2.13-{version}.jar").is_file()
