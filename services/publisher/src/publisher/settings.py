from __future__ import annotations

from datetime import timedelta

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from socialseed.budgets.rules import Rule
from socialseed.platforms import rate_rules
from socialseed.settings import CallerSettings


class PublisherSettings(CallerSettings):
    model_config = SettingsConfigDict(
        env_prefix="PUBLISHER_", env_nested_delimiter="__", extra="ignore"
    )

    service_name: str = "publisher"
    # Kafka consumer groups are named from this: "<group>" (projections) and "<group>-workers"
    # (publish commands). Replicas of one deployment share it; a deployment on a database of
    # its own (a test's) needs its own, or its commands go to the other deployment's workers,
    # which do not know the target and drop them.
    consumer_group: str = "publisher"
    database_url: str = (
        "postgresql+asyncpg://publisher:dev-only-publisher@127.0.0.1:54320/socialseed"
    )
    vault_token: SecretStr = SecretStr("dev-only-publisher")

    # Posts: how far ahead a post may be scheduled. (A post's targets and a list's page are
    # bounded in the API schema itself, so that clients see the bounds: ``schemas.py``.)
    max_schedule_days: int = 365
    # Dispatch: targets claimed per turn; the longest sleep between turns when nothing is due
    # sooner (schedule changes wake it at once through NOTIFY); how long a worker holds a
    # claimed target before it counts as dead and the target is reconciled and handed on.
    dispatch_batch: int = 500
    dispatch_idle_wait: float = 30.0
    # Tokens fetched ahead: every ``token_warmup_every`` seconds each worker process fetches
    # the tokens of the accounts with a target due within ``token_warmup_ahead`` seconds
    # (``token_warmup_concurrency`` at a time), so a campaign's first publishes do not all
    # ask the vault at the instant they fall due. 0 ahead: off.
    token_warmup_ahead: float = Field(default=60.0, ge=0.0)
    token_warmup_every: float = Field(default=10.0, gt=0.0)
    token_warmup_concurrency: int = Field(default=4, ge=1)
    # The lease is renewed every third of it while the worker's step runs, so it can be
    # short: a killed worker's targets are handed on this soon after its last renewal.
    publish_lease: float = Field(default=30.0, ge=3.0)
    # One publish step (all of its platform calls) ends within this, and within the lease
    # as last renewed less a third of it (a worker that cannot renew stops first).
    publish_step_timeout: float = 60.0
    # Publishes in flight per worker process (also the most commands taken in one batch,
    # and each platform's pool of kept-alive connections).
    publish_concurrency: int = Field(default=256, ge=1)
    # How long the commands' consumer waits to fill a batch.
    publish_batch_wait_ms: int = Field(default=20, ge=1)
    # Transient failures are retried this many times (exponential backoff with jitter).
    publish_max_attempts: int = 6
    # First comments: how often each process looks for due ones besides being woken when a
    # post with one is published (retries, comments whose worker died), and how many it
    # takes at once. A claimed comment is the worker's for ``publish_lease``; its platform
    # step ends within two thirds of that.
    comment_poll: float = Field(default=2.0, gt=0)
    comment_batch: int = Field(default=50, ge=1)
    # Publishing limits per platform (``socialseed.budgets.rules.Rule``), by default as each
    # platform's provider declares them (``rate_limits.publishes``): each account's rolling
    # cap (X 100 per 15 minutes, ...) and the app-wide windows (X 10,000 and LinkedIn 100,000
    # a day, every workspace's publishes together), counted across replicas in PostgreSQL.
    budgets: dict[str, list[Rule]] = Field(default_factory=lambda: rate_rules("publishes"))
    # A workspace past its fair share of an app-wide limit while other workspaces wait looks
    # again after this long (or at the window's end, if sooner).
    app_share_recheck: timedelta = Field(default=timedelta(minutes=1), gt=timedelta(0))
    # The circuit breaker per platform (in each worker process): this many transient failures
    # in a row stop calls to the platform for ``breaker_cooldown`` seconds, then one step probes.
    breaker_threshold: int = 5
    breaker_cooldown: float = 60.0
    # The public base URL media is served from (platforms that pull media fetch it there).
    public_media_url: str = "http://127.0.0.1:8003"
    media_dir: str = ".data/media"
    media_url_ttl: int = 3600
    media_url_key: SecretStr = SecretStr("dev-only-media-url-key")
    max_image_bytes: int = Field(default=8 * 1024 * 1024)
    max_video_bytes: int = Field(default=512 * 1024 * 1024)
    # Uploads are probed in a child process with these bounds (publisher.media.probe). The
    # child's address space: about 130 MiB once Pillow and PyAV are loaded, about 220 MiB at
    # the peak of probing an 8K H.264 video (the largest frame any platform takes), so 512 MiB
    # leaves room for any real upload and stops a decoder run wild at half of what one
    # decompression bomb took in-process (1 GiB). CPU seconds and a wall-clock timeout (a file
    # that blocks, a loaded host) bound the time; probes at once per process bound the sum.
    probe_memory_bytes: int = 512 * 1024 * 1024
    probe_cpu_seconds: int = Field(default=10, ge=1)
    probe_timeout: float = Field(default=30.0, gt=0)
    probe_concurrency: int = Field(default=2, ge=1)
