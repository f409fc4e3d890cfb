from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from socialseed.platforms.base import PlatformsConfig
from socialseed.settings import ServiceSettings


class PublisherSettings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="PUBLISHER_", env_nested_delimiter="__", extra="ignore"
    )

    service_name: str = "publisher"
    database_url: str = (
        "postgresql+asyncpg://publisher:dev-only-publisher@127.0.0.1:54320/socialseed"
    )
    platforms: PlatformsConfig = PlatformsConfig()

    # Other services, reached directly (not through the gateway).
    accounts_url: str = "http://127.0.0.1:8002"
    auth_url: str = "http://127.0.0.1:8001"
    # This service's secret for accounts' internal token vault (accounts'
    # ACCOUNTS_INTERNAL_TOKENS__PUBLISHER holds the same value).
    vault_token: SecretStr = SecretStr("dev-only-publisher")

    # Posts: how far ahead a post may be scheduled, and the longest thread on X.
    max_schedule_days: int = 365
    max_targets: int = 50
    list_limit_max: int = 200
    # Edits, cancels and approvals of a target are refused once its publishing started.
    # The public base URL media is served from (platforms that pull media fetch it there).
    public_media_url: str = "http://127.0.0.1:8003"
    media_dir: str = ".data/media"
    media_url_ttl: int = 3600
    media_url_key: SecretStr = SecretStr("dev-only-media-url-key")
    max_image_bytes: int = Field(default=8 * 1024 * 1024)
    max_video_bytes: int = Field(default=512 * 1024 * 1024)
