"""The OAuth 2.0 authorization-code machinery every platform shares.

Platforms differ in parameter names, scope separators, PKCE rules, what a denial redirect carries
and what an error page says; ``OAuthProfile`` captures those differences so each platform module
only describes itself. The consent page is a real HTML form (choose or type a username, Allow or
Deny); scripts skip it with ``&sandbox_approve=<username>`` or ``&sandbox_deny=1``.
"""

from __future__ import annotations

import base64
import hashlib
import html
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from sandbox.attribution import attribute
from sandbox.state import Account, AuthCode, SandboxState, Token, TokenProblem, random_token
from sandbox.web import basic_credentials, sandbox

Params = list[tuple[str, str]]


@dataclass(frozen=True)
class OAuthProfile:
    platform: str
    title: str
    code_ttl: Callable[[SandboxState], int]
    create_user: Callable[[SandboxState, str], Account]
    denied: Callable[[str | None], Params]
    client_param: str = "client_id"
    scope_separator: str = " "
    pkce_required: bool = False
    # Shown on the platform's own error page (no redirect) for an unknown client or redirect URI.
    invalid_client_page: str = "Invalid client_id"
    invalid_redirect_page: str = "redirect_uri does not match a registered redirect URI"
    fragment: str = ""  # Meta appends "#_" / "#_=_" to its redirects
    success_extra: Callable[[AuthCode], Params] = field(default=lambda _code: [])
    code_prefix: str = ""
    invalid_client_status: int = 400


class CodeProblem(StrEnum):
    INVALID = "invalid"
    USED = "used"
    EXPIRED = "expired"
    CLIENT_MISMATCH = "client_mismatch"
    REDIRECT_MISMATCH = "redirect_mismatch"
    VERIFIER_MISSING = "verifier_missing"
    VERIFIER_MISMATCH = "verifier_mismatch"


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def redirect_to(uri: str, params: Params, fragment: str = "") -> RedirectResponse:
    separator = "&" if "?" in uri else "?"
    return RedirectResponse(uri + separator + urlencode(params) + fragment, status_code=302)


def error_page(profile: OAuthProfile, message: str, status: int = 400) -> HTMLResponse:
    body = (
        f"<!doctype html><html><head><title>{html.escape(profile.title)} - Error</title></head>"
        f'<body><h1>{html.escape(profile.title)}</h1><p class="error">{html.escape(message)}</p>'
        "</body></html>"
    )
    return HTMLResponse(body, status_code=status)


def consent_page(profile: OAuthProfile, params: dict[str, str], usernames: Sequence[str]) -> str:
    hidden = "".join(
        f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
        for k, v in params.items()
        if k not in ("username", "decision")
    )
    options = "".join(f'<option value="{html.escape(u)}">' for u in usernames)
    scopes = html.escape(params.get("scope", ""))
    title = html.escape(profile.title)
    return (
        f"<!doctype html><html><head><title>Authorize with {title} (sandbox)</title></head><body>"
        f"<h1>{title} sandbox</h1><p>SocialSeed wants access: <code>{scopes}</code></p>"
        f'<form method="post">{hidden}'
        '<label>Username <input name="username" list="known-users" required></label>'
        f'<datalist id="known-users">{options}</datalist>'
        '<button name="decision" value="allow" type="submit">Allow</button>'
        '<button name="decision" value="deny" type="submit" formnovalidate>Deny</button>'
        "</form></body></html>"
    )


def ensure_user(state: SandboxState, profile: OAuthProfile, username: str) -> Account:
    return state.user_by_name(profile.platform, username) or profile.create_user(state, username)


