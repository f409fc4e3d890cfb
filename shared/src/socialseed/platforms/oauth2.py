"""``OAuth2Provider``: the OAuth 2.0 authorization-code (PKCE), refresh and revoke flow."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from authlib.common.security import generate_token
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from socialseed.platforms.base import (
    Authorization,
    ErrorKind,
    TokenSet,
)
from socialseed.platforms.parsing import JSON
from socialseed.platforms.provider import BaseProvider, Call, Endpoint


class OAuth2Provider(BaseProvider):
    """The plain authorization-code flow with refresh tokens (TikTok, X, LinkedIn, Google)."""

    authorize_endpoint: Endpoint
    token_endpoint: Endpoint
    revoke_endpoint: Endpoint
    scope_separator: str = " "
    client_id_param: str = "client_id"  # TikTok calls it client_key
    #: Client credentials in an HTTP Basic header (X) instead of the form.
    basic_auth: bool = False
    #: Whether the revoke endpoint wants the client's credentials (Google's does not).
    revoke_with_client: bool = True
    pkce: bool = False
    extra_authorize_params: Mapping[str, str] = {}
    #: Why ``refresh`` cannot work without a refresh token, in words.
    no_refresh_detail: str = "gave this connection no refresh token, so it cannot be renewed"

    def authorize(self, *, state: str, redirect_uri: str) -> Authorization:
        params: dict[str, str | None] = {
            self.client_id_param: self.credentials.client_id,
            "response_type": "code",
            "scope": self.scope_separator.join(self.scopes),
            "redirect_uri": redirect_uri,
            "state": state,
            **self.extra_authorize_params,
        }
        verifier = None
        if self.pkce:
            verifier = generate_token(64)  # RFC 7636: 43-128 unreserved characters
            params["code_challenge"] = create_s256_code_challenge(verifier)
            params["code_challenge_method"] = "S256"
        return Authorization(self.authorize_url(self.authorize_endpoint, params), verifier)

    async def exchange_code(
        self, *, code: str, redirect_uri: str, code_verifier: str | None
    ) -> TokenSet:
        if self.pkce and not code_verifier:
            raise self.fail(
                ErrorKind.BAD_REQUEST, None, detail="needs the PKCE code verifier of this consent"
            )
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
        if code_verifier:
            form["code_verifier"] = code_verifier
        return self.token_set(await self.token_request(Call.EXCHANGE, form))

    async def refresh(self, tokens: TokenSet) -> TokenSet:
        if not tokens.refresh_token:
            raise self.fail(ErrorKind.REAUTH_REQUIRED, None, detail=self.no_refresh_detail)
        form = {"grant_type": "refresh_token", "refresh_token": tokens.refresh_token}
        body = await self.token_request(Call.REFRESH, form)
        return self.token_set(body, previous=tokens)

    async def revoke(self, tokens: TokenSet) -> None:
        url = self.url(self.revoke_endpoint)
        for token, hint in self.revocable(tokens):
            form = {"token": token} | ({"token_type_hint": hint} if hint else {})
            await self.revoke_call(
                "POST", url, **self.client_auth(form, with_client=self.revoke_with_client)
            )

    def revocable(self, tokens: TokenSet) -> list[tuple[str, str | None]]:
        """Which tokens to revoke, with the type hint where the platform takes one; most
        platforms end the whole grant when its access token is revoked."""
        return [(tokens.access_token, None)]

    async def token_request(self, call: Call, form: dict[str, str]) -> JSON:
        url = self.url(self.token_endpoint)
        return await self.send_for_token(call, "POST", url, **self.client_auth(form))

    def client_auth(self, form: dict[str, str], *, with_client: bool = True) -> dict[str, Any]:
        """``httpx`` keyword arguments carrying ``form`` and, unless told otherwise, our client
        credentials."""
        if with_client and self.basic_auth:
            return {"data": form, "auth": (self.credentials.client_id, self.client_secret)}
        if with_client:
            form = {
                **form,
                self.client_id_param: self.credentials.client_id,
                "client_secret": self.client_secret,
            }
        return {"data": form}
