"""Deterministic metrics that grow over sandbox time.

Each post gets a curve from ``blake2b(seed, platform, post id)``: a view ceiling, a time constant
and engagement rates. Views follow ``ceiling * (1 - exp(-age / tau))`` and every other counter is
a fixed fraction of the *unrounded* views, so all counters are monotonic and exact for a given
seed, post id and age: tests can assert numbers, and re-running gives the same ones.
Account-level daily series are sums of the posts' growth inside each day, so they agree with the
per-post numbers.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta

from sandbox.state import Account, Post, SandboxState


@dataclass(frozen=True)
class Curve:
    ceiling: float
    tau: float
    reach: float
    like: float
    comment: float
    share: float
    save: float
    click: float
    profile: float
    follow: float
    quote: float
    watch_seconds: float


@dataclass(frozen=True)
class Counts:
    views: int
    reach: int
    likes: int
    comments: int
    shares: int
    saves: int
    clicks: int
    profile_visits: int
    follows: int
    quotes: int
    watch_seconds: int

    @property
    def interactions(self) -> int:
        return self.likes + self.comments + self.shares + self.saves

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def _fractions(seed: int, platform: str, post_id: str) -> list[float]:
    digest = hashlib.blake2b(f"{seed}:{platform}:{post_id}".encode(), digest_size=24).digest()
    return [int.from_bytes(digest[i : i + 2], "big") / 65535 for i in range(0, 24, 2)]


def curve(seed: int, platform: str, post_id: str) -> Curve:
    f = _fractions(seed, platform, post_id)
    return Curve(
        ceiling=200 + f[0] * 20_000,
        tau=3_600 * (2 + f[1] * 46),  # 2 h .. 48 h
        reach=0.55 + f[2] * 0.4,
        like=0.02 + f[3] * 0.06,
        comment=0.002 + f[4] * 0.008,
        share=0.001 + f[5] * 0.009,
        save=0.001 + f[6] * 0.006,
        click=0.005 + f[7] * 0.025,
        profile=0.002 + f[8] * 0.01,
        follow=0.0005 + f[9] * 0.003,
        quote=0.0005 + f[10] * 0.002,
        watch_seconds=4 + f[11] * 36,
    )


def _views_float(c: Curve, age: float) -> float:
    return 0.0 if age <= 0 else c.ceiling * (1 - math.exp(-age / c.tau))


def counts_at(seed: int, platform: str, post_id: str, age: float) -> Counts:
    c = curve(seed, platform, post_id)
    views = _views_float(c, age)
    return Counts(
        views=math.floor(views),
        reach=math.floor(views * c.reach),
        likes=math.floor(views * c.like),
        comments=math.floor(views * c.comment),
        shares=math.floor(views * c.share),
        saves=math.floor(views * c.save),
        clicks=math.floor(views * c.click),
        profile_visits=math.floor(views * c.profile),
        follows=math.floor(views * c.follow),
        quotes=math.floor(views * c.quote),
        watch_seconds=math.floor(views * c.watch_seconds),
    )


def post_counts(state: SandboxState, post: Post, at: float | None = None) -> Counts:
    now = state.clock.now() if at is None else at
    return counts_at(state.settings.seed, post.platform, post.id, now - post.created_at)


def daily_counts(
    state: SandboxState, posts: list[Post], day: datetime, as_of: float | None = None
) -> dict[str, int]:
    """Growth of the posts' counters during one UTC day, capped at ``as_of`` (default now; a
    platform whose insights lag reports an earlier moment)."""
    now = state.clock.now() if as_of is None else as_of
    start = day.timestamp()
    end = min((day + timedelta(days=1)).timestamp(), now)
    total: dict[str, int] = {}
    if end <= start:
        return {k: 0 for k in Counts.__dataclass_fields__}
    for post in posts:
        later = post_counts(state, post, end).as_dict()
        earlier = post_counts(state, post, start).as_dict()
        for key, value in later.items():
            total[key] = total.get(key, 0) + value - earlier[key]
    return total or {k: 0 for k in Counts.__dataclass_fields__}


def utc_days(since: float, until: float) -> list[datetime]:
    first = datetime.fromtimestamp(since, UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    days = []
    day = first
    while day.timestamp() < until:
        days.append(day)
        day += timedelta(days=1)
    return days


def followers(state: SandboxState, account: Account, at: float | None = None) -> int:
    """Followers: a seeded base plus steady growth since the account was created."""
    now = state.clock.now() if at is None else at
    f = _fractions(state.settings.seed, account.platform, "followers:" + account.id)
    base = 150 + int(f[0] * 5_000)
    per_day = 1 + f[1] * 40
    return base + max(0, math.floor((now - account.created_at) / 86_400 * per_day))


def following(state: SandboxState, account: Account) -> int:
    f = _fractions(state.settings.seed, account.platform, "following:" + account.id)
    return 20 + int(f[0] * 800)
