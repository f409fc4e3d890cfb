"""The local stack's shape: which services exist, their ports, schemas and topics.

Shared by ``socialseed up`` and the pytest harness so both build the same system.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from socialseed.bus import dlq_topic
from socialseed.contracts import TOPICS
from socialseed.migrate import migrate_service

DATABASE = "socialseed"


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    app: str  # "<module>:<factory>" for uvicorn --factory
    port: int
    env_prefix: str
    schema: str | None = None  # services with a database own one schema and one role
    health: str = "/healthz"

    @property
    def migrations(self) -> Path:
        module = importlib.import_module(self.app.split(":")[0])
        path: Path = module.MIGRATIONS
        return path

    def role_password(self) -> str:
        # Local-only credentials (the dev cluster trusts loopback); production sets the
        # service's DATABASE_URL with a real password.
        return f"dev-only-{self.name}"

    def database_url(self, host: str, port: int, database: str = DATABASE) -> str:
        assert self.schema
        return f"postgresql+asyncpg://{self.schema}:{self.role_password()}@{host}:{port}/{database}"


SERVICES: tuple[ServiceSpec, ...] = (
    ServiceSpec("auth", "auth.app:create_app", 8001, "AUTH_", schema="auth"),
    ServiceSpec("accounts", "accounts.app:create_app", 8002, "ACCOUNTS_", schema="accounts"),
    ServiceSpec("publisher", "publisher.app:create_app", 8003, "PUBLISHER_", schema="publisher"),
    ServiceSpec("analytics", "analytics.app:create_app", 8004, "ANALYTICS_", schema="analytics"),
    ServiceSpec("webhooks", "webhooks.app:create_app", 8005, "WEBHOOKS_", schema="webhooks"),
    ServiceSpec("gateway", "gateway.app:create_app", 8000, "GATEWAY_"),
)
# Dev and test tooling, not a product service: the platforms' emulator.
SANDBOX = ServiceSpec(
    "sandbox", "sandbox.app:create_app", 8900, "SANDBOX_", health="/_sandbox/healthz"
)


def all_topics() -> list[str]:
    """Every topic, created explicitly (the broker does not auto-create)."""
    return [t for topic in TOPICS for t in (topic, dlq_topic(topic))]


def migrate(
    specs: Iterable[ServiceSpec], *, admin_url: str, host: str, port: int, database: str = DATABASE
) -> None:
    for spec in specs:
        if spec.schema:
            migrate_service(
                admin_url=admin_url,
                service_url=spec.database_url(host, port, database),
                schema=spec.schema,
                script_location=spec.migrations,
            )
