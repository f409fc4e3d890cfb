"""In-memory state of the sandbox: clock, accounts, OAuth grants, tokens, posts, ledger, stats.

Everything lives in one ``SandboxState`` per app so ``POST /_sandbox/reset`` is just a new object
and tests can run several sandboxes side by side.
"""

from __future__ import annotations

import asyncio
import bisect
import hashlib
import itertools
import secrets
import time
from collections import Counter
from collections.abc import Callable, Coroutine, Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, NamedTuple

from sandbox.attribution import attribute
from sandbox.faults import Faults
from sandbox.ratelimit import RateLimiter
from sandbox.settings import SandboxSettings


class Clock:
    """Sandbox time = real time + an offset that ``/_sandbox/clock/advance`` grows; frozen
    (``/_sandbox/clock/freeze``), real time stops counting, so metrics that grow with time
    can be compared exactly with ``/_sandbox/truth`` (advancing still moves it)."""

    def __init__(self) -> None:
        self.offset = 0.0
        self.frozen_at: float | None = None

    def now(self) -> float:
        return (time.time() if self.frozen_at is None else self.frozen_at) + self.offset

    def freeze(self, frozen: bool) -> None:
        if frozen and self.frozen_at is None:
            self.frozen_at = time.time()
        elif not frozen and self.frozen_at is not None:
            # Resume from the moment shown: the frozen stretch is not made up for.
            self.offset -= time.time() - self.frozen_at
            self.frozen_at = None

    def advance(self, seconds: float) -> None:
        self.offset += seconds


def digits(text: str, count: int) -> str:
    """Deterministic decimal digits from a text (stable ids across runs)."""
    number = int.from_bytes(hashlib.blake2b(text.encode(), digest_size=16).digest(), "big")
    return str(number).rjust(count, "0")[-count:]


def random_token(prefix: str, length: int = 48) -> str:
    return prefix + secrets.token_urlsafe(length)[:length]


@dataclass
class Account:
    platform: str
    id: str
    username: str
    name: str
    created_at: float
    kind: str = "user"  # user | page | organization
    parent_id: str | None = None  # owner of a Facebook page / admin of a LinkedIn organization
    data: dict[str, Any] = field(default_factory=dict)


class TokenProblem(StrEnum):
    MISSING = "missing"
    INVALID = "invalid"
    EXPIRED = "expired"
    REVOKED = "revoked"


@dataclass
class Token:
    value: str
    platform: str
    kind: str  # access | refresh | page
    account_id: str
    scopes: tuple[str, ...]
    issued_at: float
    expires_at: float | None
    grant_id: str  # every token of one consent; revoking the consent ends them all
    revoked_reason: str | None = None
    used: bool = False  # a rotated refresh token
    data: dict[str, Any] = field(default_factory=dict)

    def status(self, now: float) -> str:
        if self.revoked_reason:
            return "revoked"
        if self.used:
            return "used"
        if self.expires_at is not None and now >= self.expires_at:
            return "expired"
        return "active"


@dataclass
class AuthCode:
    value: str
    platform: str
    client_id: str
    redirect_uri: str
    scopes: tuple[str, ...]
    account_id: str
    expires_at: float
    code_challenge: str | None = None
    code_challenge_method: str | None = None
    used: bool = False
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class Post:
    platform: str
    id: str
    account_id: str
    text: str
    media: list[dict[str, Any]]
    created_at: float
    kind: str = "post"
    request: dict[str, Any] | None = None  # None for seeded history
    data: dict[str, Any] = field(default_factory=dict)
    deleted: bool = False


@dataclass
class Comment:
    """A comment on a post, as the platforms keep them: who wrote it (the account id), on
    which post, its text and time. ``request`` is what the API call carried (None: seeded)."""

    platform: str
    id: str
    post_id: str
    author_id: str
    text: str
    created_at: float
    request: dict[str, Any] | None = None


