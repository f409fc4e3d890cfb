"""The web app in a real browser (Debian's Chromium, driven by playwright-core from Node.js)
against the real stack: the first-visit journey of ``web/e2e/newcomer.mjs`` and the publishing
journey of ``web/e2e/publishing.mjs`` and the approvals journey of ``web/e2e/approvals.mjs`` and the analytics journey of ``web/e2e/analytics.mjs`` and the editing journey of ``web/e2e/editing.mjs``
and the drafts journey of ``web/e2e/drafts.mjs`` and the first comment's of
``web/e2e/first-comment.mjs`` and the integrations journey of ``web/e2e/integrations.mjs``. Screenshots go to ``web/test-results/screenshots``
(ignored by git)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI, Request, Response
from PIL import Image
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from analytics.app import create_app as create_analytics
from analytics.context import AnalyticsContext
from analytics.fetching.fetcher import FetchWorkers
from socialseed.testing import serve
from tests.conftest import Stack
from tests.web.conftest import WEB

SCREENSHOTS = WEB / "test-results" / "screenshots"


async def journey(script: str, *args: str, timeout: float) -> dict:
    """Run one browser journey; its last line of output is its report."""
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.fail("Debian's chromium is needed: make bootstrap-browser")
    proc = await asyncio.create_subprocess_exec(
        "node", f"e2e/{script}", *args, str(SCREENSHOTS),
        cwd=WEB,
        env={**os.environ, "CHROMIUM": chromium},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), timeout=timeout)
    lines = out.decode().strip().splitlines()
    report: dict = json.loads(lines[-1]) if lines else {"ok": False, "error": "no report"}
    assert proc.returncode == 0 and report["ok"], (
        f"{report.get('error')}\nsteps: {report.get('steps')}\nproblems: "
        f"{report.get('problems')}\nstderr:\n{err.decode()[-3000:]}"
    )
    return report


@pytest.mark.timeout(300)
async def test_a_newcomer_signs_up_creates_a_workspace_and_connects_x(
    stack: Stack, web_build: Path
) -> None:
    report = await journey("newcomer.mjs", stack.gateway_url, timeout=280)
    assert report["headers"]["nosniff"] == "nosniff"
    assert "frame-ancestors 'none'" in report["headers"]["csp"]
    for name in ("accounts-desktop.png", "accounts-375.png", "accounts-desktop-dark.png"):
        assert (SCREENSHOTS / name).stat().st_size > 0


@pytest.mark.timeout(420)
async def test_a_post_is_composed_checked_scheduled_published_and_a_failure_retried(
    stack: Stack, web_build: Path
) -> None:
    """Compose with live counts and the server's verdict per account, a DST gap explained,
    schedule two minutes ahead in the workspace's zone, see it published with its link;
    cancel; a failed publish in words, reconnect, Retry; the posts list filtered."""
    await journey("publishing.mjs", stack.gateway_url, stack.sandbox_url, timeout=400)
    for name in (
        "composer-invalid-desktop.png",
        "composer-375-dark.png",
        "post-failed-desktop.png",
    ):
        assert (SCREENSHOTS / name).stat().st_size > 0


@pytest.mark.timeout(300)
async def test_a_post_is_previewed_per_platform_and_its_accounts_and_options_edited(
    stack: Stack, web_build: Path
) -> None:
    """The composer previews each account's platform (X's thread); the post page's editor (the
    composer's form) adds a LinkedIn account (its preview folds at "…see more") and changes
    options (X's preview follows); the server accepts the PATCH and the options read back."""
    await journey("editing.mjs", stack.gateway_url, timeout=280)
    for name in (
        "composer-previews-desktop.png",
        "composer-previews-375.png",
        "post-editor-desktop.png",
    ):
        assert (SCREENSHOTS / name).stat().st_size > 0


@pytest.mark.timeout(360)
async def test_an_invited_editor_s_post_is_rejected_with_a_reason_resubmitted_and_approved(
    stack: Stack, web_build: Path
) -> None:
    """Two browsers: the owner invites an editor, who accepts (a fresh token honours the
    role) and composes; the post waits in Approvals; the owner rejects it with a reason; the
    editor reads it, edits and resubmits; the owner approves; it publishes."""
    await journey("approvals.mjs", stack.gateway_url, stack.sandbox_url, timeout=340)
    for name in ("members-desktop.png", "approvals-desktop.png", "approvals-375-dark.png"):
        assert (SCREENSHOTS / name).stat().st_size > 0


@pytest.mark.timeout(300)
async def test_a_draft_with_a_described_image_is_saved_listed_and_published_now(
    stack: Stack, web_build: Path, tmp_path: Path
) -> None:
    """Upload an image in the composer and give it alt text (too long for X is shown before
    it is sent), save the post as a draft, find it under the Drafts filter, publish it now
    from its page; the sandbox's tweet carries the alt text."""
    image = tmp_path / "coffee.jpg"
    Image.new("RGB", (800, 600), (120, 80, 40)).save(image, "JPEG")
    await journey("drafts.mjs", stack.gateway_url, stack.sandbox_url, str(image), timeout=280)
    for name in ("draft-desktop.png", "draft-375.png"):
        assert (SCREENSHOTS / name).stat().st_size > 0


@pytest.mark.timeout(300)
async def test_a_post_with_a_first_comment_is_published_and_commented_once(
    stack: Stack, web_build: Path
) -> None:
    """The composer's First comment for a LinkedIn account (its count against 1,250, too long
    marked), publish now; the post page says published and "First comment posted"; the
    sandbox holds exactly one such comment."""
    await journey("first-comment.mjs", stack.gateway_url, stack.sandbox_url, timeout=280)
    assert (SCREENSHOTS / "post-first-comment-desktop.png").stat().st_size > 0


@pytest.mark.timeout(480)
async def test_analytics_shows_a_new_account_s_backfill_chart_heat_map_and_refresh(
    stack: Stack, web_build: Path
) -> None:
    """Connect two sandbox X accounts; the Analytics page follows the backfill until its
    posts show; platform cards with numbers, the followers chart (an SVG with its points) and
    another metric over time, chosen days (a backwards range refused in words), the accounts
    compared (a row and a bar each), the best-times heat map; Refresh for one account and for
    all shows progress or RefreshTooSoon's words; a CSV export; a post published now shows its
    own numbers on its page; no <style> element and no CSP violation; axe clean; desktop and
    375px screenshots."""
    # The stack runs analytics without its background jobs (tests drive them): its fetch
    # workers run here, in this test's event loop, for as long as the journey does.
    app = create_analytics(stack.analytics.settings, background=False)
    ctx: AnalyticsContext = app.state.analytics
    fetching = asyncio.create_task(FetchWorkers(ctx, name="browser-analytics").run())
    try:
        await journey("analytics.mjs", stack.gateway_url, timeout=420)
    finally:
        fetching.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await fetching
        for client in ctx.runtime.http_clients:
            await client.aclose()
        await ctx.db.dispose()
    for name in (
        "analytics-desktop.png",
        "analytics-375.png",
        "analytics-desktop-dark.png",
        "post-analytics-desktop.png",
    ):
        assert (SCREENSHOTS / name).stat().st_size > 0


@pytest.mark.timeout(300)
async def test_webhooks_and_api_keys_are_managed_on_the_integrations_page(
    stack: Stack, web_build: Path
) -> None:
    """The Integrations page: a refused URL in the server's words next to the field; an
    endpoint to this test's receiver, its secret shown once; a test event delivered (its 200
    listed), redelivered under the same webhook-id; events edited; the secret rotated and the
    next test signed with the new one; an API key made, used to read the workspace through the
    gateway, revoked (the list empty, the key refused)."""
    got: list[tuple[str, dict[str, str], bytes]] = []
    receiver = FastAPI()

    @receiver.post("/hook/{name}")
    async def hook(name: str, request: Request) -> Response:
        got.append((f"/hook/{name}", dict(request.headers), await request.body()))
        return Response(status_code=200, content=b"thanks")

    with serve(receiver) as url:
        report = await journey("integrations.mjs", stack.gateway_url, url, timeout=280)
    # The journey saw all 23 delivered, so the receiver holds them all.
    mine = [(h, b) for path, h, b in got if path == report["hook_path"]]
    assert len(mine) == 23, [h.get("webhook-id") for h, _ in mine]
    (h1, b1), (h2, b2), *rest = mine
    first, again = (Webhook(report["secret"]).verify(b, h) for h, b in ((h1, b1), (h2, b2)))
    assert first["type"] == again["type"] == "webhook.test"
    assert h1["webhook-id"] == h2["webhook-id"]  # a redelivery is the same message
    for h, b in rest:  # after the rotation: the new secret, never the old
        assert Webhook(report["rotated"]).verify(b, h)["type"] == "webhook.test"
        with pytest.raises(WebhookVerificationError):
            Webhook(report["secret"]).verify(b, h)
    assert len({h["webhook-id"] for h, _ in rest}) == 21  # each test a message of its own
    async with httpx.AsyncClient(base_url=stack.gateway_url) as client:
        r = await client.get(
            f"/api/v1/workspaces/{report['workspace']}",
            headers={"Authorization": f"Bearer {report['key']}"},
        )
    assert r.status_code == 401, r.text
    for name in (
        "integrations-desktop.png",
        "integrations-desktop-dark.png",
        "integrations-375.png",
        "integrations-secret-desktop.png",
    ):
        assert (SCREENSHOTS / name).stat().st_size > 0


PAGES = (
    "sign-in",
    "sign-up",
    "home-new",
    "accounts",
    "new-workspace",
    "compose",
    "post",
    "posts",
    "calendar-month",
    "calendar-week",
    "calendar-list",
    "approvals",
    "members",
    "analytics",
    "integrations",
    "not-found",
)


@pytest.mark.timeout(420)
async def test_every_page_is_screenshotted_at_desktop_width_and_375px(
    stack: Stack, web_build: Path
) -> None:
    """Every page of the app, desktop (light and dark) and 375px: axe clean on each, no
    sideways scroll at 375px, no console error or failed request (``web/e2e/pages.mjs``)."""
    report = await journey("pages.mjs", stack.gateway_url, timeout=400)
    expected = {f"page-{p}-{size}.png" for p in PAGES for size in ("desktop", "375")}
    assert expected <= set(report["shots"])
    for name in expected:
        assert (SCREENSHOTS / name).stat().st_size > 0, name
