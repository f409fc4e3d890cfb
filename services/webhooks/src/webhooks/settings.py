from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from socialseed.settings import ServiceSettings

# A valid Fernet key that is obviously a development default (refused outside dev mode).
DEV_SECRET_KEY = "dev-only" + "B" * 35 + "="

#: Seconds to wait after each failed attempt: the schedule receivers of Standard Webhooks
#: senders know (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h): eight attempts in about 28 hours.
RETRY_SCHEDULE = [5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 36000.0]


class WebhooksSettings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="WEBHOOKS_", env_nested_delimiter="__", extra="ignore"
    )

    service_name: str = "webhooks"
    database_url: str = "postgresql+asyncpg://webhooks:dev-only-webhooks@127.0.0.1:54320/socialseed"

    # Fernet keys for the endpoints' signing secrets at rest, newest first: encrypt with the
    # first, decrypt with any (prepend a new key to rotate).
    secret_keys: list[SecretStr] = Field(default_factory=lambda: [SecretStr(DEV_SECRET_KEY)])
    # Delays after each failed attempt; after the last one fails the endpoint is disabled.
    retry_schedule: list[float] = Field(default_factory=lambda: list(RETRY_SCHEDULE), min_length=1)
    # Each delay is moved by up to this share of itself, at random (so endpoints that failed
    # together are not retried together).
    retry_jitter: float = Field(default=0.1, ge=0.0, le=0.5)
    # One attempt: connect, send and read the answer within this many seconds.
    timeout: float = Field(default=10.0, gt=0)
    # The receiver's answer is read up to this many bytes (kept for the deliveries list).
    max_response_bytes: int = Field(default=4096, ge=0)
    # Attempts in flight at once in one process (one per endpoint at a time).
    concurrency: int = Field(default=16, ge=1)
    # How often the sender looks for due deliveries (it is also woken by new ones).
    poll_interval: float = Field(default=1.0, gt=0)
    # Finished deliveries (succeeded or failed for good) are deleted this many days after they
    # were queued, by one leader across replicas every ``purge_interval`` seconds.
    delivery_retention_days: float = Field(default=30.0, gt=0)
    purge_interval: float = Field(default=3600.0, gt=0)
    # Loopback, private and plain-http URLs are refused outside development mode; link-local
    # and cloud metadata addresses always. None: follow dev_mode.
    allow_private_urls: bool | None = None

    @property
    def private_urls_allowed(self) -> bool:
        return self.dev_mode if self.allow_private_urls is None else self.allow_private_urls
