"""The auth service and the gateway served over real HTTP against the real harness."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import httpx
import pytest
from pydantic import SecretStr

from auth.app import create_app as create_auth
from auth.keys import generate_pem
from auth.settings import AuthSettings
from gateway.app import create_app as create_gateway
from gateway.settings import GatewaySettings
from socialseed.testing import Infra, serve

RELAXED = "100000/minute"  # the session's shared apps; throttling tests build their own


def auth_settings(infra: Infra, **overrides: object) -> AuthSettings:
    values: dict[str, object] = {
        "database_url": infra.service_url("auth"),
        "kafka_bootstrap": infra.kafka_bootstrap,
        "jwt_private_key": SecretStr(generate_pem().decode()),
        "outbox_poll_interval": 0.1,
        "login_limit_per_ip": RELAXED,
        "login_limit_per_ip_and_email": RELAXED,
    } | overrides
    return AuthSettings(**values)  # type: ignore[arg-type]


@dataclass
class Stack:
    auth_url: str
    gateway_url: str
    settings: AuthSettings


@pytest.fixture(scope="session")
def stack(infra: Infra) -> Iterator[Stack]:
    settings = auth_settings(infra)
    with serve(create_auth(settings)) as auth_url:
        gw = GatewaySettings(
            upstreams={"auth": auth_url},
            limit_per_ip=RELAXED,
            limit_per_user=RELAXED,
            limit_login_per_ip=RELAXED,
        )
        with serve(create_gateway(gw)) as gateway_url:
            yield Stack(auth_url=auth_url, gateway_url=gateway_url, settings=settings)


@pytest.fixture
async def api(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=20) as client:
        yield client


@dataclass
class User:
    id: str
    email: str
    password: str
    access: str
    refresh: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access}"}


async def make_user(api: httpx.AsyncClient, *, name: str = "Ada") -> User:
    email = f"{name.lower()}-{uuid.uuid4().hex[:10]}@example.com"
    password = f"correct horse {uuid.uuid4().hex[:6]} battery"
    r = await api.post(
        "/api/v1/auth/register", json={"email": email, "password": password, "name": name}
    )
    assert r.status_code == 201, r.text
    r = await api.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert r.status_code == 200, r.text
    tokens = r.json()
    me = await api.get(
        "/api/v1/auth/me", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert me.status_code == 200, me.text
    return User(
        id=me.json()["id"],
        email=email,
        password=password,
        access=tokens["access_token"],
        refresh=tokens["refresh_token"],
    )


async def make_workspace(
    api: httpx.AsyncClient, owner: User, **fields: object
) -> dict[str, object]:
    r = await api.post("/api/v1/workspaces", json={"name": "Acme", **fields}, headers=owner.headers)
    assert r.status_code == 201, r.text
    return dict(r.json())
