"""Outside dev mode the gateway's operational detail is for operators only: ``/metrics`` and
the per-check ``/healthz`` answer need the metrics token, the public sees up or down."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from gateway.app import create_app
from gateway.settings import GatewaySettings
from socialseed.testing import asgi_client, free_port

TOKEN = "a-scraper-token-of-the-operators"


@pytest.mark.parametrize("dev_mode", [False, True])
async def test_metrics_and_health_details_need_the_token_outside_dev_mode(dev_mode: bool) -> None:
    dead = f"http://127.0.0.1:{free_port()}"  # an upstream that is down: a check fails
    settings = GatewaySettings(
        dev_mode=dev_mode, metrics_token=SecretStr(TOKEN), upstreams={"auth": dead}
    )
    async with asgi_client(create_app(settings)) as gw:
        public_health = await gw.get("/healthz")
        public_metrics = await gw.get("/metrics")
        wrong = await gw.get("/metrics", headers={"Authorization": "Bearer not-the-token"})
        scraper = {"Authorization": f"Bearer {TOKEN}"}
        health = await gw.get("/healthz", headers=scraper)
        metrics = await gw.get("/metrics", headers=scraper)

    # Everyone learns whether it is up; operators learn why not.
    assert public_health.status_code == health.status_code == 503
    assert health.json()["checks"]["auth"].startswith("failing")
    assert metrics.status_code == 200 and "socialseed_http_requests" in metrics.text
    if dev_mode:  # the local stack: open, as before
        assert public_health.json()["checks"] and public_metrics.status_code == 200
        return
    assert public_health.json() == {"status": "degraded"}
    for refused in (public_metrics, wrong):
        assert refused.status_code == 401 and refused.json()["error"] == "Unauthorized"
        assert "socialseed_" not in refused.text


async def test_without_a_token_nobody_scrapes_outside_dev_mode() -> None:
    settings = GatewaySettings(upstreams={})
    async with asgi_client(create_app(settings)) as gw:
        assert (await gw.get("/metrics")).status_code == 401
        assert (await gw.get("/metrics", headers={"Authorization": "Bearer "})).status_code == 401
        assert (await gw.get("/healthz")).json() == {"status": "ok"}
