"""Password and email rules as the register and login routes answer them, called in-process
(httpx ``ASGITransport``) against the real PostgreSQL: named 4xx answers, nothing truncated."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from pydantic import SecretStr

from auth.app import create_app
from auth.keys import generate_pem
from auth.settings import AuthSettings
from socialseed.testing import Infra, asgi_client

RELAXED = "100000/minute"  # the e2e stack logs in from the same address, into the same table


@pytest.fixture
async def auth(infra: Infra) -> AsyncIterator[httpx.AsyncClient]:
    settings = AuthSettings(
        database_url=infra.service_url("auth"),
        kafka_enabled=False,
        dev_mode=True,
        jwt_private_key=SecretStr(generate_pem().decode()),
        argon2_time_cost=1,
        argon2_memory_kib=8,
        login_limit_per_ip=RELAXED,
        login_limit_per_ip_and_email=RELAXED,
        login_limit_per_email=RELAXED,
    )
    async with asgi_client(create_app(settings, background=False)) as client:
        yield client


def email() -> str:
    return f"unit-{uuid.uuid4().hex[:10]}@example.com"


async def register(client: httpx.AsyncClient, address: str, password: str) -> httpx.Response:
    return await client.post(
        "/api/v1/auth/register", json={"email": address, "password": password, "name": "Ada"}
    )


async def login(client: httpx.AsyncClient, address: str, password: str) -> int:
    r = await client.post("/api/v1/auth/login", json={"email": address, "password": password})
    return r.status_code


async def test_a_long_unicode_password_is_kept_whole(auth: httpx.AsyncClient) -> None:
    address, password = email(), "ünïcødé-🔑-" + "x" * 90  # well past 72 bytes
    assert (await register(auth, address, password)).status_code == 201
    assert await login(auth, address, password) == 200
    assert await login(auth, address, password.encode()[:72].decode(errors="ignore")) == 401
    assert await login(auth, address, password[:-1] + "y") == 401
    assert await login(auth, address.upper(), password) == 200  # emails are case-blind


@pytest.mark.parametrize(
    ("address", "password", "answer"),
    [
        (None, "password123", (400, "WeakPassword")),
        (None, "Password1", (400, "WeakPassword")),
        ("ada@example.invalid", "a long passphrase", (400, "InvalidEmail")),
        (None, "short", (422, "ValidationError")),  # the schema's minimum
    ],
)
async def test_a_broken_rule_is_a_named_answer_and_no_account(
    auth: httpx.AsyncClient, address: str | None, password: str, answer: tuple[int, str]
) -> None:
    address = address or email()
    r = await register(auth, address, password)
    assert (r.status_code, r.json()["error"]) == answer, r.text
    assert await login(auth, address, password) == 401  # nothing was created


async def test_an_email_is_taken_whatever_its_case(auth: httpx.AsyncClient) -> None:
    address = email()
    assert (await register(auth, address, "a fine passphrase")).status_code == 201
    r = await register(auth, address.upper(), "another fine passphrase")
    assert (r.status_code, r.json()["error"]) == (409, "EmailTaken")
