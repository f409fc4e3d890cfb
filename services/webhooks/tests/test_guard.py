"""The SSRF guard's rules: which addresses may receive a webhook, a host checked after DNS
resolution (every address it resolves to), and the connection made to the checked address."""

from __future__ import annotations

import ipaddress

import httpx
import pytest
from fastapi import FastAPI, Request

from socialseed.testing import serve
from webhooks.delivery.guard import (
    GuardedTransport,
    UnsafeAddress,
    WebhookUrlRefused,
    check_url,
    refusal,
)


@pytest.mark.parametrize(
    "address",
    [
        "169.254.169.254",
        "169.254.170.2",
        "169.254.0.1",
        "fd00:ec2::254",
        "100.100.100.200",
        "fe80::1",
        "::ffff:169.254.169.254",
        "2002:a9fe:a9fe::1",  # 6to4 around 169.254.169.254
        "0.0.0.0",
        "::",
        "224.0.0.1",
        "240.0.0.1",
    ],
)
def test_link_local_metadata_and_non_unicast_are_always_refused(address: str) -> None:
    assert refusal(ipaddress.ip_address(address), allow_private=True) is not None


@pytest.mark.parametrize(
    "address", ["127.0.0.1", "::1", "10.0.0.5", "192.168.1.1", "172.16.0.1", "100.64.0.1",
                "fc00::1", "::ffff:127.0.0.1"],
)  # fmt: skip
def test_internal_addresses_only_in_development(address: str) -> None:
    addr = ipaddress.ip_address(address)
    assert refusal(addr, allow_private=True) is None
    assert refusal(addr, allow_private=False) is not None


@pytest.mark.parametrize("address", ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"])
def test_public_addresses_are_allowed(address: str) -> None:
    assert refusal(ipaddress.ip_address(address), allow_private=False) is None


def resolving(table: dict[str, list[str]]):  # type: ignore[no-untyped-def]
    async def resolve(host: str, port: int) -> list[str]:
        if host not in table:
            raise OSError("no such host")
        return table[host]

    return resolve


async def test_a_name_is_checked_by_every_address_it_resolves_to() -> None:
    resolver = resolving(
        {
            "metadata.example": ["169.254.169.254"],
            "mixed.example": ["93.184.215.14", "10.0.0.1"],
            "fine.example": ["93.184.215.14"],
        }
    )
    with pytest.raises(WebhookUrlRefused, match="link-local or cloud metadata"):
        await check_url("http://metadata.example/", allow_private=True, resolver=resolver)
    with pytest.raises(WebhookUrlRefused, match="internal"):
        await check_url("https://mixed.example/", allow_private=False, resolver=resolver)
    with pytest.raises(WebhookUrlRefused, match="does not resolve"):
        await check_url("https://nowhere.example/", allow_private=False, resolver=resolver)
    checked = await check_url("https://fine.example/in", allow_private=False, resolver=resolver)
    assert checked.addresses == ["93.184.215.14"]


@pytest.mark.parametrize(
    "url",
    ["http://fine.example/", "ftp://fine.example/", "https://u:p@fine.example/", "https:///x"],
)
async def test_outside_development_only_https_urls_without_credentials(url: str) -> None:
    with pytest.raises(WebhookUrlRefused):
        await check_url(
            url, allow_private=False, resolver=resolving({"fine.example": ["93.184.215.14"]})
        )


async def test_the_connection_goes_to_the_checked_address_with_the_name_as_host() -> None:
    """The name resolves (for the guard) to 127.0.0.1 only; the system could never resolve
    it, so an answer proves the transport connected to the address it checked."""
    app, seen = FastAPI(), []

    @app.post("/in")
    async def receive(request: Request) -> dict[str, str]:
        seen.append(request.headers["host"])
        return {}

    with serve(app) as url:
        port = httpx.URL(url).port
        transport = GuardedTransport(
            allow_private=True, resolver=resolving({"receiver.invalid": ["127.0.0.1"]})
        )
        async with httpx.AsyncClient(transport=transport) as client:
            r = await client.post(f"http://receiver.invalid:{port}/in")
        assert r.status_code == 200
        assert seen == [f"receiver.invalid:{port}"]


async def test_a_name_that_resolves_to_metadata_is_never_connected_to() -> None:
    transport = GuardedTransport(
        allow_private=True, resolver=resolving({"rebound.invalid": ["169.254.169.254"]})
    )
    async with httpx.AsyncClient(transport=transport) as client:
        with pytest.raises(UnsafeAddress, match="link-local"):
            await client.post("http://rebound.invalid/latest/meta-data/")
