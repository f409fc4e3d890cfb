"""Instagram API with Instagram Login (graph.instagram.com).

The code buys a short-lived token (1 h) on api.instagram.com, exchanged at once for a long-lived
one (60 days, ``ig_exchange_token``). There is no refresh token: the long-lived token itself is
renewed with ``ig_refresh_token``, which Instagram accepts only once the token is at least 24 hours
old and still unexpired. No PKCE, and no revoke endpoint (the user removes the app in Instagram).
"""

from __future__ import annotations

from datetime import timedelta

from socialseed.platforms.base import Authorization, Platform, Profile, TokenSet
from socialseed.platforms.graph import GraphProvider
from socialseed.platforms.parsing import json_object
from socialseed.platforms.provider import Call

WWW = "https://www.instagram.com"
API = "https://api.instagram.com"
GRAPH = "https://graph.instagram.com"
LONG_LIVED = timedelta(days=60)
REFRESHABLE_AFTER = timedelta(hours=24)
# Our estimate of a token's age comes from its expiry (expires_in is a little under 60 days), so
# wait a little past 24 hours rather than be refused for asking a few minutes early.
AGE_MARGIN = timedelta(minutes=10)
PROFILE_FIELDS = (
    "user_id,username,name,profile_picture_url,followers_count,follows_count,media_count"
)


class InstagramProvider(GraphProvider):
    platform = Platform.INSTAGRAM
    name = "Instagram"
    rotating_refresh = False
    default_scopes = (
        "instagram_business_basic",
        "instagram_business_content_publish",
        "instagram_business_manage_insights",
    )
    graph_host = GRAPH

    def authorize(self, *, state: str, redirect_uri: str) -> Authorization:
        params = {
            "client_id": self.credentials.client_id,
            "redirect_uri": redirect_uri,
            "response_type": "code",
            "scope": ",".join(self.scopes),
            "state": state,
        }
        return Authorization(self.authorize_url((WWW, "/oauth/authorize"), params))

    async def exchange_code(
        self, *, code: str, redirect_uri: str, code_verifier: str | None
    ) -> TokenSet:
        response = await self.send(
            Call.EXCHANGE,
            "POST",
            self.url((API, "/oauth/access_token")),
            data={
                "client_id": self.credentials.client_id,
                "client_secret": self.client_secret,
                "grant_type": "authorization_code",
                "redirect_uri": redirect_uri,
                "code": code,
            },
        )
        body = json_object(response) or {}
        # Newer answers wrap the token in {"data": [...]}; older ones are flat.
        data = body.get("data")
        first = data[0] if isinstance(data, list) and data and isinstance(data[0], dict) else body
        short = self.require_token(response, Call.EXCHANGE, first)
        long_lived = await self.send_for_token(
            Call.EXCHANGE,
            "GET",
            self.url((GRAPH, "/access_token")),
            params={
                "grant_type": "ig_exchange_token",
                "client_secret": self.client_secret,
                "access_token": short["access_token"],
            },
        )
        user_id = short.get("user_id")
        return self.token_set(
            {**long_lived, "permissions": short.get("permissions")},
            platform_user_id=str(user_id) if user_id else None,
        )

    async def refresh(self, tokens: TokenSet) -> TokenSet:
        if tokens.expires_at is not None:
            issued_at = tokens.expires_at - LONG_LIVED
            if self.clock() - issued_at < REFRESHABLE_AFTER + AGE_MARGIN:
                return tokens  # too young to renew, and it has almost 60 days left anyway
        body = await self.send_for_token(
            Call.REFRESH,
            "GET",
            self.url((GRAPH, "/refresh_access_token")),
            params={"grant_type": "ig_refresh_token", "access_token": tokens.access_token},
        )
        return self.token_set(body, previous=tokens)

    async def revoke(self, tokens: TokenSet) -> None:
        """Instagram Login has no revoke endpoint; the grant ends when the user removes the app
        or the token expires. Nothing to call."""

    async def profile(self, tokens: TokenSet) -> Profile:
        return self.page_profile(await self.graph_get("/me", tokens, fields=PROFILE_FIELDS))
