"""The platforms' clients: several small connection pools behind one client, each walking
only its own connections, and every request answered as by one pool."""

from __future__ import annotations

import asyncio

import httpx

from publisher.app import _platform_clients
from publisher.publishing.pools import SplitPools
from publisher.settings import PublisherSettings


async def _serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """A keep-alive HTTP/1.1 server answering ``ok`` to every request, a little late."""
    try:
        while await reader.readuntil(b"\r\n\r\n"):
            await asyncio.sleep(0.02)
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def test_requests_are_spread_over_small_pools_and_all_answered() -> None:
    server = await asyncio.start_server(_serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    transport = SplitPools(httpx.Limits(max_connections=64, max_keepalive_connections=64), 4)
    try:
        async with httpx.AsyncClient(transport=transport, timeout=10) as client:
            answers = await asyncio.gather(
                *(client.get(f"http://127.0.0.1:{port}/{i}") for i in range(64))
            )
            # Every pool took its share: none holds all the connections.
            sizes = [len(t._pool.connections) for t in transport.transports]
        assert [a.text for a in answers] == ["ok"] * 64
        assert all(0 < n <= 16 for n in sizes), sizes
    finally:
        server.close()
        await server.wait_closed()


def test_the_publishers_platform_clients_split_their_pools() -> None:
    settings = PublisherSettings(dev_mode=True, publish_concurrency=256)
    for client in _platform_clients(settings).values():
        transport = client._transport
        assert isinstance(transport, SplitPools)
        assert len(transport.transports) == 8  # one per 32 publishes in flight
