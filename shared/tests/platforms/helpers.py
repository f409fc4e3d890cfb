"""Drive the sandbox for provider tests: scripted consent, its clock, faults, token inspection."""

from __future__ import annotations

import dataclasses
import secrets
import threading
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

import httpx

from sandbox.testing import redirect_uri
from socialseed.platforms import (
    Authorization,
    Connection,
    MediaKind,
    Platform,
    PlatformError,
    PlatformMedia,
    PlatformPost,
    PlatformsConfig,
    Provider,
    PublishedPost,
    TokenSet,
    build_providers,
)
from socialseed.platforms.base import Pending
from socialseed.platforms.provider import BaseProvider

P = TypeVar("P", bound=BaseProvider)


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

    async def ledger(self, platform: Platform) -> list[dict[str, Any]]:
        """Every post the platform's API created, oldest first."""
        response = await self.control.get("/_sandbox/ledger", params={"platform": platform})
        entries: list[dict[str, Any]] = response.json()["entries"]
        return entries

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

    async def account(self, platform: Platform, username: str = "alice") -> TokenSet:
        """A freshly connected account's tokens as the worker gets them from the vault: the
        connection's, with its platform user id."""
        _, connections = await self.connect(self.provider(platform), username)
        connection = connections[0]
        return dataclasses.replace(
            connection.tokens, platform_user_id=connection.profile.platform_user_id
        )

    async def connected(self, kind: type[P], username: str = "alice") -> tuple[P, TokenSet]:
        """A provider of that class and a freshly connected account's tokens."""
        provider = self.provider(kind.platform)
        assert isinstance(provider, kind)
        return provider, await self.account(kind.platform, username)

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

    async def publish_until_done(
        self,
        provider: Provider,
        tokens: TokenSet,
        post: PlatformPost,
        progress: Mapping[str, Any] | None = None,
        *,
        max_calls: int = 10,
    ) -> tuple[PublishedPost, list[Pending]]:
        """Call ``publish`` as a worker would, letting the sandbox clock run ``poll_after``
        between calls; the post and every ``Pending`` on the way."""
        pendings: list[Pending] = []
        for _ in range(max_calls):
            outcome = await provider.publish(tokens, post, progress)
            if isinstance(outcome, PublishedPost):
                return outcome, pendings
            pendings.append(outcome)
            progress = outcome.progress
            await self.advance(max(outcome.poll_after, 1.0))
        raise AssertionError(f"still pending after {max_calls} calls: {pendings[-1]}")

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
def stored_media(
    data: bytes,
    kind: MediaKind = MediaKind.VIDEO,
    mime_type: str = "video/mp4",
    *,
    url: str = "https://media.socialseed.test/m",
    media_id: str | None = None,
    duration_s: float | None = None,
    fail_reads_at: int | None = None,
) -> PlatformMedia:
    """A stored media file as the publisher hands it over: ranged reads over ``data``;
    ``fail_reads_at``: the storage fails once when read from that offset (an upload cut off
    midway)."""
    failures = [fail_reads_at]

    async def read(offset: int, length: int) -> bytes:
        if offset == failures[0]:
            failures[0] = None
            raise ConnectionError("storage went away")
        return data[offset : offset + length]

    return PlatformMedia(
        id=media_id or secrets.token_hex(6),
        kind=kind,
        mime_type=mime_type,
        size=len(data),
        url=url,
        read=read,
        duration_s=duration_s,
    )


class MediaServer:
    """Media files served over real HTTP, as the publisher's signed URLs are, for platforms that
    download media themselves; ``fetches`` counts the downloads of each file."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.files: dict[str, tuple[str, bytes]] = {}
        self.fetches: Counter[str] = Counter()

    def media(self, kind: MediaKind, data: bytes, mime_type: str) -> PlatformMedia:
        name = secrets.token_hex(6)
        self.files[name] = (mime_type, data)
        url = f"{self.url}/media/{name}?signature=test"
        return stored_media(data, kind, mime_type, url=url, media_id=name)


@contextmanager
def media_server() -> Iterator[MediaServer]:
    """A ``MediaServer`` on a free loopback port, stopped on exit."""
    server: MediaServer | None = None

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            assert server is not None
            name = urlsplit(self.path).path.rsplit("/", 1)[-1]
            found = server.files.get(name)
            if found is None:
                self.send_error(404)
                return
            server.fetches[name] += 1
            self.send_response(200)
            self.send_header("Content-Type", found[0])
            self.send_header("Content-Length", str(len(found[1])))
            self.end_headers()
            self.wfile.write(found[1])

        def log_message(self, format: str, *args: Any) -> None:
            return None

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server = MediaServer(f"http://127.0.0.1:{httpd.server_address[1]}")
    thread = threading.Thread(target=httpd.serve_forever, name="media-server", daemon=True)
    thread.start()
    try:
        yield server
    finally:
        httpd.shutdown()
        httpd.server_close()
