"""LinkedIn: 3-legged OAuth on www.linkedin.com, 60-day access tokens, refresh tokens only for
approved partners (otherwise the member consents again), profile from OpenID ``/v2/userinfo``.

LinkedIn gives members no public handle nor follower counts through OpenID, so the profile carries
the name only. Its throttles are daily and reset at midnight UTC; a 429 carries no headers.
"""

from __future__ import annotations

import httpx

from socialseed.platforms.base import ErrorKind, Platform, PlatformError, Profile, TokenSet
from socialseed.platforms.oauth2 import OAuth2Provider
from socialseed.platforms.parsing import JSON, seconds_until_midnight
from socialseed.platforms.provider import Call

WWW = "https://www.linkedin.com"
API = "https://api.linkedin.com"
REAUTH_CODES = {
    65600: "says this connection's access token is invalid or has expired",
    65601: "says this connection was revoked",
    65602: "says this connection was revoked",
}


class LinkedInProvider(OAuth2Provider):
    platform = Platform.LINKEDIN
    name = "LinkedIn"
    # LinkedIn does not promise the old refresh token survives a refresh (its TTL is not reset
    # and the sandbox ends it): treat it as rotating, the safe side, so refreshes are serialised.
    rotating_refresh = True
    default_scopes = ("openid", "profile", "w_member_social")
    authorize_endpoint = (WWW, "/oauth/v2/authorization")
    token_endpoint = (WWW, "/oauth/v2/accessToken")
    revoke_endpoint = (WWW, "/oauth/v2/revoke")
    no_refresh_detail = (
        "gives this app no refresh token, so the connection cannot be renewed when its "
        "60-day access token ends"
    )

    def api_error(self, response: httpx.Response, body: JSON) -> PlatformError:
        status = response.status_code
        service_code = body.get("serviceErrorCode")
        code = str(service_code or body.get("code") or "") or None
        message = str(body.get("message") or "") or None
        if status == 401 or service_code in REAUTH_CODES:
            detail = REAUTH_CODES.get(service_code or 0, REAUTH_CODES[65600])
            return self.fail(ErrorKind.REAUTH_REQUIRED, response, detail=detail, code=code)
        if status == 429:
            # Daily throttles (per member and per app) reset at midnight UTC.
            wait = seconds_until_midnight(self.clock(), "UTC")
            return self.rate_limited(response, wait, detail="daily limit reached", code=code)
        if status == 422 and message and "duplicate" in message.lower():
            return self.fail(ErrorKind.PERMANENT, response, detail=message, code="duplicate")
        return self.by_status(response, message, code)

    async def profile(self, tokens: TokenSet) -> Profile:
        user = await self.send_json(
            Call.API, "GET", self.url((API, "/v2/userinfo")), headers=self.bearer(tokens)
        )
        name = str(
            user.get("name")
            or " ".join(str(user.get(part) or "") for part in ("given_name", "family_name")).strip()
        )
        return Profile(
            platform_user_id=str(user.get("sub") or ""),
            # No handle in OpenID userinfo: the member's name is what people know them by.
            username=name,
            display_name=name,
            avatar_url=user.get("picture"),
        )
