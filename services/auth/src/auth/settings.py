from __future__ import annotations

import ipaddress
from functools import cached_property
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from socialseed.settings import ServiceSettings


class AuthSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="AUTH_", extra="ignore")

    service_name: str = "auth"
    database_url: str = "postgresql+asyncpg://auth:dev-only-auth@127.0.0.1:54320/socialseed"

    # Ed25519 signing key (PEM). In dev mode a key is generated into this file when missing.
    jwt_private_key: SecretStr | None = None
    jwt_private_key_file: Path = Path(".data/auth/jwt-ed25519.pem")
    access_token_ttl: int = 900
    refresh_token_ttl: int = 30 * 24 * 3600
    # Absolute lifetime of a refresh-token family: rotation never extends a session beyond it.
    refresh_family_ttl: int = 90 * 24 * 3600
    # How often dead refresh-token families and old closed invitations are deleted (seconds).
    housekeeping_interval: float = 3600.0

    # API keys: the pepper of their keyed hashes (HMAC-SHA256; changing it invalidates every
    # key), the lifetime of the access token the gateway gets for a key, and the callers of
    # the exchange (service name -> shared secret, Bearer).
    api_key_pepper: SecretStr = SecretStr("dev-only-api-key-pepper")
    api_key_token_ttl: int = 120
    internal_tokens: dict[str, SecretStr] = Field(
        default_factory=lambda: {"gateway": SecretStr("dev-only-gateway")}
    )

    # Seconds a workspace invitation stays acceptable.
    invitation_ttl: int = 7 * 24 * 3600

    # Argon2id parameters (OWASP / ASVS minimum: 19 MiB, t=2, p=1). Raising them makes every
    # login rehash old hashes with the new parameters.
    argon2_time_cost: int = 2
    argon2_memory_kib: int = 19 * 1024
    argon2_parallelism: int = 1

    # Peers whose X-Forwarded-For is believed (the gateway): addresses or networks in CIDR
    # notation (a container network's or a cluster's pod range, where the gateway's own
    # address is only known once it runs). Anyone in these ranges can name any client address.
    trusted_proxies: list[str] = ["127.0.0.1", "::1"]
    login_limit_per_ip: str = "30/minute"
    login_limit_per_ip_and_email: str = "10/minute"
    # Attempts against one email from all addresses together: distributed credential stuffing
    # (many IPs, one account) is stopped here. Unknown emails are counted the same way.
    login_limit_per_email: str = "20/minute"

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for item in value:
            ipaddress.ip_network(item, strict=False)  # a ValueError names the bad entry
        return value

    @cached_property
    def trusted_networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        return tuple(ipaddress.ip_network(item, strict=False) for item in self.trusted_proxies)
