"""Settings shared by every service; each service subclasses with its own env prefix."""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from socialseed.platforms.base import PlatformsConfig

# Substrings of every development credential committed to this repo (and so public): the
# ``dev-only...`` Fernet key, internal tokens and database role passwords (``dev-only-<role>``),
# and the sandbox's OAuth client secret. None may reach a service running outside dev mode.
DEV_SECRET_MARKERS: tuple[str, ...] = ("dev-only", "socialseed-local-secret")


class DevSecretError(ValueError):
    """A service outside dev mode was configured with a development credential."""


def dev_secret_paths(value: object, path: str = "") -> Iterator[str]:
    """Setting paths (``token_keys[0]``, ``platforms.x.client_secret``) whose value holds a
    development credential. Walks nested models, lists, tuples, sets and dicts; yields paths
    only, never the values."""
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    if isinstance(value, str):
        if any(marker in value for marker in DEV_SECRET_MARKERS):
            yield path
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from dev_secret_paths(getattr(value, name), f"{path}.{name}" if path else name)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from dev_secret_paths(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list | tuple | set | frozenset):
        for i, item in enumerate(value):
            yield from dev_secret_paths(item, f"{path}[{i}]")


class ServiceSettings(BaseSettings):
    """Fields every service has. Subclasses set ``env_prefix`` (``AUTH_``, ``GATEWAY_`` ...)."""

    # Errors never echo the input: it holds secrets.
    model_config = SettingsConfigDict(extra="ignore", env_file=None, hide_input_in_errors=True)

    service_name: str = "socialseed"
    # Off unless asked for: `socialseed up` and the test harness turn it on explicitly.
    dev_mode: bool = False
    log_level: str = "INFO"

    database_url: str = ""
    db_pool_size: int = 20

    kafka_bootstrap: str = "127.0.0.1:19092"
    kafka_enabled: bool = True
    # How long a starting process waits for an unreachable broker before it gives up.
    startup_wait: float = 300.0
    outbox_poll_interval: float = 0.5
    # Processed event ids are kept this long: longer than any topic's retention (Kafka's
    # default is 7 days), so a message that can still be redelivered is still recognised.
    inbox_retention_days: float = 14.0
    # How often each process reads its consumers' lag for socialseed_consumer_lag_messages.
    consumer_lag_interval: float = Field(default=15.0, gt=0)

    jwks_url: str = "http://127.0.0.1:8001/.well-known/jwks.json"
    jwt_issuer: str = "socialseed-auth"
    jwt_audience: str = "socialseed"
    # Access tokens remembered after one signature check, each until its exp (0: check every
    # request). Membership changes are still applied on every request.
    jwt_cache_size: int = Field(default=10_000, ge=0)

    # Tracing is on when an OTLP endpoint is set, or when asked for without one (spans made but
    # not exported, e.g. for a test's own processor). Off, no span is recorded and no
    # instrumentation runs; an incoming traceparent still reaches events and outgoing calls.
    otel_exporter_otlp_endpoint: str | None = None
    tracing_enabled: bool = False
    # With tracing on: the share of new traces recorded (a caller's decision is followed).
    trace_sample_ratio: float = Field(default=0.1, ge=0.0, le=1.0)

    # The largest request body accepted, declared or streamed (413 PayloadTooLarge above).
    max_body_bytes: int = 1024 * 1024

    # Outside dev mode, ``/metrics`` and the per-check details of ``/healthz`` are for
    # operators only: a scraper sends ``Authorization: Bearer <metrics_token>``. Without a
    # token set, ``/metrics`` answers 401 to everyone and ``/healthz`` only its status.
    metrics_token: SecretStr | None = None

    @model_validator(mode="after")
    def _refuse_dev_secrets(self) -> ServiceSettings:
        if self.dev_mode:
            return self
        paths = list(dev_secret_paths(self))
        if paths:
            raise DevSecretError(
                f"{', '.join(paths)} still hold(s) a development default (public in the repo); "
                "set real secrets, or set DEV_MODE=true for local development"
            )
        return self


class CallerSettings(ServiceSettings):
    """A service that calls auth, accounts' token vault and the platforms on an account's
    behalf (the publisher, analytics). Subclasses set ``vault_token``'s development default,
    ``dev-only-<service>``, the value of accounts' ``ACCOUNTS_INTERNAL_TOKENS__<SERVICE>``."""

    platforms: PlatformsConfig = PlatformsConfig()
    # Other services, reached directly (not through the gateway).
    accounts_url: str = "http://127.0.0.1:8002"
    auth_url: str = "http://127.0.0.1:8001"
    # This service's secret for accounts' internal token vault.
    vault_token: SecretStr = SecretStr("")
