"""Facebook Pages (Facebook Login, graph.facebook.com).

The code buys a short user token (1-2 h), exchanged at once for a long-lived one (~60 days,
``fb_exchange_token``). The pages come from ``/me/accounts`` with that token: each page is one
``Connection`` holding its own page token, which never expires (it dies only when the user changes
password or removes the app: 190 with 460/458). There are no refresh tokens and no PKCE.
"""

from __future__ import annotations

from datetime import timedelta

from socialseed.platforms.base import (
    Authorization,
    Connection,
    ErrorKind,
    Platform,
    Profile,
    TokenSet,
)
from socialseed.platforms.graph import GRAPH_VERSION, GraphProvider
from socialseed.platforms.parsing import JSON
from socialseed.platforms.provider import Call

WWW = "https://www.facebook.com"
GRAPH = "https://graph.facebook.com"
# Used when the long-lived exchange omits expires_in (Meta sometimes does).
USER_TOKEN_LIFETIME = timedelta(days=60)
PAGE_FIELDS = "id,name,username,fan_count,followers_count,picture"
MAX_PAGES_OF_PAGES = 20  # /me/accounts pages of 100: a safety stop, not a real limit


class FacebookProvider(GraphProvider):
    platform = Platform.FACEBOOK
    name = "Facebook"
    rotating_refresh = False
    default_scopes = (
        "pages_show_list",
        "pages_read_engagement",
        "pages_manage_posts",
        "read_insights",
        "publish_video",
    )
    graph_host = GRAPH

    def authorize(self, *, state: str, redirect_uri: str) -> Authorization:
        params = {
            "client_id": self.credentials.client_id,
            "redirect_uri": redirect_uri,
            "state": state,
            "response_type": "code",
            "scope": ",".join(self.scopes),
        }
        return Authorization(self.authorize_url((WWW, f"/{GRAPH_VERSION}/dialog/oauth"), params))

    async def exchange_code(
        self, *, code: str, redirect_uri: str, code_verifier: str | None
    ) -> TokenSet:
        """The long-lived *user* token; ``connections`` turns it into page tokens."""
        client = {"client_id": self.credentials.client_id, "client_secret": self.client_secret}
        short = await self.oauth_access_token(
            {**client, "redirect_uri": redirect_uri, "code": code}
        )
        long_lived = await self.oauth_access_token(
            {
                **client,
                "grant_type": "fb_exchange_token",
                "fb_exchange_token": short["access_token"],
            }
        )
        if long_lived.get("expires_in") is None:
            long_lived["expires_in"] = int(USER_TOKEN_LIFETIME.total_seconds())
        # The token response names no scopes, and the user may have unticked some of them.
        granted = await self.send_json(
            Call.EXCHANGE,
            "GET",
            self.graph_url("/me/permissions"),
            headers={"Authorization": f"Bearer {long_lived['access_token']}"},
        )
        scopes = [
            str(p.get("permission"))
            for p in granted.get("data") or []
            if isinstance(p, dict) and p.get("status") == "granted"
        ]
        return self.token_set({**long_lived, "scope": scopes})

    async def oauth_access_token(self, params: dict[str, str]) -> JSON:
        url = self.graph_url("/oauth/access_token")
        return await self.send_for_token(Call.EXCHANGE, "GET", url, params=params)

    async def connections(self, tokens: TokenSet) -> list[Connection]:
        """Every page the user granted with a page token: one account each."""
        found: list[Connection] = []
        params = {"fields": f"{PAGE_FIELDS},access_token", "limit": "100"}
        for _ in range(MAX_PAGES_OF_PAGES):
            body = await self.graph_get("/me/accounts", tokens, **params)
            for page in body.get("data") or []:
                page_token = page.get("access_token")
                if not page_token:  # the user has no task on this page that grants a token
                    continue
                page_tokens = TokenSet(
                    access_token=str(page_token),
                    expires_at=None,  # page tokens from a long-lived user token never expire
                    scopes=tokens.scopes,
                    platform_user_id=str(page.get("id")),
                )
                found.append(Connection(self.page_profile(page), page_tokens))
            paging = body.get("paging") or {}
            after = (paging.get("cursors") or {}).get("after")
            if not paging.get("next") or not after:
                break
            params["after"] = str(after)
        return found

    async def refresh(self, tokens: TokenSet) -> TokenSet:
        if tokens.expires_at is None:
            return tokens  # a page token: it does not expire, there is nothing to renew
        raise self.fail(
            ErrorKind.REAUTH_REQUIRED,
            None,
            detail="user tokens cannot be renewed without the user",
        )

    async def revoke(self, tokens: TokenSet) -> None:
        """Revoke the user's grant (``DELETE /me/permissions``) given its user token.

        A page token (no expiry) is left alone: Facebook has no per-page revoke, and the user's
        grant is shared by every page of that consent, so ending it would cut the others too.
        """
        if tokens.expires_at is None:
            return
        await self.revoke_call(
            "DELETE", self.graph_url("/me/permissions"), headers=self.bearer(tokens)
        )

    async def profile(self, tokens: TokenSet) -> Profile:
        # With a page token, /me is the page itself.
        return self.page_profile(await self.graph_get("/me", tokens, fields=PAGE_FIELDS))
