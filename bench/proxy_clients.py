"""Which HTTP client the gateway's proxy should forward with, measured under concurrency.

In one run: a tiny upstream (pure ASGI under uvicorn + httptools + uvloop: a small JSON route,
a streamed 64 KiB response and an upload that is read to its end), and one minimal streaming
proxy per client candidate in front of it, each in its own process:

- ``httpx``: one ``httpx.AsyncClient`` for the process, pool of 100 keep-alive HTTP/1.1
  connections, response read raw (``send(stream=True)`` + ``aiter_raw``);
- ``aiohttp``: one ``aiohttp.ClientSession`` over a ``TCPConnector(limit=100)`` (keep-alive),
  no decompression, response read as it arrives (``content.iter_any``).

Both stream the request body to the upstream and the response back. Each route is loaded with
``wrk -t2 -c32 -d8s --latency`` directly and through each proxy; prints requests/s, p50/p99 and
the ratio to the direct upstream. The machine has 2 cores shared by wrk, the proxy and the
upstream: compare ratios within one run, not figures across runs.

    uv run python bench/proxy_clients.py [--seconds 8] [--connections 32]
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import uvicorn

WRK = "/usr/bin/wrk"
CANDIDATES = ("httpx", "aiohttp")
STREAM_CHUNK, STREAM_CHUNKS = 4096, 16
UPLOAD_BYTES = 16 * 1024
HOP_BY_HOP = {
    b"connection",
    b"keep-alive",
    b"proxy-authenticate",
    b"proxy-authorization",
    b"te",
    b"trailers",
    b"transfer-encoding",
    b"upgrade",
    b"host",
    b"content-length",
}

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
ASGI = Callable[[Scope, Receive, Send], Awaitable[None]]


# --- the upstream -------------------------------------------------------------------------


async def upstream(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        await lifespan(receive, send)
        return
    path = scope["path"]
    if path == "/stream":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for _ in range(STREAM_CHUNKS):
            await send(
                {"type": "http.response.body", "body": b"x" * STREAM_CHUNK, "more_body": True}
            )
        await send({"type": "http.response.body", "body": b""})
        return
    received = 0
    more = True
    while more:
        message = await receive()
        received += len(message.get("body", b""))
        more = message.get("more_body", False)
    body = json.dumps({"ok": True, "path": path, "received": received}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def lifespan(receive: Receive, send: Send, on_start: Any = None, on_stop: Any = None) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            if on_start:
                await on_start()
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            if on_stop:
                await on_stop()
            await send({"type": "lifespan.shutdown.complete"})
            return


# --- the proxies --------------------------------------------------------------------------


def has_body(scope: Scope) -> bool:
    headers = dict(scope["headers"])
    return b"transfer-encoding" in headers or headers.get(b"content-length", b"0") != b"0"


async def request_body(receive: Receive) -> AsyncIterator[bytes]:
    more = True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        more = message.get("more_body", False)
        if message.get("body"):
            yield message["body"]


def forwarded_headers(scope: Scope) -> list[tuple[bytes, bytes]]:
    return [(k, v) for k, v in scope["headers"] if k not in HOP_BY_HOP]


def target(base: str, scope: Scope) -> str:
    query = scope["query_string"].decode()
    return base + scope["raw_path"].decode() + ("?" + query if query else "")


async def relay(send: Send, status: int, headers: Any, chunks: AsyncIterator[bytes]) -> None:
    kept = [(k.lower(), v) for k, v in headers if k.lower() not in HOP_BY_HOP]
    await send({"type": "http.response.start", "status": status, "headers": kept})
    async for chunk in chunks:
        await send({"type": "http.response.body", "body": chunk, "more_body": True})
    await send({"type": "http.response.body", "body": b""})


def httpx_proxy(base: str) -> ASGI:
    client = httpx.AsyncClient(
        timeout=httpx.Timeout(30.0, connect=3.0),
        limits=httpx.Limits(max_connections=100, max_keepalive_connections=100),
    )

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await lifespan(receive, send, on_stop=client.aclose)
            return
        request = client.build_request(
            scope["method"],
            target(base, scope),
            headers=forwarded_headers(scope),
            content=request_body(receive) if has_body(scope) else None,
        )
        response = await client.send(request, stream=True)
        try:
            await relay(send, response.status_code, response.headers.raw, response.aiter_raw())
        finally:
            await response.aclose()

    return app


def aiohttp_proxy(base: str) -> ASGI:
    import aiohttp
    import yarl

    sessions: list[aiohttp.ClientSession] = []

    async def start() -> None:
        sessions.append(
            aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=100, limit_per_host=0),
                timeout=aiohttp.ClientTimeout(total=None, sock_connect=3.0, sock_read=30.0),
                auto_decompress=False,
                skip_auto_headers=("User-Agent", "Accept-Encoding"),
            )
        )

    async def stop() -> None:
        await sessions[0].close()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await lifespan(receive, send, on_start=start, on_stop=stop)
            return
        response = await sessions[0].request(
            scope["method"],
            yarl.URL(target(base, scope), encoded=True),
            headers=[
                (k.decode("latin-1"), v.decode("latin-1")) for k, v in forwarded_headers(scope)
            ],
            data=request_body(receive) if has_body(scope) else None,
        )
        try:
            await relay(send, response.status, response.raw_headers, response.content.iter_any())
        finally:
            response.release()

    return app


def serve(role: str, port: int, base: str) -> None:
    apps: dict[str, Callable[[], ASGI]] = {
        "upstream": lambda: upstream,
        "httpx": lambda: httpx_proxy(base),
        "aiohttp": lambda: aiohttp_proxy(base),
    }
    uvicorn.run(
        apps[role](),
        host="127.0.0.1",
        port=port,
        http="httptools",
        loop="uvloop",
        lifespan="on",
        log_level="warning",
        access_log=False,
    )


# --- the load -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Load:
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(value) * _UNITS[unit]


def parse_wrk(output: str) -> Load:
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    p50 = re.search(r"\s50%\s+(\S+)", output).group(1)  # type: ignore[union-attr]
    p99 = re.search(r"\s99%\s+(\S+)", output).group(1)  # type: ignore[union-attr]
    errors = sum(
        int(n)
        for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", output)
        + re.findall(r"Non-2xx or 3xx responses: (\d+)", output)
    )
    return Load(rps, _ms(p50), _ms(p99), errors)


def wrk(url: str, seconds: int, connections: int, script: str | None) -> Load:
    command = [WRK, "-t2", f"-c{connections}", f"-d{seconds}s", "--latency"]
    command += ["-s", script] if script else []
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    return parse_wrk(output)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def started(role: str, base: str = "") -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen([sys.executable, __file__, "serve", role, str(port), base])
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90  # imports are slow on a loaded machine
        while True:
            try:
                httpx.get(f"{url}/json", timeout=1.0)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def check_same_answers(direct: str, proxy: str) -> None:
    """Each proxy must give what the upstream gives: streamed body, upload counted."""
    with httpx.Client() as client:
        for method, path, content in (
            ("GET", "/json?a=1", None),
            ("GET", "/stream", None),
            ("POST", "/upload", b"y" * UPLOAD_BYTES),
        ):
            want = client.request(method, direct + path, content=content).content
            got = client.request(method, proxy + path, content=content).content
            assert got == want, (proxy, path, got[:80], want[:80])


def upload_script(directory: str) -> str:
    path = f"{directory}/upload.lua"
    with open(path, "w") as f:
        f.write(f'wrk.method = "POST"\nwrk.body = string.rep("y", {UPLOAD_BYTES})\n')
    return path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    sniffio = importlib.util.find_spec("sniffio") is not None
    print(f"httpx {httpx.__version__}; sniffio importable: {sniffio}")
    with tempfile.TemporaryDirectory() as tmp, started("upstream") as direct:
        routes = {
            "small JSON (GET /json)": ("/json", None),
            f"streamed {STREAM_CHUNK * STREAM_CHUNKS // 1024} KiB (GET /stream)": ("/stream", None),
            f"upload {UPLOAD_BYTES // 1024} KiB (POST /upload)": ("/upload", upload_script(tmp)),
        }
        results: dict[str, dict[str, Load]] = {route: {} for route in routes}
        targets = {"direct": direct}
        with contextlib.ExitStack() as stack:
            for name in CANDIDATES:
                targets[name] = stack.enter_context(started(name, direct))
                check_same_answers(direct, targets[name])
            for route, (path, script) in routes.items():
                for name, url in targets.items():
                    results[route][name] = wrk(url + path, args.seconds, args.connections, script)
        report(results, args.connections)


def report(results: dict[str, dict[str, Load]], connections: int) -> None:
    print(f"\nwrk -t2 -c{connections}, one run (2 shared cores: ratios matter, not absolutes)")
    print(f"{'route':34} {'via':8} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'x direct':>9} errors")
    for route, loads in results.items():
        direct = loads["direct"].rps
        for name, load in loads.items():
            print(
                f"{route:34} {name:8} {load.rps:8.0f} {load.p50_ms:8.2f} {load.p99_ms:8.2f}"
                f" {load.rps / direct:8.2f}x {load.errors}"
            )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "serve":
        serve(sys.argv[2], int(sys.argv[3]), sys.argv[4] if len(sys.argv) > 4 else "")
    else:
        main()
