"""TikTok: Login Kit v2 (``client_key``, comma-separated scopes, rotating refresh tokens) and the
Display API's ``user/info`` for the profile.

TikTok wraps every API answer in ``{"data": ..., "error": {"code", "message", "log_id"}}`` and a
failure may come with HTTP 200 and a non-``ok`` code, so success is decided by ``error.code``.
"""

from __future__ import annotations

import httpx

from socialseed.platforms.base import ErrorKind, Platform, PlatformError, Profile, TokenSet
from socialseed.platforms.oauth2 import OAuth2Provider
from socialseed.platforms.parsing import JSON, as_int, json_object
from socialseed.platforms.provider import Call

WWW = "https://www.tiktok.com"
API = "https://open.tiktokapis.com"

# user/info fields, by the scope that unlocks them (asking for a field whose scope was not
# granted fails the whole call with scope_not_authorized).
BASIC_FIELDS = ("open_id", "union_id", "avatar_url", "display_name")
SCOPED_FIELDS = {
    "user.info.profile": ("username",),
    "user.info.stats": ("follower_count", "following_count", "likes_count", "video_count"),
}
REAUTH_CODES = {
    "access_token_invalid": "says the access token is no longer valid (expired or revoked)",
    "scope_not_authorized": "says this connection lacks a permission SocialSeed needs",
}
# Publishing caps that free up over a rolling day: worth retrying, but not soon.
DAILY_CAP_CODES = ("spam_risk_too_many_posts", "spam_risk_too_many_pending_share")
DAILY_CAP_RETRY = 3600.0


def envelope_error(body: JSON) -> JSON:
    error = body.get("error")
    return error if isinstance(error, dict) else {}


class TikTokProvider(OAuth2Provider):
    platform = Platform.TIKTOK
    name = "TikTok"
    rotating_refresh = True
    default_scopes = (
        "user.info.basic",
        "user.info.profile",
        "user.info.stats",
        "video.list",
        "video.publish",
        "video.upload",
    )
    # Its limits are per minute (sliding) and its 429 names no reset time.
    default_retry_after = 60.0
    authorize_endpoint = (WWW, "/v2/auth/authorize/")
    token_endpoint = (API, "/v2/oauth/token/")
    revoke_endpoint = (API, "/v2/oauth/revoke/")
    scope_separator = ","
    client_id_param = "client_key"
    # PKCE is only for TikTok's mobile and desktop SDKs; a web app authenticates with its secret.
    pkce = False

    def token_set(
        self,
        body: JSON,
        *,
        previous: TokenSet | None = None,
        platform_user_id: str | None = None,
    ) -> TokenSet:
        # The token response names the user (open_id).
        open_id = body.get("open_id")
        user_id = platform_user_id or (str(open_id) if open_id else None)
        return super().token_set(body, previous=previous, platform_user_id=user_id)

    def classify(self, response: httpx.Response, call: Call) -> PlatformError | None:
        if call is not Call.API:
            return super().classify(response, call)
        body = json_object(response) or {}
        if response.is_success and envelope_error(body).get("code", "ok") == "ok":
            return None
        return self.api_error(response, body)

    def api_error(self, response: httpx.Response, body: JSON) -> PlatformError:
        error = envelope_error(body)
        code = str(error.get("code") or "") or None
        message = str(error.get("message") or "") or None
        if code in REAUTH_CODES:
            return self.fail(
                ErrorKind.REAUTH_REQUIRED, response, detail=REAUTH_CODES[code], code=code
            )
        if code == "rate_limit_exceeded":
            return self.rate_limited(response, None, code=code)
        if code in DAILY_CAP_CODES:
            return self.rate_limited(response, DAILY_CAP_RETRY, detail=message, code=code)
        if code == "reached_active_user_cap":
            return self.fail(ErrorKind.PERMANENT, response, detail=message, code=code)
        if code == "internal_error":
            return self.fail(ErrorKind.TRANSIENT, response, code=code)
        if response.is_success:  # HTTP 200 carrying a non-ok code
            return self.fail(ErrorKind.BAD_REQUEST, response, detail=message, code=code)
        return self.by_status(response, message, code)

    async def profile(self, tokens: TokenSet) -> Profile:
        fields = list(BASIC_FIELDS)
        for scope, scoped in SCOPED_FIELDS.items():
            # Unknown scopes (not stored): ask for everything and let TikTok say what is missing.
            if not tokens.scopes or scope in tokens.scopes:
                fields += scoped
        body = await self.send_json(
            Call.API,
            "GET",
            self.url((API, "/v2/user/info/")),
            params={"fields": ",".join(fields)},
            headers=self.bearer(tokens),
        )
        user = body.get("data", {}).get("user", {})
        display_name = str(user.get("display_name") or "")
        return Profile(
            platform_user_id=str(user.get("open_id") or tokens.platform_user_id or ""),
            username=str(user.get("username") or display_name),
            display_name=display_name,
            avatar_url=user.get("avatar_url"),
            followers=as_int(user.get("follower_count")),
            following=as_int(user.get("following_count")),
            post_count=as_int(user.get("video_count")),
        )
