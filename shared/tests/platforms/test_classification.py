"""Error bodies the sandbox does not produce, as the platforms document them (docs/platforms.md),
answered by an in-process transport on the real hosts."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from socialseed.platforms import (
    ErrorKind,
    Platform,
    PlatformError,
    PlatformsConfig,
    Provider,
    TokenSet,
    build_providers,
)

NOW = datetime(2026, 11, 21, 20, 0, tzinfo=UTC)  # 12:00 in Los Angeles
TOKENS = TokenSet("act.secret-access-token-value", NOW + timedelta(hours=1), "rft.secret-refresh")
Answer = Callable[[httpx.Request], httpx.Response]


def reply(status: int, body: Any = None, headers: dict[str, str] | None = None) -> Answer:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json=body, headers=headers)

    return answer


@pytest.fixture
async def client() -> AsyncIterator[Callable[[Platform, Answer], Provider]]:
    clients: list[httpx.AsyncClient] = []

    def build(platform: Platform, answer: Answer) -> Provider:
        http = httpx.AsyncClient(transport=httpx.MockTransport(answer))
        clients.append(http)
        config = PlatformsConfig(sandbox_url=None)
        return build_providers(config, http, clock=lambda: NOW)[platform]

    yield build
    for http in clients:
        await http.aclose()


async def failure(call: Any) -> PlatformError:
    with pytest.raises(PlatformError) as caught:
        await call
    error = caught.value
    for secret in (TOKENS.access_token, TOKENS.refresh_token or "", "socialseed-local-secret"):
        assert secret not in f"{error} {error!r} {error.code}"
    return error


def graph(code: int, subcode: int | None = None, **extra: Any) -> dict[str, Any]:
    error = {"message": f"(#{code}) message", "type": "OAuthException", "code": code}
    if subcode:
        error["error_subcode"] = subcode
    return {"error": {**error, **extra, "fbtrace_id": "AbC"}}


META_CASES = [
    (graph(190, 463), ErrorKind.REAUTH_REQUIRED, None),
    (graph(190, 467), ErrorKind.REAUTH_REQUIRED, None),
    (graph(17), ErrorKind.RATE_LIMITED, 600),
    (graph(613), ErrorKind.RATE_LIMITED, 600),
    (graph(32), ErrorKind.RATE_LIMITED, 600),
    (graph(9, 2207042), ErrorKind.RATE_LIMITED, 3600),
    (graph(368, 1390008), ErrorKind.RATE_LIMITED, 60),
    (graph(368), ErrorKind.PERMANENT, None),
    (graph(506), ErrorKind.PERMANENT, None),
    (graph(2, is_transient=True), ErrorKind.TRANSIENT, None),
    (graph(100, 33), ErrorKind.BAD_REQUEST, None),
]


@pytest.mark.parametrize(("body", "kind", "retry_after"), META_CASES)
@pytest.mark.parametrize("platform", [Platform.FACEBOOK, Platform.INSTAGRAM])
async def test_meta_error_codes(
    client: Callable[[Platform, Answer], Provider],
    platform: Platform,
    body: dict[str, Any],
    kind: ErrorKind,
    retry_after: float | None,
) -> None:
    provider = client(platform, reply(400, body))
    error = await failure(provider.profile(TOKENS))
    assert (error.kind, error.retry_after) == (kind, retry_after)


async def test_meta_regain_access_minutes(client: Callable[[Platform, Answer], Provider]) -> None:
    usage = {
        "1234": [{"type": "pages", "call_count": 100, "estimated_time_to_regain_access": 7}],
        "5678": [{"type": "pages", "call_count": 40, "estimated_time_to_regain_access": 0}],
    }
    headers = {"X-Business-Use-Case-Usage": json.dumps(usage)}
    provider = client(Platform.FACEBOOK, reply(400, graph(80001), headers))
    error = await failure(provider.profile(TOKENS))
    assert error.kind is ErrorKind.RATE_LIMITED and error.retry_after == 7 * 60


async def test_x_duplicate_and_daily_cap(client: Callable[[Platform, Answer], Provider]) -> None:
    duplicate = {
        "detail": "You are not allowed to create a Tweet with duplicate content.",
        "type": "about:blank",
        "title": "Forbidden",
        "status": 403,
    }
    error = await failure(client(Platform.X, reply(403, duplicate)).profile(TOKENS))
    assert error.kind is ErrorKind.PERMANENT

    reset = int((NOW + timedelta(hours=5)).timestamp())
    headers = {
        "x-rate-limit-remaining": "40",
        "x-rate-limit-reset": str(int(NOW.timestamp()) + 60),
        "x-user-limit-24hour-remaining": "0",
        "x-user-limit-24hour-reset": str(reset),
    }
    too_many = {"title": "Too Many Requests", "detail": "Too Many Requests", "status": 429}
    error = await failure(client(Platform.X, reply(429, too_many, headers)).profile(TOKENS))
    assert error.kind is ErrorKind.RATE_LIMITED and error.retry_after == 5 * 3600


async def test_tiktok_errors_with_http_200(client: Callable[[Platform, Answer], Provider]) -> None:
    def envelope(code: str) -> dict[str, Any]:
        return {"data": {}, "error": {"code": code, "message": "m", "log_id": "L"}}

    cases = {
        "spam_risk_too_many_posts": ErrorKind.RATE_LIMITED,
        "reached_active_user_cap": ErrorKind.PERMANENT,
        "invalid_params": ErrorKind.BAD_REQUEST,
    }
    for code, kind in cases.items():
        error = await failure(client(Platform.TIKTOK, reply(200, envelope(code))).profile(TOKENS))
        assert (error.kind, error.code) == (kind, code)
    # The token endpoint too may say no with HTTP 200.
    refused = {"error": "invalid_grant", "error_description": "Refresh token is invalid."}
    error = await failure(client(Platform.TIKTOK, reply(200, refused)).refresh(TOKENS))
    assert error.kind is ErrorKind.REAUTH_REQUIRED


async def test_our_credentials_refused_is_not_the_users_fault(
    client: Callable[[Platform, Answer], Provider],
) -> None:
    body = {"error": "invalid_client", "error_description": "Client authentication failed"}
    for platform in (Platform.TIKTOK, Platform.LINKEDIN, Platform.YOUTUBE, Platform.X):
        error = await failure(client(platform, reply(401, body)).refresh(TOKENS))
        assert error.kind is ErrorKind.BAD_REQUEST, platform


async def test_google_and_linkedin_bodies(client: Callable[[Platform, Answer], Provider]) -> None:
    quota = {
        "error": {
            "code": 403,
            "message": "The request cannot be completed because you have exceeded your quota.",
            "errors": [{"reason": "quotaExceeded", "domain": "youtube.quota"}],
        }
    }
    error = await failure(client(Platform.YOUTUBE, reply(403, quota)).profile(TOKENS))
    # 12:00 in Los Angeles: twelve hours until the quota resets.
    assert error.kind is ErrorKind.RATE_LIMITED and error.retry_after == 12 * 3600

    duplicate = {"status": 422, "message": "Content is a duplicate of urn:li:share:123"}
    error = await failure(client(Platform.LINKEDIN, reply(422, duplicate)).profile(TOKENS))
    assert error.kind is ErrorKind.PERMANENT
    sunset = {"status": 426, "code": "NONEXISTENT_VERSION", "message": "Requested version"}
    error = await failure(client(Platform.LINKEDIN, reply(426, sunset)).profile(TOKENS))
    assert error.kind is ErrorKind.BAD_REQUEST
    throttled = {"status": 429, "message": "Resource level throttle APPLICATION DAY limit"}
    error = await failure(client(Platform.LINKEDIN, reply(429, throttled)).profile(TOKENS))
    assert error.kind is ErrorKind.RATE_LIMITED and error.retry_after == 4 * 3600


async def test_a_platform_echoing_our_token_is_scrubbed(
    client: Callable[[Platform, Answer], Provider],
) -> None:
    echo = {"status": 400, "message": f"Bad token {TOKENS.access_token} in request"}
    error = await failure(client(Platform.LINKEDIN, reply(400, echo)).profile(TOKENS))
    assert error.kind is ErrorKind.BAD_REQUEST and "[redacted]" in error.message


async def test_non_json_answers(client: Callable[[Platform, Answer], Provider]) -> None:
    def html(request: httpx.Request) -> httpx.Response:
        return httpx.Response(502, text="<html>Bad gateway</html>")

    error = await failure(client(Platform.X, html).profile(TOKENS))
    assert error.kind is ErrorKind.TRANSIENT and error.status == 502
