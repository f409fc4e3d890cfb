"""YouTube through Google OAuth: offline access with forced consent (so Google sends a refresh
token every time), PKCE, a refresh token that does not rotate, and ``channels.list?mine=true``
for the profile. YouTube sends its counts as strings.

Quota: 10,000 units a day reset at midnight Pacific (403 ``quotaExceeded``); short bursts answer
429 ``rateLimitExceeded``. Neither carries a header saying when to retry.
"""

from __future__ import annotations

import httpx

from socialseed.platforms.base import ErrorKind, Platform, PlatformError, Profile, TokenSet
from socialseed.platforms.oauth2 import OAuth2Provider
from socialseed.platforms.parsing import JSON, as_int, seconds_until_midnight
from socialseed.platforms.provider import Call

ACCOUNTS = "https://accounts.google.com"
OAUTH = "https://oauth2.googleapis.com"
API = "https://www.googleapis.com"
SCOPES = "https://www.googleapis.com/auth/"
QUOTA_REASONS = frozenset({"quotaExceeded", "dailyLimitExceeded"})
BURST_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded"})


class YouTubeProvider(OAuth2Provider):
    platform = Platform.YOUTUBE
    name = "YouTube"
    rotating_refresh = False
    default_scopes = (
        SCOPES + "youtube.upload",
        SCOPES + "youtube.readonly",
        SCOPES + "yt-analytics.readonly",
    )
    authorize_endpoint = (ACCOUNTS, "/o/oauth2/v2/auth")
    token_endpoint = (OAUTH, "/token")
    revoke_endpoint = (OAUTH, "/revoke")
    # Without prompt=consent Google sends a refresh token only on the first consent.
    extra_authorize_params = {"access_type": "offline", "prompt": "consent"}
    pkce = True
    revoke_with_client = False

    def revocable(self, tokens: TokenSet) -> list[tuple[str, str | None]]:
        # Revoking the refresh token ends the whole grant, and it outlives the access token.
        return [(tokens.refresh_token or tokens.access_token, None)]

    def api_error(self, response: httpx.Response, body: JSON) -> PlatformError:
        error = body.get("error") if isinstance(body.get("error"), dict) else {}
        assert isinstance(error, dict)
        reasons = {str(e.get("reason")) for e in error.get("errors") or [] if isinstance(e, dict)}
        code = next(iter(sorted(reasons)), None) or str(error.get("status") or "") or None
        message = str(error.get("message") or "") or None
        status = response.status_code
        if status == 401:
            return self.fail(
                ErrorKind.REAUTH_REQUIRED,
                response,
                detail="says this connection's access token is no longer valid",
                code=code,
            )
        if reasons & QUOTA_REASONS:
            wait = seconds_until_midnight(self.clock(), "America/Los_Angeles")
            return self.rate_limited(response, wait, detail="daily quota used up", code=code)
        if status == 429 or reasons & BURST_REASONS:
            return self.rate_limited(response, None, code=code)
        if "insufficientPermissions" in reasons:
            return self.fail(
                ErrorKind.REAUTH_REQUIRED,
                response,
                detail="says this connection lacks a permission SocialSeed needs",
                code=code,
            )
        return self.by_status(response, message, code)

    async def profile(self, tokens: TokenSet) -> Profile:
        body = await self.send_json(
            Call.API,
            "GET",
            self.url((API, "/youtube/v3/channels")),
            params={"mine": "true", "part": "snippet,statistics"},
            headers=self.bearer(tokens),
        )
        items = body.get("items") or []
        if not items:
            raise self.fail(
                ErrorKind.PERMANENT,
                None,
                detail="this Google account has no YouTube channel; create one, then connect it",
                code="no_channel",
            )
        channel = items[0]
        snippet = channel.get("snippet") or {}
        stats = channel.get("statistics") or {}
        thumbnails = snippet.get("thumbnails") or {}
        avatar = (thumbnails.get("default") or {}).get("url")
        hidden = bool(stats.get("hiddenSubscriberCount"))
        return Profile(
            platform_user_id=str(channel.get("id") or ""),
            username=str(snippet.get("customUrl") or snippet.get("title") or ""),
            display_name=str(snippet.get("title") or ""),
            avatar_url=avatar,
            followers=None if hidden else as_int(stats.get("subscriberCount")),
            post_count=as_int(stats.get("videoCount")),
        )