async def authorize(request: Request, profile: OAuthProfile) -> Response:
    """GET shows consent (or decides at once for scripts); POST is the consent form's answer."""
    state = sandbox(request)
    params = dict(request.query_params)
    if request.method == "POST":
        form = await request.form()
        params.update({k: v for k, v in form.items() if isinstance(v, str)})
    settings = state.settings
    if params.get(profile.client_param) != settings.client_id:
        return error_page(profile, profile.invalid_client_page, profile.invalid_client_status)
    redirect_uri = params.get("redirect_uri", "")
    if redirect_uri not in settings.redirect_uris(profile.platform):
        return error_page(profile, profile.invalid_redirect_page)
    oauth_state = params.get("state")
    state_param: Params = [("state", oauth_state)] if oauth_state is not None else []
    if params.get("response_type") != "code":
        error = [("error", "unsupported_response_type")]
        return redirect_to(redirect_uri, error + state_param, profile.fragment)
    challenge = params.get("code_challenge")
    method = params.get("code_challenge_method", "plain" if challenge else "")
    if profile.pkce_required and (not challenge or method != "S256"):
        return error_page(profile, "Something went wrong: code_challenge (S256) is required")
    denied = params.get("sandbox_deny") or params.get("decision") == "deny"
    if denied:
        return redirect_to(redirect_uri, profile.denied(oauth_state), profile.fragment)
    username = params.get("sandbox_approve") or (
        params.get("username") if params.get("decision") == "allow" else None
    )
    if not username:
        page = consent_page(profile, params, state.known_usernames(profile.platform))
        return HTMLResponse(page)
    account = ensure_user(state, profile, username.strip().lstrip("@"))
    scopes = [s for s in params.get("scope", "").split(profile.scope_separator) if s]
    code = AuthCode(
        value=profile.code_prefix + secrets.token_urlsafe(32),
        platform=profile.platform,
        client_id=settings.client_id,
        redirect_uri=redirect_uri,
        scopes=tuple(scopes),
        account_id=account.id,
        expires_at=state.clock.now() + profile.code_ttl(state),
        code_challenge=challenge,
        code_challenge_method=method or None,
        data={k: v for k, v in params.items() if k in ("access_type", "prompt")},
    )
    state.codes[code.value] = code
    success: Params = [("code", code.value), *profile.success_extra(code), *state_param]
    return redirect_to(redirect_uri, success, profile.fragment)


def client_auth(request: Request, form: dict[str, str], id_field: str = "client_id") -> bool:
    """Client authentication by HTTP Basic or by form fields, as most platforms allow."""
    settings = sandbox(request).settings
    credentials = basic_credentials(request) or (
        form.get(id_field, ""),
        form.get("client_secret", ""),
    )
    return credentials == (settings.client_id, settings.client_secret)


def redeem_code(
    state: SandboxState,
    platform: str,
    value: str | None,
    client_id: str | None,
    redirect_uri: str | None,
    verifier: str | None,
) -> AuthCode | CodeProblem:
    """Single-use, short-lived, bound to its client, redirect URI and PKCE challenge."""
    code = state.codes.get(value or "")
    if code is None or code.platform != platform:
        return CodeProblem.INVALID
    attribute(code.account_id)
    if code.used:
        # RFC 6749 §4.1.2: a replayed code revokes what it had issued.
        state.tokens.revoke_grant(code.value, "code_replayed")
        return CodeProblem.USED
    if state.clock.now() >= code.expires_at:
        return CodeProblem.EXPIRED
    if client_id is not None and client_id != code.client_id:
        return CodeProblem.CLIENT_MISMATCH
    if redirect_uri != code.redirect_uri:
        return CodeProblem.REDIRECT_MISMATCH
    if code.code_challenge:
        if not verifier:
            return CodeProblem.VERIFIER_MISSING
        expected = s256(verifier) if code.code_challenge_method == "S256" else verifier
        if expected != code.code_challenge:
            return CodeProblem.VERIFIER_MISMATCH
    code.used = True
    return code


@dataclass(frozen=True)
class TokenPair:
    access: Token
    refresh: Token | None


def issue_tokens(
    state: SandboxState,
    platform: str,
    account_id: str,
    scopes: Sequence[str],
    grant_id: str,
    access_ttl: float | None,
    refresh_ttl: float | None,
    prefixes: tuple[str, str],
    with_refresh: bool = True,
) -> TokenPair:
    access = state.tokens.issue(
        platform, "access", account_id, scopes, access_ttl, grant_id, prefixes[0]
    )
    refresh = None
    if with_refresh:
        refresh = state.tokens.issue(
            platform, "refresh", account_id, scopes, refresh_ttl, grant_id, prefixes[1]
        )
    return TokenPair(access, refresh)


def use_refresh_token(
    state: SandboxState, platform: str, value: str | None
) -> Token | TokenProblem:
    return state.tokens.check(platform, value, kinds=("refresh",))


def revoke_any(state: SandboxState, platform: str, value: str | None, reason: str) -> bool:
    """Revoking either token of a grant ends the whole grant (the user's consent)."""
    token = state.tokens.by_value.get(value or "")
    if token is None or token.platform != platform:
        return False
    attribute(token.account_id)
    state.tokens.revoke_grant(token.grant_id, reason)
    return True


def new_grant_id() -> str:
    return random_token("grant-", 16)
