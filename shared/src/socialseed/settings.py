"""Settings shared by every service; each service subclasses with its own env prefix."""

from __future__ import annotations

from pydantic import SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET_MARKER = "dev-only"


class ServiceSettings(BaseSettings):
    """Fields every service has. Subclasses set ``env_prefix`` (``AUTH_``, ``GATEWAY_`` ...)."""

    model_config = SettingsConfigDict(extra="ignore", env_file=None)

    service_name: str = "socialseed"
    dev_mode: bool = True
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "INFO"

    database_url: str = ""
    db_schema: str = ""
    db_pool_size: int = 10

    kafka_bootstrap: str = "127.0.0.1:19092"
    kafka_enabled: bool = True
    outbox_poll_interval: float = 0.5

    jwks_url: str = "http://127.0.0.1:8001/.well-known/jwks.json"
    jwt_issuer: str = "socialseed-auth"
    jwt_audience: str = "socialseed"

    otel_exporter_otlp_endpoint: str | None = None

    @model_validator(mode="after")
    def _refuse_dev_secrets(self) -> ServiceSettings:
        if self.dev_mode:
            return self
        for name, value in self:
            if isinstance(value, SecretStr) and DEV_SECRET_MARKER in value.get_secret_value():
                raise ValueError(f"{name} still holds a development default; set a real secret")
        return self
