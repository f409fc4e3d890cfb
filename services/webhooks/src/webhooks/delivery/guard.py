"""Where a webhook may be sent: the server-side request forgery guard.

A receiver's URL is the customer's, so it may name (or resolve to) an address inside our own
network. Every address a host resolves to is checked, and the connection then goes to the
address that was checked (``GuardedTransport``: the URL's host replaced by that address, the
``Host`` header and TLS server name kept as the customer wrote them, so the certificate is
still verified for their name), so a DNS answer that changes between check and connect
(rebinding) cannot reach an address we refused. Redirects are never followed.

- Always refused: link-local addresses (``169.254.0.0/16``, ``fe80::/10``, where clouds serve
  instance metadata), the metadata addresses that are not link-local (``fd00:ec2::254``,
  ``100.100.100.200``), multicast, unspecified and reserved addresses — in their IPv4-mapped and
  6to4 IPv6 spellings too.
- Outside development mode also: loopback, private and shared (carrier NAT) ranges, and any URL
  that is not ``https``.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx

from socialseed.errors import BadRequest

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
#: Host and port to the addresses it resolves to (tests pass their own).
Resolver = Callable[[str, int], Awaitable[list[str]]]

METADATA = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200", "169.254.170.2")
)


class WebhookUrlRefused(BadRequest):
    """The URL is not one SocialSeed sends webhooks to (the detail says why)."""

    default_detail = "Webhooks cannot be sent to this URL."


class UnsafeAddress(Exception):
    """At send time: the host resolved to an address we refuse (an attempt that fails)."""


async def system_resolver(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _embedded_v4(addr: IPAddress) -> ipaddress.IPv4Address | None:
    if isinstance(addr, ipaddress.IPv6Address):
        return addr.ipv4_mapped or addr.sixtofour
    return None


def refusal(addr: IPAddress, *, allow_private: bool) -> str | None:
    """Why ``addr`` may not receive a webhook, in words; None when it may."""
    inner = _embedded_v4(addr)
    if inner is not None:
        return refusal(inner, allow_private=allow_private)
    if addr in METADATA or addr.is_link_local:
        return f"{addr} is a link-local or cloud metadata address"
    if addr.is_multicast or addr.is_unspecified or (addr.is_reserved and not addr.is_loopback):
        return f"{addr} is not a unicast address"
    if not allow_private and not addr.is_global:
        return f"{addr} is a loopback, private or otherwise internal address"
    return None


@dataclass(frozen=True)
class Checked:
    url: httpx.URL
    addresses: list[str]  # every one allowed; the connection goes to the first


def _parse(url: str, *, allow_private: bool) -> httpx.URL:
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, ValueError) as exc:
        raise WebhookUrlRefused(f"Not a URL: {exc}") from exc
    if parsed.scheme not in ("https", "http"):
        raise WebhookUrlRefused("The URL must start with https://.")
    if parsed.scheme == "http" and not allow_private:
        raise WebhookUrlRefused("The URL must use https.")
    if not parsed.host:
        raise WebhookUrlRefused("The URL has no host.")
    if parsed.userinfo:
        raise WebhookUrlRefused("The URL may not carry a user name or password.")
    return parsed


async def check_url(url: str, *, allow_private: bool, resolver: Resolver) -> Checked:
    """The URL and the addresses it may be sent to, or ``WebhookUrlRefused`` naming why."""
    parsed = _parse(url, allow_private=allow_private)
    host = parsed.host
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        addresses = [ipaddress.ip_address(host)]
    except ValueError:
        try:
            addresses = [ipaddress.ip_address(a.split("%")[0]) for a in await resolver(host, port)]
        except OSError as exc:
            raise WebhookUrlRefused(f"{host} does not resolve.") from exc
        if not addresses:
            raise WebhookUrlRefused(f"{host} does not resolve.") from None
    for addr in addresses:
        why = refusal(addr, allow_private=allow_private)
        if why is not None:
            raise WebhookUrlRefused(f"{host} resolves to a refused address: {why}.")
    return Checked(parsed, [str(a) for a in addresses])


class GuardedTransport(httpx.AsyncBaseTransport):
    """An httpx transport that checks each request's host as ``check_url`` does and connects
    to the checked address. Connections are not kept alive: a pooled connection is keyed by
    address, and must not carry another host's request."""

    def __init__(self, *, allow_private: bool, resolver: Resolver = system_resolver) -> None:
        self.allow_private = allow_private
        self.resolver = resolver
        self._inner = httpx.AsyncHTTPTransport(limits=httpx.Limits(max_keepalive_connections=0))

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            checked = await check_url(
                str(request.url), allow_private=self.allow_private, resolver=self.resolver
            )
        except WebhookUrlRefused as exc:
            raise UnsafeAddress(exc.detail) from exc
        host = request.url.host
        request.url = request.url.copy_with(host=checked.addresses[0])
        request.headers["Host"] = request.headers.get("Host") or host
        request.extensions = {**request.extensions, "sni_hostname": host}
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()
