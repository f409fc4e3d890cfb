"""The background refresher keeps an idle account alive on short-lived rotating tokens.

The keep-alive scenario (X tokens of 60 s kept alive for ten minutes), scaled down: X tokens of
6 s and 20 s of idling, spent by advancing the sandbox's clock and the clock injected into
accounts together (no wall-clock wait), each step waiting for the refresher's next turn. Its own
sandbox and its own database, so its refresher never touches the other tests' accounts.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import httpx

from sandbox.settings import SandboxSettings
from socialseed.testing import Infra
from tests.conftest import (
    Stack,
    own_accounts_database,
    own_accounts_service,
    owner_with_workspace,
)


async def test_refresher_keeps_idle_x_account_active(
    api: httpx.AsyncClient, stack: Stack, infra: Infra
) -> None:
    db_url = await own_accounts_database(infra, "socialseed_refresher")
    user, ws = await owner_with_workspace(api)
    offset = [0.0]  # seconds the shared "now" of accounts and the sandbox is ahead

    def clock() -> datetime:
        return datetime.now(UTC) + timedelta(seconds=offset[0])

    with own_accounts_service(
        infra,
        stack,
        SandboxSettings(x_access_token_ttl=6),
        database_url=db_url,
        clock=clock,
        refresher_interval=0.1,
    ) as (accounts_url, sandbox_url):
        async with httpx.AsyncClient(base_url=accounts_url, timeout=20) as client:
            r = await client.post(
                "/api/v1/accounts/connect",
                json={"workspace_id": ws, "platform": "x"},
                headers=user.headers,
            )
            consent = await client.get(
                f"{r.json()['authorize_url']}&sandbox_approve=idle_{uuid.uuid4().hex[:6]}"
            )
            callback = (await client.get(consent.headers["location"])).json()
            done = await client.post(
                "/api/v1/accounts/oauth/complete", json=callback, headers=user.headers
            )
            [account] = done.json()["accounts"]

            async with httpx.AsyncClient(base_url=sandbox_url) as sb:

                async def token_calls() -> int:
                    stats = (await sb.get("/_sandbox/stats")).json()["platforms"]["x"]
                    return int(stats["endpoints"]["POST /2/oauth2/token"]["calls"])

                # idle for 20 s (three token lifetimes and more) in steps of 4 s: each step
                # makes the 6 s token due (within half its lifetime) and the refresher's next
                # turn must refresh it before the next step
                for step in range(1, 6):
                    await sb.post("/_sandbox/clock/advance", json={"seconds": 4})
                    offset[0] += 4
                    async with asyncio.timeout(30):
                        while await token_calls() < 1 + step:
                            await asyncio.sleep(0.05)  # the refresher's next turn

                after = (
                    await client.get(f"/api/v1/accounts/{account['id']}", headers=user.headers)
                ).json()
                assert after["status"] == "active", after
                stats = (await sb.get("/_sandbox/stats")).json()["platforms"]["x"]
                tokens = (await sb.get("/_sandbox/tokens", params={"platform": "x"})).json()
            assert stats["endpoints"]["POST /2/oauth2/token"]["statuses"].keys() == {"200"}
            live = [
                t for t in tokens["tokens"] if t["kind"] == "refresh" and t["status"] == "active"
            ]
            # every refresh spent the previous (rotating) refresh token exactly once
            assert len(live) == 1
            # and the platform still accepts the token we hold
            r = await client.post(f"/api/v1/accounts/{account['id']}/sync", headers=user.headers)
            assert r.status_code == 200 and r.json()["status"] == "active"
