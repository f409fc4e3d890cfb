from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from socialseed.settings import ServiceSettings


class GatewaySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="GATEWAY_", extra="ignore")

    service_name: str = "gateway"
    kafka_enabled: bool = False
    # Deployed services and their base URLs (JSON in GATEWAY_UPSTREAMS). A route whose
    # service is not deployed answers 404.
    upstreams: dict[str, str] = Field(default_factory=lambda: {"auth": "http://127.0.0.1:8001"})
    # Seconds: to connect to a service, and without a byte from it (request or response
    # streaming), before the request fails with 503 ServiceUnavailable.
    upstream_connect_timeout: float = 3.0
    upstream_timeout: float = 30.0
    # Pooled keep-alive connections to all services together.
    upstream_max_connections: int = Field(default=500, ge=1)
    cors_origins: list[str] = Field(default_factory=lambda: ["http://localhost:3000"])

    # The web app's build (web/dist): served at / with SPA fallback while it holds an
    # index.html. None: the gateway serves the API alone.
    web_dist: Path | None = None

    # API keys (``Bearer ssk_...``): exchanged at auth for an access token with this shared
    # secret (auth's AUTH_INTERNAL_TOKENS__GATEWAY; in dev mode both default to
    # ``dev-only-gateway``; unset outside it, keys are refused with 401). An exchange is reused
    # for at most ``api_key_cache_seconds`` (the bound on a revocation reaching other gateway
    # processes; below auth's api_key_token_ttl, 120 s, so a cached token is always valid).
    api_key_exchange_secret: SecretStr | None = None
    api_key_cache_seconds: float = Field(default=10.0, ge=0, le=60)

    limit_per_ip: str = "600/minute"
    limit_per_user: str = "1200/minute"
    # Login, register and refresh are what credential stuffing hits: much stricter.
    limit_login_per_ip: str = "20/minute"
    openapi_cache_seconds: float = 30.0

    # Request bodies: ``max_body_bytes`` (inherited, 1 MiB) for the JSON API; media uploads
    # get their own, larger ceiling. Counted as the bytes stream through, chunked or not.
    max_media_body_bytes: int = 32 * 1024 * 1024
    # Requests one client (an IP; a user, once authenticated) may have in flight at once,
    # upload and response streaming included; above it: 429 TooManyConcurrentRequests.
    max_in_flight_per_client: int = 32

    def exchange_secret(self) -> str | None:
        if self.api_key_exchange_secret is not None:
            return self.api_key_exchange_secret.get_secret_value()
        return "dev-only-gateway" if self.dev_mode else None
