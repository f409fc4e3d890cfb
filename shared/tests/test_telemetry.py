"""Tracing and log redaction are set up by creating an app, never by importing a module."""

from __future__ import annotations

import logging
import subprocess
import sys

from fastapi import FastAPI
from opentelemetry.sdk.trace import TracerProvider

from socialseed.app import Runtime, create_service_app
from socialseed.settings import ServiceSettings

IMPORTS_ONLY = """
import logging, httpx
import socialseed.platforms, socialseed.platforms.redaction, socialseed.telemetry, socialseed.app
import accounts.app, auth.app, gateway.app, accounts.settings, auth.settings, gateway.settings
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
assert logging.getLogger("httpx").filters == [], logging.getLogger("httpx").filters
assert not HTTPXClientInstrumentor().is_instrumented_by_opentelemetry
client = httpx.AsyncClient()
assert not hasattr(client._transport, "_is_instrumented_by_opentelemetry") or not getattr(
    client._transport, "_is_instrumented_by_opentelemetry"
)
print("clean")
"""


def test_importing_the_modules_has_no_side_effects() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", IMPORTS_ONLY], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert "clean" in proc.stdout


def test_an_otlp_endpoint_builds_an_app_with_its_own_tracer_provider() -> None:
    settings = ServiceSettings(
        service_name="probe", otel_exporter_otlp_endpoint="http://127.0.0.1:4318"
    )
    app = create_service_app(Runtime(settings=settings), title="probe", routers=[])
    assert isinstance(app, FastAPI)
    provider = app.state.tracer_provider
    assert isinstance(provider, TracerProvider)
    assert provider.resource.attributes["service.name"] == "probe"
    provider.shutdown()


def test_log_level_configures_logging_at_app_creation() -> None:
    root = logging.getLogger()
    before = root.level
    try:
        settings = ServiceSettings(service_name="probe", log_level="warning")
        create_service_app(Runtime(settings=settings), title="probe", routers=[])
        assert root.level == logging.WARNING
    finally:
        root.setLevel(before)
