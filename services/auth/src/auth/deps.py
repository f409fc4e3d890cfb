"""FastAPI dependencies of the auth service (the session and principal are shared ones)."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from typing import Annotated

from fastapi import Depends, Request

from auth.context import AuthContext


def context(request: Request) -> AuthContext:
    ctx: AuthContext = request.app.state.auth
    return ctx


def trusted(peer: str, proxies: Sequence[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> bool:
    """Whether ``peer`` is one of the trusted proxies' addresses (or inside their networks:
    in a container network or a Kubernetes cluster the gateway's address is not known
    before it starts, only the range it is given from)."""
    try:
        address = ipaddress.ip_address(peer)
    except ValueError:
        return False
    return any(address in network for network in proxies)


def client_ip(request: Request) -> str:
    """The caller's address; behind our gateway (a trusted proxy) the last X-Forwarded-For
    entry, which the gateway itself appended, so a client cannot spoof it."""
    peer = request.client.host if request.client else "unknown"
    forwarded = request.headers.get("x-forwarded-for")
    if forwarded and trusted(peer, context(request).settings.trusted_networks):
        return forwarded.rsplit(",", 1)[-1].strip() or peer
    return peer


async def _context(request: Request) -> AuthContext:
    # async: FastAPI runs a plain ``def`` dependency in a worker thread, a hand-off per request.
    return context(request)


Ctx = Annotated[AuthContext, Depends(_context)]
