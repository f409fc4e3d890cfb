"""Platform providers: one module per platform, all implementing ``Provider`` (see ``provider``).

    providers = build_providers(settings.platforms, httpx.AsyncClient())
    authorization = providers[Platform.X].authorize(state=state, redirect_uri=callback)

How failures are classified, and what ``REAUTH_REQUIRED`` means where, is told in ``provider``.
"""

from __future__ import annotations

from typing import Literal

import httpx

from socialseed.budgets.rules import Rule
from socialseed.platforms.base import (
    ACCOUNT_METRICS,
    POST_METRICS,
    AccountMetrics,
    Authorization,
    Connection,
    ErrorKind,
    ItemFailure,
    ListedPost,
    MediaKind,
    MetricsBatch,
    MetricsGap,
    Pending,
    Platform,
    PlatformCredentials,
    PlatformError,
    PlatformMedia,
    PlatformPost,
    PlatformsConfig,
    PostListing,
    PostMetrics,
    Profile,
    PublishedPost,
    RateSignal,
    TokenSet,
)
from socialseed.platforms.facebook import FacebookProvider
from socialseed.platforms.instagram import InstagramProvider
from socialseed.platforms.linkedin import LinkedInProvider
from socialseed.platforms.parsing import utcnow
from socialseed.platforms.provider import BaseProvider, Clock, Provider, ProviderClass
from socialseed.platforms.tiktok import TikTokProvider
from socialseed.platforms.x import XProvider
from socialseed.platforms.youtube import YouTubeProvider

PROVIDERS: dict[Platform, ProviderClass] = {
    Platform.TIKTOK: TikTokProvider,
    Platform.INSTAGRAM: InstagramProvider,
    Platform.FACEBOOK: FacebookProvider,
    Platform.X: XProvider,
    Platform.LINKEDIN: LinkedInProvider,
    Platform.YOUTUBE: YouTubeProvider,
}


def build_providers(
    config: PlatformsConfig,
    client: httpx.AsyncClient,
    *,
    clock: Clock = utcnow,
    service: str = "unknown",
) -> dict[Platform, Provider]:
    """One provider per platform, sharing ``client`` (its connection pool); ``service`` names
    the caller in ``socialseed_platform_calls_total``."""
    return {
        platform: cls(config, client, clock=clock, service=service)
        for platform, cls in PROVIDERS.items()
    }


__all__ = [
    "ACCOUNT_METRICS",
    "POST_METRICS",
    "PROVIDERS",
    "AccountMetrics",
    "Authorization",
    "BaseProvider",
    "Clock",
    "Connection",
    "ErrorKind",
    "FacebookProvider",
    "InstagramProvider",
    "ItemFailure",
    "LinkedInProvider",
    "ListedPost",
    "MediaKind",
    "MetricsBatch",
    "MetricsGap",
    "Pending",
    "Platform",
    "PlatformCredentials",
    "PlatformError",
    "PlatformMedia",
    "PlatformPost",
    "PlatformsConfig",
    "PostListing",
    "PostMetrics",
    "Profile",
    "Provider",
    "PublishedPost",
    "RateSignal",
    "TikTokProvider",
    "TokenSet",
    "XProvider",
    "YouTubeProvider",
    "build_providers",
    "rate_rules",
]


def rate_rules(kind: Literal["reads", "publishes"]) -> dict[str, list[Rule]]:
    """Each platform's limits of ``kind`` as its provider declares them (``rate_limits``): the
    default of a service's ``budgets`` setting."""
    return {p.value: list(getattr(cls.rate_limits, kind)) for p, cls in PROVIDERS.items()}
