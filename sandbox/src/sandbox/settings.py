"""Sandbox settings (env prefix ``SANDBOX_``).

Every value the platforms disagree on, or changed recently (⚠ in docs/platforms.md), is a setting
so tests and demos can pick either behaviour.
"""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict

PLATFORMS = ("tiktok", "instagram", "facebook", "x", "linkedin", "youtube")

DAY = 86_400


class SandboxSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SANDBOX_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8900
    log_level: str = "warning"
    # Added to every request before it is handled (e.g. 50 for realism); faults add more.
    base_latency_ms: int = 0
    # Drives every metric curve and seeded history: same seed, same numbers.
    seed: int = 42

    # One registered app per platform.
    client_id: str = "socialseed-local"
    client_secret: str = "socialseed-local-secret"
    redirect_hosts: list[str] = ["http://127.0.0.1:8000", "http://localhost:8000"]
    redirect_path: str = "/api/v1/oauth/{platform}/callback"
    # Extra registered redirect URIs, for every platform.
    extra_redirect_uris: list[str] = []

    # Token lifetimes in seconds (⚠ TikTok: classic 24 h / 365 d, newest pages 2 h / 180 d).
    tiktok_access_token_ttl: int = 86_400
    tiktok_refresh_token_ttl: int = 365 * DAY
    tiktok_code_ttl: int = 600
    x_access_token_ttl: int = 7_200
    x_refresh_token_ttl: int = 180 * DAY
    x_code_ttl: int = 30
    instagram_short_token_ttl: int = 3_600
    instagram_access_token_ttl: int = 60 * DAY
    instagram_code_ttl: int = 3_600
    facebook_short_token_ttl: int = 3_600
    facebook_access_token_ttl: int = 60 * DAY
    facebook_code_ttl: int = 600
    linkedin_access_token_ttl: int = 60 * DAY
    linkedin_refresh_token_ttl: int = 365 * DAY
    linkedin_code_ttl: int = 1_800
    # Refresh tokens are only issued to LinkedIn's approved partners; everyone else re-authorizes.
    linkedin_refresh_tokens: bool = False
    youtube_access_token_ttl: int = 3_599
    # Google ends refresh tokens unused for 6 months, or after 7 days for apps in "testing".
    youtube_refresh_token_ttl: int = 180 * DAY
    youtube_testing_app: bool = False
    youtube_code_ttl: int = 600

    # Accounts created on first consent.
    history_posts: int = 5
    facebook_pages_per_user: int = 2

    # Publishing caps.
    instagram_publish_cap: int = 100  # ⚠ guide says 100, reference quota_total 50
    instagram_container_cap: int = 400
    tiktok_daily_post_cap: int = 15
    tiktok_max_pending_drafts: int = 5
    tiktok_audited: bool = True  # unaudited clients: SELF_ONLY only, 5 users / 24 h
    tiktok_unaudited_user_cap: int = 5
    # PULL_FROM_URL only takes URLs of the app's verified domains (HTTPS, subdomains included)
    # or verified URL prefixes; the local publisher's media URLs are verified by default.
    tiktok_verified_domains: list[str] = []
    tiktok_verified_url_prefixes: list[str] = ["http://127.0.0.1:8003/", "http://localhost:8003/"]
    tiktok_pull_timeout_seconds: float = 30.0
    tiktok_pull_max_bytes: int = 4 * 1024 * 1024 * 1024  # TikTok's 4 GB video limit
    tiktok_max_video_post_duration_sec: int = 600  # creator_info default, per creator in control
    x_tweets_per_15min: int = 100
    x_tweets_per_day_app: int = 10_000
    x_tweets_per_day_user: int = 2_400
    linkedin_posts_per_day: int = 150
    facebook_posts_per_minute: int = 10  # faster posting answers 368 / 1390008
    youtube_uploads_per_day: int = 100

    # Rate limits.
    x_read_limit_15min: int = 5_000  # GET /2/tweets per user
    x_me_limit_15min: int = 75  # GET /2/users/me per user
    tiktok_client_limit_per_min: int = 600
    tiktok_creator_info_per_min: int = 20
    tiktok_init_per_min: int = 6
    tiktok_status_per_min: int = 30
    meta_calls_per_user_hour: int = 200  # app limit = this x number of users (code 4)
    meta_user_calls_per_hour: int = 200  # one user's own token calls (code 17)
    meta_page_platform_calls_per_hour: int = 4_800  # user-token calls on one page (code 32)
    meta_page_calls_per_hour: int = 4_800
    meta_instagram_calls_per_hour: int = 4_800
    # Code 613 "calls within one hour exceeded": Meta's custom throttles of single endpoints,
    # per endpoint ("<METHOD> <template>" as in /_sandbox/stats) and per user/page/IG account.
    # Insights reads are the classic case; add any endpoint, or {} to turn them off.
    facebook_endpoint_calls_per_hour: dict[str, int] = {
        "GET /{page-id}/insights": 200,
        "GET /{post-id}/insights": 200,
    }
    instagram_endpoint_calls_per_hour: dict[str, int] = {
        "GET /{ig-media-id}/insights": 200,
        "GET /{ig-user-id}/insights": 200,
    }
    linkedin_member_calls_per_day: int = 100_000
    linkedin_app_calls_per_day: int = 1_000_000
    youtube_daily_quota: int = 10_000
    youtube_calls_per_minute: int = 3_000  # per user; beyond it 429 rateLimitExceeded
    youtube_upload_units: int = 0  # ⚠ older docs: 1,600 units per videos.insert

    # Simulated processing times (sandbox clock seconds).
    processing_seconds: int = 10
    tiktok_moderation_seconds: int = 30
    linkedin_duplicate_window: int = 600
    x_duplicate_window: int = DAY
    facebook_duplicate_window: int = DAY
    linkedin_version_window_months: int = 12
    # LinkedIn splits video uploads into 4 MB parts (one upload URL and ETag each).
    linkedin_video_part_bytes: int = 4 * 1024 * 1024
    # Insights below this reach answer "(#10) Not enough viewers".
    instagram_min_insight_reach: int = 5
    # Instagram insights lag up to 48 h: they report the metrics as they were this long ago
    # (0 for live numbers in demos). Quick counters (like_count...) never lag.
    instagram_insights_lag_seconds: int = 48 * 3_600
    # Instagram keeps insights 2 years: older media answer an empty set.
    instagram_insights_retention_days: int = 730

    def redirect_uris(self, platform: str) -> list[str]:
        path = self.redirect_path.format(platform=platform)
        return [host.rstrip("/") + path for host in self.redirect_hosts] + self.extra_redirect_uris
