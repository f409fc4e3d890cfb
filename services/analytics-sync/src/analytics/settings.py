from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import SettingsConfigDict

from socialseed.budgets.rules import Rule
from socialseed.platforms import rate_rules
from socialseed.settings import CallerSettings


class ScheduleTier(BaseModel):
    """Posts younger than ``younger_than`` (``None``: any age) are fetched ``every`` so often.
    Tiers are read in order; the first that fits a post's age wins."""

    younger_than: timedelta | None = None
    every: timedelta


def default_post_schedule() -> list[ScheduleTier]:
    # Metrics move fast in a post's first day and barely at all after three months.
    return [
        ScheduleTier(younger_than=timedelta(days=1), every=timedelta(hours=1)),
        ScheduleTier(younger_than=timedelta(days=7), every=timedelta(hours=6)),
        ScheduleTier(younger_than=timedelta(days=90), every=timedelta(days=1)),
        ScheduleTier(younger_than=None, every=timedelta(days=7)),
    ]


class AnalyticsSettings(CallerSettings):
    model_config = SettingsConfigDict(
        env_prefix="ANALYTICS_", env_nested_delimiter="__", extra="ignore"
    )

    service_name: str = "analytics"
    # Kafka consumer groups are named from this: "<group>" (tracking: projections, published
    # posts) and "<group>-ingest" (metrics.fetched). A deployment on a database of its own (a
    # test's) needs its own group.
    consumer_group: str = "analytics"
    database_url: str = (
        "postgresql+asyncpg://analytics:dev-only-analytics@127.0.0.1:54320/socialseed"
    )
    vault_token: SecretStr = SecretStr("dev-only-analytics")

    # Schedules: how often a post is fetched by its age, and an account's own counters.
    post_schedule: list[ScheduleTier] = Field(default_factory=default_post_schedule)
    account_every: timedelta = timedelta(days=1)
    # A post published through SocialSeed is first fetched this long after it went out (on its
    # account's grid: an account's posts of one burst are fetched in one batch), not at once:
    # in its first minutes a post's counters are mostly zero, and a burst of publishes would
    # otherwise be fetched post by post as it lands. Zero: at once.
    first_fetch_after: timedelta = timedelta(minutes=15)
    # A newly connected account's history is listed this far back.
    backfill_days: int = Field(default=90, ge=1)

    # Raw snapshots are kept this long (the daily rollups forever); partitions are one UTC day
    # each, created this many days ahead by the retention leader every ``retention_interval``.
    raw_retention_days: int = Field(default=90, ge=1)
    partitions_ahead_days: int = Field(default=7, ge=1)
    retention_interval: float = 3600.0

    # Ingestion: metrics.fetched events applied together (one transaction, a few statements).
    ingest_max_records: int = Field(default=500, ge=1)
    ingest_timeout_ms: int = Field(default=100, ge=1)
    # A fetch of a partition's events brings at most this much: a batch of 100 posts with
    # their raw payloads is some 40 KB, so Kafka's 1 MiB default would cap a transaction
    # at two dozen events whatever ``ingest_max_records``.
    ingest_fetch_bytes: int = Field(default=16 * 1024 * 1024, ge=1024)
    # Fetching: the lease a fetcher holds what it claimed for (one account, or one platform
    # batch of an account's due posts, sized by the provider).
    fetch_lease: timedelta = timedelta(minutes=5)
    # Reading: the most rows one list answer holds.
    list_limit_max: int = 200

    # Fetch workers: loops per process (every replica runs them), how long an idle loop waits
    # before looking for due work again.
    fetch_concurrency: int = Field(default=4, ge=0)
    fetch_idle_wait: float = Field(default=1.0, gt=0)
    # Rate budgets of reads per platform (``socialseed.budgets.rules.Rule``), by default as
    # each platform's provider declares them (``rate_limits.reads``); Meta's usage headers stop
    # a bucket above ``meta_usage_threshold`` percent for ``meta_usage_cooloff`` (or the time
    # Meta names).
    budgets: dict[str, list[Rule]] = Field(default_factory=lambda: rate_rules("reads"))
    meta_usage_threshold: float = Field(default=80.0, gt=0, le=100)
    meta_usage_cooloff: timedelta = timedelta(minutes=10)
    # A workspace refused its fair share of an app-wide budget (other workspaces wait) asks
    # again after this long (or when the budget's window ends, if sooner).
    fair_share_recheck: timedelta = Field(default=timedelta(minutes=1), gt=timedelta(0))
    # A refresh asks for at most this many posts; a refresh of what a refresh of the last
    # `refresh_cooldown` already covered is 429 RefreshTooSoon (or, while that one is still
    # running, answered with its sync).
    refresh_limit_max: int = Field(default=10_000, ge=1)
    refresh_cooldown: timedelta = Field(default=timedelta(minutes=5), ge=timedelta(0))
    # The read API (analytics.queries): answers may be cached by the client this long (their
    # ETag changes with new data at once); periods default to the last `default_period_days`
    # (best times: `best_times_days`), a best-times slot needs `best_times_min_posts` posts for
    # a median; a timeseries holds at most `timeseries_max_buckets`; exports are streamed
    # `export_chunk` rows at a time.
    cache_max_age: int = Field(default=30, ge=0)
    default_period_days: int = Field(default=30, ge=1)
    best_times_days: int = Field(default=90, ge=1)
    best_times_min_posts: int = Field(default=3, ge=1)
    timeseries_max_buckets: int = Field(default=5000, ge=1)
    top_posts: int = Field(default=5, ge=1)
    export_chunk: int = Field(default=2000, ge=1)
    # Encoded answers kept per process by ETag (recomputed only when new data lands).
    answer_cache_size: int = Field(default=1024, ge=1)
    # Seconds between the notification listener's heartbeats: a connection silent for longer
    # counts as lost (the in-memory membership and data versions are dropped until it is back).
    notify_heartbeat: float = Field(default=5.0, gt=0)
