"""Logs as JSON lines: a service run as ``socialseed up`` runs it (``python -m socialseed.run``,
its output in a file, not a terminal) writes one JSON object per line, and a request's lines
name its request id and the trace it belongs to, with secrets masked."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from socialseed.devstack.procs import open_log, tail, terminate
from socialseed.testing import Infra, free_port
from tests.conftest import until

HEX32 = re.compile(r"[0-9a-f]{32}")
HEX16 = re.compile(r"[0-9a-f]{16}")


@dataclass
class Service:
    url: str
    log: Path

    def lines(self) -> list[dict[str, Any]]:
        """Every line of the service's output, each parsed as one JSON object."""
        parsed = []
        for line in self.log.read_text().splitlines():
            try:
                parsed.append(json.loads(line))
            except json.JSONDecodeError:
                raise AssertionError(f"not a JSON line: {line!r}\n{tail(self.log)}") from None
        return parsed


@pytest.fixture(scope="module")
def auth_service(infra: Infra, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """auth, with tracing on, its log format left to choose (``SOCIALSEED_LOG_FORMAT`` unset):
    writing into a file, it chooses JSON. Kafka off: nothing here needs events."""
    folder = tmp_path_factory.mktemp("json-logs")
    port = free_port()
    log = folder / "auth.log"
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("OTEL_") and k != "SOCIALSEED_LOG_FORMAT"
    } | {
        "AUTH_DEV_MODE": "true",
        "AUTH_DATABASE_URL": infra.service_url("auth"),
        "AUTH_KAFKA_ENABLED": "false",
        "AUTH_JWT_PRIVATE_KEY_FILE": str(folder / "jwt.pem"),
        "AUTH_TRACING_ENABLED": "true",  # spans made (exported nowhere)
    }
    cmd = [sys.executable, "-m", "socialseed.run", "auth.app:create_app", "--port", str(port)]
    proc = subprocess.Popen(
        cmd, env=env, stdout=open_log(log), stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        yield Service(f"http://127.0.0.1:{port}", log)
    finally:
        terminate(proc, timeout=15)


@pytest.mark.timeout(300)
async def test_a_requests_log_lines_are_json_with_its_request_and_trace_ids_and_no_secret(
    auth_service: Service,
) -> None:
    async def healthy() -> bool | None:
        try:
            async with httpx.AsyncClient(timeout=30) as client:
                return (await client.get(f"{auth_service.url}/healthz")).status_code == 200 or None
        except httpx.TransportError:
            return None

    await until(healthy, "auth to answer", auth_service.log)
    request_id = f"logs-{uuid.uuid4().hex}"
    trace_id, caller_span = uuid.uuid4().hex, uuid.uuid4().hex[:16]
    secret = f"s3cr3t-{uuid.uuid4().hex[:12]}"
    # auth logs a failed login with the client's address: behind a trusted proxy (loopback
    # here) the last X-Forwarded-For entry, text the client wrote.
    async with httpx.AsyncClient(base_url=auth_service.url, timeout=30) as client:
        r = await client.post(
            "/api/v1/auth/login",
            json={"email": f"nobody-{uuid.uuid4().hex[:8]}@example.com", "password": secret},
            headers={
                "X-Request-ID": request_id,
                "traceparent": f"00-{trace_id}-{caller_span}-01",
                "X-Forwarded-For": f"203.0.113.7 password={secret}",
            },
        )
    assert r.status_code == 401, r.text
    assert r.headers["x-request-id"] == request_id

    async def failed_login_line() -> dict[str, Any] | None:
        return next(
            (line for line in auth_service.lines() if line["request_id"] == request_id), None
        )

    line = await until(failed_login_line, "the failed login's log line", auth_service.log)
    assert line["message"] == "login failed from 203.0.113.7 password=***"
    assert line["level"] == "INFO"
    assert line["logger"] == "auth.users.service"
    assert line["service"] == "auth"
    assert line["trace_id"] == trace_id  # the caller's trace, continued by the server span
    assert HEX16.fullmatch(line["span_id"]) and line["span_id"] != caller_span
    written = datetime.fromisoformat(line["timestamp"])
    assert written.utcoffset() is not None and written.utcoffset().total_seconds() == 0
    assert abs((datetime.now(UTC) - written).total_seconds()) < 300

    lines = auth_service.lines()  # every line JSON: uvicorn's own too
    assert any(x["logger"].startswith("uvicorn") for x in lines)
    outside = [x for x in lines if x["request_id"] is None]
    assert outside and all(x["trace_id"] is None for x in outside)
    assert secret not in auth_service.log.read_text()
