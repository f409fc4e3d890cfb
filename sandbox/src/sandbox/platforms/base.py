"""What every platform module provides, and helpers they share."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from sandbox.state import Account, Post, SandboxState

DAY = 86_400
# Ages of the seeded older posts, so a backfill finds posts inside and outside each platform's
# data window (X private metrics 30 d, Facebook 90 d per query...).
HISTORY_AGES_DAYS = (1, 3, 8, 20, 45, 120, 400)


@dataclass(frozen=True)
class PlatformSpec:
    name: str
    router: APIRouter
    rate_limited: Callable[[], Response]
    server_error: Callable[[int], Response]
    truth: Callable[[SandboxState, Post], dict[str, Any]]
    # A 429 burst fault's answer when the platform's 429 depends on the request (state, method,
    # path below the prefix), e.g. X's rate-limit headers; ``rate_limited`` otherwise.
    fault_rate_limited: Callable[[SandboxState, str, str], Response] | None = None
    # Statuses other than 429 the platform answers some rate limits with, and how to tell
    # them from its other errors by the body (Meta: 400 + codes; YouTube: 403 quotaExceeded).
    throttle_statuses: frozenset[int] = frozenset()
    throttle_body: Callable[[bytes], bool] | None = None

    def is_throttled(self, status: int, body: bytes) -> bool:
        if status == 429:
            return True
        return (
            status in self.throttle_statuses
            and self.throttle_body is not None
            and (self.throttle_body(body))
        )

    def burst_answer(self, state: SandboxState, method: str, subpath: str) -> Response:
        if self.fault_rate_limited is None:
            return self.rate_limited()
        return self.fault_rate_limited(state, method, subpath)


def iso(ts: float, sep: str = "T", ms: bool = False) -> str:
    """UTC timestamp as the platforms print it (``2026-01-02T03:04:05Z`` / ``.000Z``)."""
    moment = datetime.fromtimestamp(ts, UTC)
    text = moment.strftime(f"%Y-%m-%d{sep}%H:%M:%S")
    return text + (f".{moment.microsecond // 1000:03d}Z" if ms else "Z")


def meta_time(ts: float) -> str:
    """Graph API style: ``2026-01-02T03:04:05+0000``."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


def seed_history(
    state: SandboxState,
    account: Account,
    new_id: Callable[[float], str],
    kind: str = "post",
    data: Callable[[int], dict[str, Any]] | None = None,
) -> list[Post]:
    """Older posts with metrics, so a backfill right after connecting has something to find.
    Posts of the same age are a minute apart: no two posts of an account share an instant, as
    on the real platforms (whose cursors, like TikTok's millisecond ``cursor``, rely on it)."""
    now = state.clock.now()
    posts = []
    for index in range(state.settings.history_posts):
        age_days = HISTORY_AGES_DAYS[index % len(HISTORY_AGES_DAYS)]
        created_at = now - age_days * DAY - index * 60
        post = Post(
            platform=account.platform,
            id=new_id(created_at),  # some platforms' ids tell the time (X's Snowflakes)
            account_id=account.id,
            text=f"Older post #{index + 1} by {account.username} ({age_days} days ago)",
            media=[],
            created_at=created_at,
            kind=kind,
            data=data(index) if data else {},
        )
        posts.append(state.add_post(post))
    return posts


def add_person(
    state: SandboxState, platform: str, username: str, account_id: str, **data: Any
) -> Account:
    """A person's account as every platform creates one at first consent."""
    return state.add_account(
        Account(
            platform=platform,
            id=account_id,
            username=username,
            name=username.replace("_", " ").title(),
            created_at=account_created_at(state),
            data=data,
        )
    )


def account_created_at(state: SandboxState) -> float:
    """Accounts pre-date the sandbox: they joined two years before first consent."""
    return state.clock.now() - 730 * DAY
