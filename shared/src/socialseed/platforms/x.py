"""X: OAuth 2.0 with mandatory PKCE (S256), a confidential client authenticated by HTTP Basic,
single-use rotating refresh tokens (only with ``offline.access``), and ``/2/users/me``.

X answers errors as RFC 7807 problem JSON (``{"title", "type", "status", "detail"}``) and says when
a rate-limit window resets only in ``x-rate-limit-reset`` (epoch seconds; no Retry-After).
"""

from __future__ import annotations

import httpx

from socialseed.platforms.base import ErrorKind, Platform, PlatformError, Profile, TokenSet
from socialseed.platforms.oauth2 import OAuth2Provider
from socialseed.platforms.parsing import JSON, as_int, seconds_until_epoch
from socialseed.platforms.provider import Call

WWW = "https://x.com"
API = "https://api.x.com"


class XProvider(OAuth2Provider):
    platform = Platform.X
    name = "X"
    rotating_refresh = True
    default_scopes = ("tweet.read", "tweet.write", "users.read", "offline.access", "media.write")
    # Windows are 15 minutes long; used when a 429 comes without x-rate-limit-reset.
    default_retry_after = 15 * 60.0
    authorize_endpoint = (WWW, "/i/oauth2/authorize")
    token_endpoint = (API, "/2/oauth2/token")
    revoke_endpoint = (API, "/2/oauth2/revoke")
    basic_auth = True
    pkce = True
    no_refresh_detail = (
        "gave this connection no refresh token (offline.access was not granted), "
        "so it cannot be renewed"
    )

    def revocable(self, tokens: TokenSet) -> list[tuple[str, str | None]]:
        # X revokes exactly the token given: end the refresh token too, or it would live on.
        found: list[tuple[str, str | None]] = [(tokens.access_token, "access_token")]
        if tokens.refresh_token:
            found.insert(0, (tokens.refresh_token, "refresh_token"))
        return found

    def api_error(self, response: httpx.Response, body: JSON) -> PlatformError:
        status = response.status_code
        detail = str(body.get("detail") or body.get("title") or "") or None
        if status == 401:
            return self.fail(
                ErrorKind.REAUTH_REQUIRED,
                response,
                detail="says this connection's access token is no longer valid "
                "(expired or revoked)",
                code="unauthorized",
            )
        if status == 429:
            return self.rate_limited(response, self.rate_limit_reset(response), code="429")
        if status == 403 and detail and "duplicate content" in detail:
            return self.fail(ErrorKind.PERMANENT, response, detail=detail, code="duplicate")
        return self.by_status(response, detail, str(body.get("type") or "") or None)

    def rate_limit_reset(self, response: httpx.Response) -> float | None:
        """Seconds until the exhausted window resets: the daily user or app cap when that is
        what ran out, else the 15-minute endpoint window."""
        now = self.clock()
        headers = response.headers
        for prefix in ("x-user-limit-24hour", "x-app-limit-24hour"):
            if headers.get(f"{prefix}-remaining") == "0":
                wait = seconds_until_epoch(headers.get(f"{prefix}-reset"), now)
                if wait is not None:
                    return wait
        return seconds_until_epoch(headers.get("x-rate-limit-reset"), now)

    async def profile(self, tokens: TokenSet) -> Profile:
        body = await self.send_json(
            Call.API,
            "GET",
            self.url((API, "/2/users/me")),
            params={"user.fields": "name,username,profile_image_url,public_metrics"},
            headers=self.bearer(tokens),
        )
        user = body.get("data") or {}
        metrics = user.get("public_metrics") or {}
        return Profile(
            platform_user_id=str(user.get("id") or ""),
            username=str(user.get("username") or ""),
            display_name=str(user.get("name") or user.get("username") or ""),
            avatar_url=user.get("profile_image_url"),
            followers=as_int(metrics.get("followers_count")),
            following=as_int(metrics.get("following_count")),
            post_count=as_int(metrics.get("tweet_count")),
        )
