"""The services' HTTP client (``socialseed.clients``): httpx's interface over aiohttp's
connections, kept alive and reused, and every failure without an answer an
``httpx.TransportError`` named for what happened. Against a real socket server."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest

from socialseed.clients import http_client

Serve = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def _server(serve: Serve) -> AsyncIterator[tuple[str, list[int]]]:
    """A server on a free port; yields its URL and the number of requests per connection."""
    per_connection: list[int] = []

    async def counted(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        per_connection.append(0)
        try:
            await serve(reader, writer)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(counted, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}", per_connection
    finally:
        server.close()
        await server.wait_closed()


async def _request(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            await reader.readexactly(int(line.split(b":")[1]))
    return head


async def _ok(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while True:
        await _request(reader)
        await asyncio.sleep(0.02)
        body = b'{"ok":true}'
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n")
        writer.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        await writer.drain()


async def _drop_after_reading(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await _request(reader)  # the request arrived: the platform may have acted on it


async def _garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await _request(reader)
    writer.write(b"this is not HTTP\r\n\r\n")
    await writer.drain()
    await asyncio.sleep(1)


async def _silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await _request(reader)
    await asyncio.sleep(5)


async def test_requests_share_kept_alive_connections_and_read_json() -> None:
    async for url, per_connection in _server(_ok):
        async with http_client(10.0, connections=8) as client:
            answers = await asyncio.gather(
                *(client.post(f"{url}/{i}", json={"i": i}) for i in range(64))
            )
            again = await client.get(f"{url}/again")
        assert [a.json() for a in answers] == [{"ok": True}] * 64
        assert again.status_code == 200
        # 65 requests over at most 8 connections: made once, then reused.
        assert 1 <= len(per_connection) <= 8, per_connection


@pytest.mark.parametrize(
    ("serve", "error"),
    [
        (_drop_after_reading, httpx.ReadError),  # not a ConnectTimeout: it was sent
        (_garbage, httpx.RemoteProtocolError),
        (_silent, httpx.ReadTimeout),
    ],
)
async def test_a_failure_without_an_answer_is_named_as_httpx_names_it(
    serve: Serve, error: type[httpx.TransportError]
) -> None:
    async for url, _ in _server(serve):
        async with http_client(0.5) as client:
            with pytest.raises(error) as caught:
                await client.post(f"{url}/2/tweets", json={"text": "hi"})
        assert isinstance(caught.value, httpx.TransportError)
        assert caught.value.request.url.path == "/2/tweets"


async def test_a_refused_connection_is_a_connect_error() -> None:
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    async with http_client(2.0) as client:
        with pytest.raises(httpx.ConnectError):
            await client.get(f"http://127.0.0.1:{port}/")
