from __future__ import annotations

from urllib.parse import urlsplit

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from socialseed.platforms.base import PlatformsConfig
from socialseed.settings import ServiceSettings

# A valid Fernet key that is obviously a development default (refused outside dev mode).
DEV_TOKEN_KEY = "dev-only" + "A" * 35 + "="


class AccountsSettings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="ACCOUNTS_", env_nested_delimiter="__", extra="ignore"
    )

    service_name: str = "accounts"
    database_url: str = "postgresql+asyncpg://accounts:dev-only-accounts@127.0.0.1:54320/socialseed"

    platforms: PlatformsConfig = PlatformsConfig()
    # Fernet keys (urlsafe base64, 32 bytes), newest first: encrypt with the first, decrypt with
    # any. Rotate by prepending a new key and running `socialseed-accounts rotate-keys`.
    token_keys: list[SecretStr] = Field(default_factory=lambda: [SecretStr(DEV_TOKEN_KEY)])
    # The public base URL the platforms redirect back to (the gateway).
    public_base_url: str = "http://127.0.0.1:8000"
    # Where a finished connect flow may send the browser (exact origins; no open redirect).
    allowed_redirect_origins: list[str] = Field(
        default_factory=lambda: ["http://localhost:3000", "http://127.0.0.1:3000"]
    )
    oauth_state_ttl: int = 600
    # Tokens are refreshed when they expire within this many seconds (or within half their
    # lifetime, for short-lived tokens).
    refresh_lead: int = 300
    background_refresh_lead: int = 900
    # A token refresh holds its account's row lock (and so a pooled connection) for the
    # platform call: at most this many run at once per platform, and a refresh waiting for
    # another's row lock gives up after platforms.refresh_budget + refresh_lock_slack seconds.
    refresh_concurrency: int = 4
    refresh_lock_slack: float = 5.0
    refresher_interval: float = 15.0
    profile_sync_interval: int = 24 * 3600
    # ``account.token_expiring`` is sent this many days before a grant that only a person can
    # renew runs out (a refresh token's own end, or an access token without a refresh token).
    token_expiry_warning_days: int = Field(default=7, ge=1)
    # Callers of the internal token vault: service name -> shared secret (Bearer).
    internal_tokens: dict[str, SecretStr] = Field(
        default_factory=lambda: {
            "publisher": SecretStr("dev-only-publisher"),
            "analytics": SecretStr("dev-only-analytics"),
        }
    )

    def redirect_origins(self) -> set[str]:
        """Origins a connect may send the browser back to: the configured ones, and the
        gateway's own (``public_base_url``), which serves the web app."""
        base = urlsplit(self.public_base_url)
        return {*self.allowed_redirect_origins, f"{base.scheme}://{base.netloc}"}