class TokenStore:
    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.by_value: dict[str, Token] = {}

    def issue(
        self,
        platform: str,
        kind: str,
        account_id: str,
        scopes: Iterable[str],
        ttl: float | None,
        grant_id: str,
        prefix: str,
        **data: Any,
    ) -> Token:
        now = self.clock.now()
        token = Token(
            value=random_token(prefix),
            platform=platform,
            kind=kind,
            account_id=account_id,
            scopes=tuple(scopes),
            issued_at=now,
            expires_at=None if ttl is None else now + ttl,
            grant_id=grant_id,
            data=dict(data),
        )
        self.by_value[token.value] = token
        return token

    def check(
        self, platform: str, value: str | None, kinds: tuple[str, ...] = ("access", "page")
    ) -> Token | TokenProblem:
        """Resolve a presented token, or say why it is refused."""
        if not value:
            return TokenProblem.MISSING
        token = self.by_value.get(value)
        if token is None or token.platform != platform or token.kind not in kinds:
            return TokenProblem.INVALID
        attribute(token.account_id)  # refused or not, it is this account's request
        if token.revoked_reason:
            return TokenProblem.REVOKED
        if token.used or (token.expires_at is not None and self.clock.now() >= token.expires_at):
            return TokenProblem.EXPIRED
        return token

    def revoke(self, predicate: Callable[[Token], bool], reason: str) -> int:
        count = 0
        for token in self.by_value.values():
            if not token.revoked_reason and predicate(token):
                token.revoked_reason = reason
                count += 1
        return count

    def revoke_grant(self, grant_id: str, reason: str = "revoked") -> int:
        return self.revoke(lambda t: t.grant_id == grant_id, reason)


class IdSource:
    """Monotonic counters so created ids are predictable within one run."""

    def __init__(self) -> None:
        self.counters: dict[str, itertools.count[int]] = {}

    def next(self, name: str, start: int = 1) -> int:
        counter = self.counters.setdefault(name, itertools.count(start))
        return next(counter)


class Call(NamedTuple):
    """One kind of call ``/_sandbox/stats`` counts: where it went, what it was answered (0: a
    dropped connection that was never answered), for which account if a token or code said."""

    platform: str
    endpoint: str
    status: int
    account: str | None
    throttled: bool  # a rate limit, whatever the status (Meta's 400s, YouTube's 403s)
    dropped: bool  # the client never got the answer


@dataclass
class Stats:
    calls: Counter[Call] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=Counter)
    requests: int = 0

    def record(
        self,
        platform: str,
        endpoint: str,
        status: int,
        *,
        account: str | None,
        throttled: bool,
        dropped: bool = False,
    ) -> None:
        """One call; ``throttled`` when its answer is a rate limit, whatever the status (429,
        Meta's 400 codes, YouTube's 403 quotaExceeded), or a Graph batch's answer is one for
        any of its items; ``dropped`` when the client never got it (``status`` is then what
        the platform answered, 0 if it never did)."""
        self.calls[Call(platform, endpoint, status, account, throttled, dropped)] += 1

    def as_json(self, accounts: Iterable[str] | None = None) -> dict[str, Any]:
        """Calls per platform and endpoint; only those concerning ``accounts`` (ids) if given
        (``faults`` then still counts the platform's)."""
        wanted = None if accounts is None else set(accounts)
        platforms: dict[str, Any] = {}
        for call, count in sorted(self.calls.items(), key=lambda item: item[0][:3]):
            if wanted is not None and call.account not in wanted:
                continue
            entry = platforms.setdefault(
                call.platform,
                {"calls": 0, "endpoints": {}, "rate_limited": 0, "server_errors": 0, "dropped": 0},
            )
            entry["calls"] += count
            entry["rate_limited"] += count if call.throttled else 0
            entry["server_errors"] += count if call.status >= 500 else 0
            entry["dropped"] += count if call.dropped else 0
            calls = entry["endpoints"].setdefault(call.endpoint, {"calls": 0, "statuses": {}})
            calls["calls"] += count
            statuses = calls["statuses"]
            statuses[str(call.status)] = statuses.get(str(call.status), 0) + count
        for platform, entry in platforms.items():
            entry["faults"] = self.faults[platform]
        return {"requests": self.requests, "platforms": platforms}


