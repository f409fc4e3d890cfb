"""Run a real sandbox over HTTP inside a test process.

    from sandbox.testing import running_sandbox

    with running_sandbox() as base_url:        # e.g. "http://127.0.0.1:53211"
        httpx.get(f"{base_url}/_sandbox/healthz")

uvicorn serves on a free loopback port from a background thread (its own event loop), so the
caller's event loop, sync or async, talks to it over real sockets.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

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
