"""Drive the sandbox for provider tests: scripted consent, its clock, faults, token inspection."""

from __future__ import annotations

import dataclasses
import http.server
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from sandbox.testing import redirect_uri
from socialseed.platforms import (
    Authorization,
    Connection,
    Media,
    MediaKind,
    Platform,
    PlatformError,
    PlatformsConfig,
    Provider,
    TokenSet,
    build_providers,
)


@dataclass
class Sandbox:
    """One sandbox server, reset for the test; its clock mirrored locally for the providers."""

    url: str
    control: httpx.AsyncClient
    http: httpx.AsyncClient
    offset: float = 0.0
    # Every secret the test has seen, so a test can assert none leaked.
    secrets: set[str] = field(default_factory=set)

    def now(self) -> datetime:
        return datetime.now(UTC) + timedelta(seconds=self.offset)

    def config(self, **overrides: Any) -> PlatformsConfig:
        return PlatformsConfig(sandbox_url=self.url, **overrides)

    def provider(self, platform: Platform, **overrides: Any) -> Provider:
        return build_providers(self.config(**overrides), self.http, clock=self.now)[platform]

    async def advance(self, seconds: float) -> None:
        response = await self.control.post("/_sandbox/clock/advance", json={"seconds": seconds})
        response.raise_for_status()
        self.offset += seconds

    async def fault(self, platform: Platform, **spec: Any) -> None:
        response = await self.control.post("/_sandbox/faults", json={"platform": platform, **spec})
        response.raise_for_status()

    async def tokens(self, platform: Platform) -> dict[str, str]:
        """Token value -> status (active, expired, used, revoked) as the sandbox sees it."""
        response = await self.control.get("/_sandbox/tokens", params={"platform": platform})
        return {t["value"]: t["status"] for t in response.json()["tokens"]}

    async def calls(self, platform: Platform, endpoint: str) -> int:
        stats = (await self.control.get("/_sandbox/stats")).json()
        endpoints = stats["platforms"].get(platform, {}).get("endpoints", {})
        # The Graph catch-all names its endpoints with the method already in ("GET GET /x").
        return sum(
            entry["calls"]
            for name, entry in endpoints.items()
            if name == endpoint or name == f"{endpoint.split()[0]} {endpoint}"
        )

    async def consent(
        self, authorization: Authorization, username: str, state: str = "state-1"
    ) -> str:
        """Approve as ``username`` without the consent page; the code from the callback."""
        response = await self.control.get(authorization.url + f"&sandbox_approve={username}")
        assert response.status_code == 302, response.text
        query = parse_qs(urlsplit(response.headers["location"]).query)
        assert query["state"] == [state]
        code = query["code"][0]
        self.secrets.add(code)
        return code

    async def connect(
        self, provider: Provider, username: str = "alice"
    ) -> tuple[TokenSet, list[Connection]]:
        """authorize -> consent -> exchange -> connections, as the accounts service does."""
        callback = redirect_uri(provider.platform.value)
        authorization = provider.authorize(state="state-1", redirect_uri=callback)
        code = await self.consent(authorization, username)
        return await self.finish(provider, authorization, code)

    async def finish(
        self, provider: Provider, authorization: Authorization, code: str
    ) -> tuple[TokenSet, list[Connection]]:
        """The server side of a consent: exchange the code, list the connections."""
        callback = redirect_uri(provider.platform.value)
        tokens = await provider.exchange_code(
            code=code, redirect_uri=callback, code_verifier=authorization.code_verifier
        )
        connections = await provider.connections(tokens)
        self.remember(tokens, *(c.tokens for c in connections))
        if authorization.code_verifier:
            self.secrets.add(authorization.code_verifier)
        return tokens, connections

    def remember(self, *token_sets: TokenSet) -> None:
        for tokens in token_sets:
            self.secrets.add(tokens.access_token)
            if tokens.refresh_token:
                self.secrets.add(tokens.refresh_token)

    def assert_clean(self, *texts: str) -> None:
        for text in texts:
            for secret in self.secrets | {"socialseed-local-secret"}:
                assert secret not in text, "a secret leaked into an error or a log line"

    def assert_error_clean(self, exc: PlatformError) -> None:
        self.assert_clean(str(exc), repr(exc), exc.message, str(exc.code))


def authorize_params(authorization: Authorization) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(authorization.url).query).items()}


def host_and_path(authorization: Authorization) -> str:
    parts = urlsplit(authorization.url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def scopes_of(authorization: Authorization, separator: str) -> list[str]:
    return authorize_params(authorization)["scope"].split(separator)


def only(items: Iterable[Any]) -> Any:
    (item,) = list(items)
    return item


# publishing -------------------------------------------------------------------------------
def media_of(
    data: bytes, kind: MediaKind, mime_type: str, url: str = "", media_id: str = "m1"
) -> Media:
    """A stored media file as the publisher hands it over: ranged reads over ``data``."""

    async def read(offset: int, length: int) -> bytes:
        return data[offset : offset + length]

    return Media(id=media_id, kind=kind, mime_type=mime_type, size=len(data), url=url, read=read)


async def account(sandbox: Sandbox, platform: Platform, username: str = "alice") -> TokenSet:
    """The account's tokens as the worker gets them from the vault: with the platform user id."""
    _, connections = await sandbox.connect(sandbox.provider(platform), username)
    connection = connections[0]
    return dataclasses.replace(
        connection.tokens, platform_user_id=connection.profile.platform_user_id
    )


async def ledger(sandbox: Sandbox, platform: Platform) -> list[dict[str, Any]]:
    response = await sandbox.control.get("/_sandbox/ledger", params={"platform": platform})
    entries: list[dict[str, Any]] = response.json()["entries"]
    return entries


@contextmanager
def file_server(files: dict[str, bytes]) -> Iterator[str]:
    """Serve ``files`` (path -> bytes) over HTTP on a free port, as the publisher's signed media
    URLs would be served; yields the base URL."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            data = files.get(self.path.split("?")[0])
            self.send_response(200 if data is not None else 404)
            self.send_header("Content-Length", str(len(data or b"")))
            self.end_headers()
            self.wfile.write(data or b"")

        def log_message(self, format: str, *args: Any) -> None:
            return None

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        thread.join(timeout=5)
