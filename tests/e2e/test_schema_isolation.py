"""Each service connects as its own role, which can touch only its own schema."""

from __future__ import annotations

import asyncpg
import pytest

from socialseed.testing import Infra


@pytest.mark.parametrize(
    ("service", "foreign"), [("auth", "accounts"), ("accounts", "auth"), ("analytics", "publisher")]
)
async def test_a_service_role_cannot_read_another_schema(
    infra: Infra, service: str, foreign: str
) -> None:
    conn = await asyncpg.connect(infra.service_url(service).replace("+asyncpg", ""))
    try:
        assert await conn.fetchval(f"SELECT count(*) >= 0 FROM {service}.outbox")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.fetch(f"SELECT * FROM {foreign}.outbox LIMIT 1")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute("CREATE TABLE public.sneaky (id int)")
    finally:
        await conn.close()