class SandboxState:
    def __init__(self, settings: SandboxSettings, clock: Clock | None = None) -> None:
        self.settings = settings
        self.clock = clock or Clock()
        self.tokens = TokenStore(self.clock)
        self.codes: dict[str, AuthCode] = {}
        self.accounts: dict[tuple[str, str], Account] = {}  # (platform, id)
        self.usernames: dict[tuple[str, str], str] = {}  # (platform, username) -> user id
        self.users: Counter[str] = Counter()  # platform -> number of people (not pages)
        self.posts: dict[tuple[str, str], Post] = {}
        self.by_account: dict[tuple[str, str], list[Post]] = {}  # oldest first
        self.by_text: dict[tuple[str, str, str], list[Post]] = {}  # (platform, account, text)
        self.ledger: list[Post] = []
        self.comments: dict[
            tuple[str, str], list[Comment]
        ] = {}  # (platform, post id), oldest first
        self.stats = Stats()
        self.limits = RateLimiter()
        self.faults = Faults(settings.seed)
        self.ids = IdSource()
        # Platform-owned objects that are not posts (upload sessions, containers, media...).
        self.objects: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}  # (platform, kind)
        self.objects_by_owner: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
        self.blobs: dict[str, tuple[str, bytes]] = {}
        self.tasks: set[asyncio.Task[None]] = set()  # /_sandbox/media: id -> (type, bytes)

    def background(self, work: Coroutine[Any, Any, None]) -> None:
        """Run ``work`` after the response (a platform's asynchronous processing)."""
        task = asyncio.get_running_loop().create_task(work)
        self.tasks.add(task)  # held until done: the loop keeps only weak references
        task.add_done_callback(self.tasks.discard)

    # accounts -----------------------------------------------------------------------------
    def account(self, platform: str, account_id: str) -> Account | None:
        return self.accounts.get((platform, account_id))

    def add_account(self, account: Account) -> Account:
        self.accounts[(account.platform, account.id)] = account
        if account.kind == "user":
            if (account.platform, account.username) not in self.usernames:
                self.users[account.platform] += 1
            self.usernames[(account.platform, account.username)] = account.id
        return account

    def user_by_name(self, platform: str, username: str) -> Account | None:
        account_id = self.usernames.get((platform, username))
        return None if account_id is None else self.accounts[(platform, account_id)]

    def children(self, platform: str, parent_id: str) -> list[Account]:
        return [
            a for a in self.accounts.values() if a.platform == platform and a.parent_id == parent_id
        ]

    def known_usernames(self, platform: str) -> list[str]:
        return sorted(name for (p, name) in self.usernames if p == platform)

    # posts --------------------------------------------------------------------------------
    def add_post(self, post: Post) -> Post:
        self.posts[(post.platform, post.id)] = post
        # Each account's posts stay sorted by creation time (seeded history and scheduled posts
        # arrive out of order), so publishing never scans other accounts' posts.
        bisect.insort(
            self.by_account.setdefault((post.platform, post.account_id), []),
            post,
            key=lambda p: p.created_at,
        )
        self.by_text.setdefault((post.platform, post.account_id, post.text), []).append(post)
        if post.request is not None:
            self.ledger.append(post)
        return post

    def post(self, platform: str, post_id: str) -> Post | None:
        post = self.posts.get((platform, post_id))
        return None if post is None or post.deleted else post

    def posts_of(self, platform: str, account_id: str) -> list[Post]:
        """An account's live posts, newest first."""
        return [
            p for p in reversed(self.by_account.get((platform, account_id), [])) if not p.deleted
        ]

    def posts_since(self, platform: str, account_id: str, since: float) -> Iterator[Post]:
        """An account's live posts created at or after ``since``, newest first; reads only those
        (the duplicate checks and rolling caps of every publish)."""
        for post in reversed(self.by_account.get((platform, account_id), [])):
            if post.created_at < since:
                return
            if not post.deleted:
                yield post

    def same_text_since(
        self, platform: str, account_id: str, text: str, since: float
    ) -> Post | None:
        """A live post of the account with exactly ``text`` created at or after ``since`` (the
        platforms' duplicate checks), found without reading the account's other posts."""
        for post in reversed(self.by_text.get((platform, account_id, text), [])):
            if post.created_at >= since and not post.deleted:
                return post
        return None

    def count_posts(self, platform: str, account_id: str, since: float) -> int:
        """Posts made through the API (not seeded history) since ``since``, deleted ones too."""
        posts = self.by_account.get((platform, account_id), [])
        start = bisect.bisect_left(posts, since, key=lambda p: p.created_at)
        return sum(1 for p in posts[start:] if p.request is not None)

    # comments -----------------------------------------------------------------------------
    def add_comment(self, comment: Comment) -> Comment:
        self.comments.setdefault((comment.platform, comment.post_id), []).append(comment)
        return comment

    def comments_on(self, platform: str, post_id: str) -> list[Comment]:
        """A post's comments, oldest first."""
        return list(self.comments.get((platform, post_id), []))

    # platform objects ---------------------------------------------------------------------
    def put(self, platform: str, kind: str, object_id: str, obj: dict[str, Any]) -> dict[str, Any]:
        self.objects.setdefault((platform, kind), {})[object_id] = obj
        owner = obj.get("account_id")
        if isinstance(owner, str):
            self.objects_by_owner.setdefault((platform, kind, owner), []).append(obj)
        return obj

    def get(self, platform: str, kind: str, object_id: str) -> dict[str, Any] | None:
        return self.objects.get((platform, kind), {}).get(object_id)

    def objects_of(
        self, platform: str, kind: str, account_id: str | None = None
    ) -> list[dict[str, Any]]:
        """The platform's objects of one kind, in creation order; only one account's if given."""
        if account_id is not None:
            return list(self.objects_by_owner.get((platform, kind, account_id), []))
        return list(self.objects.get((platform, kind), {}).values())
