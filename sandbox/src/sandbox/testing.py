"""Run a real sandbox over HTTP inside a test process.

    from sandbox.testing import running_sandbox

    with running_sandbox() as base_url:        # e.g. "http://127.0.0.1:53211"
        httpx.get(f"{base_url}/_sandbox/healthz")

uvicorn serves on a free loopback port from a background thread (its own event loop), so the
caller's event loop, sync or async, talks to it over real sockets.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import uvicorn

from sandbox.app import create_app
from sandbox.settings import SandboxSettings


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def running_sandbox(
    settings: SandboxSettings | None = None, startup_timeout: float = 10.0
) -> Iterator[str]:
    """Yield the base URL of a sandbox served on a free port; stop it on exit."""
    settings = settings or SandboxSettings()
    host = "127.0.0.1"
    port = free_port(host)
    config = uvicorn.Config(
        create_app(settings),
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        lifespan="off",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"sandbox-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + startup_timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("sandbox did not start")
        time.sleep(0.01)
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


SandboxFactory = Callable[..., httpx.Client]


@contextmanager
def sandbox_factory() -> Iterator[SandboxFactory]:
    """Start sandboxes with their own settings on demand; all stop on exit:
    ``client = start(instagram_publish_cap=2)`` gives an httpx client on a fresh one."""
    with ExitStack() as stack:

        def start(**settings: Any) -> httpx.Client:
            url = stack.enter_context(running_sandbox(SandboxSettings(**settings)))
            return stack.enter_context(httpx.Client(base_url=url, timeout=10))

        yield start


# Helpers for tests that drive the sandbox with httpx -----------------------------------------
CLIENT_ID = "socialseed-local"
CLIENT_SECRET = "socialseed-local-secret"
# Smallest byte strings the sandbox's magic-byte checks accept as each kind.
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 2000
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 2000
MP4 = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 4000


def redirect_uri(platform: str, host: str = "http://127.0.0.1:8000") -> str:
    """A redirect URI registered by default for ``platform``."""
    return f"{host}/api/v1/oauth/{platform}/callback"


def callback_params(response: httpx.Response) -> dict[str, str]:
    """The query parameters of an authorize endpoint's 302 to the redirect URI."""
    if response.status_code != 302:
        raise AssertionError(f"expected a redirect, got {response.status_code}: {response.text}")
    parsed = parse_qs(urlsplit(response.headers["location"]).query)
    return {key: values[0] for key, values in parsed.items()}


def approve(
    client: httpx.Client, authorize_path: str, params: dict[str, str], username: str
) -> dict[str, str]:
    """Consent as ``username`` without the HTML page; returns the callback's params."""
    response = client.get(authorize_path, params={**params, "sandbox_approve": username})
    return callback_params(response)


@dataclass(frozen=True)
class Pkce:
    verifier: str
    challenge: str


def pkce() -> Pkce:
    """A fresh S256 PKCE pair."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return Pkce(verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode())


def advance_clock(client: httpx.Client, seconds: float) -> None:
    client.post("/_sandbox/clock/advance", json={"seconds": seconds}).raise_for_status()


def host_media(client: httpx.Client, data: bytes) -> str:
    """Serve ``data`` from the sandbox, for platforms that pull media from a URL."""
    url: str = client.post("/_sandbox/media", content=data).json()["url"]
    return url
