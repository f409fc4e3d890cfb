"""The workers: publish one target per ``post.publish_requested`` command, exactly once.

Each command runs as three steps, and only the middle one crosses the network:

1. *claim* (short transaction): the command must be the target's latest dispatch and the
   target still ``publishing``. A target the platform cannot take now — its circuit breaker
   is open, the account is rate-limited or at its cap, the app at its platform-wide limit
   (``holds``) — is held ``waiting`` until then, with no platform call. Otherwise an attempt
   row is opened. If an earlier attempt never ended (a worker died mid-call) or ended in
   doubt, this attempt reconciles first.
2. *platform* (no database connection held): reconcile — ask the platform whether the post is
   already there — then, only if it is not, advance the publish by one step. The whole step
   is bounded by ``publish_step_timeout``, well inside the dispatcher's lease, so no other
   worker can take the target while this one may still act on it.
3. *record* (short transaction): the attempt's outcome, the target's new state, the post's
   status, and ``post.published`` / ``post.failed`` through the outbox.

A crash anywhere leaves either an open attempt (the next worker reconciles) or a committed
outcome; nothing is ever re-posted blindly.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any, Generic, Literal, TypeVar, cast

import httpx
from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession
from tenacity import RetryCallState, wait_exponential_jitter

from publisher.context import PublisherContext
from publisher.media.storage import MediaUnavailable
from publisher.models import CommentStatus, TargetStatus
from publisher.posts.repository import PostRepository
from publisher.publishing.breaker import Open, PlatformBreakers
from publisher.publishing.dispatcher import notify_schedule_changed
from publisher.publishing.holds import Hold, PublishLimits
from publisher.publishing.repository import PublishingRepository
from socialseed import metrics
from socialseed.contracts import PostFailed, PostInDoubt, PostPublished, PostPublishRequested
from socialseed.platforms import Platform, Provider, TokenSet
from socialseed.platforms.base import ErrorKind, Pending, PlatformError, PlatformPost, PublishedPost
from socialseed.vault import AccountUnusable, TokenVault, VaultUnavailable

log = logging.getLogger(__name__)

ReasonClass = Literal["reauth_required", "bad_request", "permanent", "transient", "media"]

# Attempt outcomes that are progress, not trouble.
_PROGRESS = frozenset({"published", "reconciled", "pending"})

BACKOFF = wait_exponential_jitter(initial=2, max=600)

# How long before the first attempt a post found on the platform may have been published and
# still be ours (clock skew between us and the platform).
SKEW = timedelta(minutes=5)


@dataclass(frozen=True)
class Claim:
    target_id: uuid.UUID
    attempt_id: uuid.UUID
    post_id: uuid.UUID
    workspace_id: uuid.UUID
    account_id: uuid.UUID
    platform: Platform
    post: PlatformPost | None  # None: its media is gone (``problem`` says which)
    problem: str | None
    progress: dict[str, Any]
    reconcile: bool
    since: datetime  # when the first attempt started
    attempts: int
    due: datetime  # when the post was scheduled (its publishing lateness counts from here)


@dataclass
class Outcome:
    """What the platform step ended with, and what to store."""

    status: TargetStatus
    attempt_outcome: str
    message: str | None = None
    published: PublishedPost | None = None
    progress: dict[str, Any] | None = None
    due_in: float | None = None  # seconds until the target is due again
    error: PlatformError | None = None
    reason_class: ReasonClass | None = None
    platform_failed: bool = False  # a transient failure of the platform (for its breaker)

    @property
    def rate_limited(self) -> bool:
        return self.error is not None and self.error.kind is ErrorKind.RATE_LIMITED


class Worker:
    def __init__(
        self, ctx: PublisherContext, providers: dict[Platform, Provider], vault: TokenVault
    ) -> None:
        self.ctx = ctx
        self.providers = providers
        self.vault = vault
        self.settings = ctx.settings
        self.slots = asyncio.Semaphore(self.settings.publish_concurrency)
        self.limits = PublishLimits(self.settings.budgets, self.settings.app_share_recheck)
        self.breakers = PlatformBreakers(
            self.settings.breaker_threshold,
            self.settings.breaker_cooldown,
            service=self.settings.service_name,
        )
        self.tasks: set[asyncio.Task[None]] = set()
        self.recorder = _GroupCommit(self._record)
        # Called when published targets with a first comment were recorded (the comment
        # runner's wake-up; it also looks on its own every ``comment_poll`` seconds).
        self.on_comments_due: Callable[[], None] | None = None

    async def accept(self, command: PostPublishRequested) -> None:
        await self.accept_many([command])

    async def accept_many(self, commands: Sequence[PostPublishRequested]) -> None:
        """Take commands from the consumer: waits for free slots (so a busy worker stops
        pulling), then publishes them in the background, claimed together. A command lost
        with this process is not lost work: its target stays claimed until the lease ends,
        then is handed on."""
        size = self.settings.publish_concurrency
        for i in range(0, len(commands), size):
            chunk = list(commands[i : i + size])
            for _ in chunk:
                await self.slots.acquire()
            task = asyncio.create_task(self._run(chunk))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def close(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)

    async def _run(self, commands: list[PostPublishRequested]) -> None:
        try:
            await self.publish_many(commands)
        except Exception:  # the lease hands the targets on; log and carry on
            log.exception("publishing %d target(s) failed unexpectedly", len(commands))
        finally:
            for _ in commands:
                self.slots.release()

    async def publish(self, command: PostPublishRequested) -> None:
        await self.publish_many([command])

    async def publish_many(self, commands: Sequence[PostPublishRequested]) -> None:
        """Claim the commands' targets together (one transaction), take each through the
        platform (side by side, the lease renewed while any runs), record each outcome as
        it comes (outcomes that arrive together share a transaction)."""
        lease = _Lease(self)
        claims = await self._claim(commands, lease)
        if not claims:
            return
        async with lease.renewed([c.target_id for c in claims]):
            # Every step runs to its end (a failed record of one leaves the others be).
            ended = await asyncio.gather(
                *(self._publish_claimed(claim, lease) for claim in claims),
                return_exceptions=True,
            )
        failures = [e for e in ended if isinstance(e, BaseException)]
        if failures:
            raise failures[0]

    async def _publish_claimed(self, claim: Claim, lease: _Lease) -> None:
        result = await self.breakers.run(
            claim.platform,
            lambda: self._timed_step(claim, lease),
            failed=lambda o: o.platform_failed,
        )
        if isinstance(result, Open):  # opened since the claim
            hold = _breaker_hold(claim.platform, result)
            result = Outcome(
                TargetStatus.WAITING,
                "held",
                _waiting_words(hold),
                due_in=(hold.until - self.ctx.clock()).total_seconds(),
            )
        await self.recorder.submit((claim, result))
        lease.done(claim.target_id)

    async def _timed_step(self, claim: Claim, lease: _Lease) -> Outcome:
        """The step, bounded by ``publish_step_timeout`` and by the lease: if the lease could
        not be renewed (the database away), the step ends well before it runs out, so no other
        worker can take the target while this one may still act on it."""
        try:
            async with lease.bounded(claim.target_id):
                return await self._platform_step(claim)
        except TimeoutError:
            return Outcome(
                TargetStatus.IN_DOUBT,
                "in_doubt",
                "The platform did not answer in time; checking before trying again.",
                due_in=self._backoff(claim.attempts),
                platform_failed=True,
            )

    # 1. claim ---------------------------------------------------------------------------
    async def _claim(self, commands: Sequence[PostPublishRequested], lease: _Lease) -> list[Claim]:
        latest = {c.target_id: c.attempt for c in commands}
        async with self.ctx.db.transaction() as session:
            repo = PublishingRepository(session)
            rows = [
                r
                for r in await repo.lock(latest)
                # stale: cancelled, finished, or handed on after a lease
                if r.status == TargetStatus.PUBLISHING and r.dispatches == latest[r.id]
            ]
            if not rows:
                return []
            now = self.ctx.clock()
            lease.started()
            held: list[tuple[Row[Any], Hold]] = []
            passed: list[Row[Any]] = []
            pending: dict[uuid.UUID, list[datetime]] = defaultdict(list)
            waiting: dict[tuple[str, uuid.UUID], int] = {}
            # The limits for the whole batch in a few statements (rows locked and read once),
            # then each target in order, in memory; the new counts written once at the end.
            limits = await self.limits.batch(session, rows, now, pending, waiting)
            breakers: dict[Platform, Hold | None] = {}
            for call, row in enumerate(rows):
                platform = Platform(row.platform)
                if platform not in breakers:
                    breakers[platform] = await self._breaker_hold(platform)
                hold = breakers[platform] or await limits.hold(call)
                if hold is None:
                    passed.append(row)
                    pending[row.account_id].append(now)
                else:
                    held.append((row, hold))
            await limits.write()
            if held:
                await self._wait(session, held)
                for row, hold in held:
                    if not hold.breaker:
                        metrics.PUBLISH_RATE_LIMIT_WAITS.labels(row.platform).inc()
            if not passed:
                return []
            ids = [r.id for r in passed]
            earlier = await repo.earlier_attempts(ids)
            identity = worker_identity()
            attempt_ids = {r.id: uuid.uuid4() for r in passed}
            await repo.open_attempts(
                [
                    {
                        "id": attempt_ids[r.id],
                        "target_id": r.id,
                        "workspace_id": r.workspace_id,
                        "started_at": now,
                        "worker": identity,
                    }
                    for r in passed
                ]
            )
            # The lease runs from the claim, not from the dispatch: a command that arrives
            # late (a broker restart, a rebalance, busy slots) still has its whole lease.
            await repo.lease(ids, now + timedelta(seconds=self.settings.publish_lease))
            usernames = await repo.usernames(
                {r.account_id for r in passed if r.platform == Platform.X}
            )
            claims = []
            for r in passed:
                post, problem = None, None
                try:
                    post = await self._post_of(session, r, usernames.get(r.account_id))
                except MediaUnavailable as exc:
                    problem = str(exc)
                first = earlier.get(r.id)
                claims.append(
                    Claim(
                        target_id=r.id,
                        attempt_id=attempt_ids[r.id],
                        post_id=r.post_id,
                        workspace_id=r.workspace_id,
                        account_id=r.account_id,
                        platform=Platform(r.platform),
                        post=post,
                        problem=problem,
                        progress=dict(r.progress or {}),
                        reconcile=first is not None and first.reconcile,
                        since=(first.first_started if first else now) - SKEW,
                        attempts=r.attempts + 1,
                        due=r.scheduled_at,
                    )
                )
            return claims

    async def _breaker_hold(self, platform: Platform) -> Hold | None:
        """The platform's circuit breaker is open: its targets wait (no platform call, no
        limit counted). Asked once per platform and claim."""
        opened = await self.breakers.open_until(platform)
        return _breaker_hold(platform, opened) if opened is not None else None

    async def _wait(self, session: AsyncSession, held: list[tuple[Row[Any], Hold]]) -> None:
        await PublishingRepository(session).hold(
            [
                {"b_id": row.id, "b_until": hold.until, "b_error": _waiting_words(hold)}
                for row, hold in held
            ]
        )
        await PostRepository(session).refresh_statuses({row.post_id for row, _ in held})
        await notify_schedule_changed(session)

    async def _post_of(
        self, session: AsyncSession, target: Row[Any], username: str | None
    ) -> PlatformPost:
        media = await self.ctx.media.platform_media(
            session, target.workspace_id, list(target.media_ids or [])
        )
        options = dict(target.options or {})
        if username:  # X's public URLs name the account's handle
            options["username"] = username
        return PlatformPost(
            text=target.text,
            marker=str(target.id),
            media=tuple(media),
            options=options,
        )

    # 2. the platform ----------------------------------------------------------------------
    async def _platform_step(self, claim: Claim) -> Outcome:
        if claim.post is None:
            return _failed("media", f"The post's media is gone ({claim.problem}).")
        provider = self.providers[claim.platform]
        try:
            # A refused token is refreshed once and the step advanced again (the vault's rule).
            return await self.vault.call(
                claim.account_id, lambda tokens: self._advance(provider, tokens, claim)
            )
        except AccountUnusable as exc:
            return _failed("reauth_required", f"{exc.reason} Reconnect it, then publish again.")
        except VaultUnavailable as exc:
            return Outcome(
                TargetStatus.WAITING,
                "retry",
                f"Could not get the account's token ({exc}); retrying.",
                due_in=self._backoff(claim.attempts),
            )
        except PlatformError as exc:
            return self._classify(claim, exc)
        except (httpx.TimeoutException, httpx.NetworkError) as exc:
            return Outcome(
                TargetStatus.IN_DOUBT,
                "in_doubt",
                f"The connection to {claim.platform.value} broke ({type(exc).__name__}); "
                "checking before trying again.",
                due_in=self._backoff(claim.attempts),
                platform_failed=True,
            )

    async def _advance(self, provider: Provider, tokens: TokenSet, claim: Claim) -> Outcome:
        assert claim.post is not None
        if claim.reconcile:
            found = await provider.find_published_post(
                tokens, claim.post, claim.since, claim.progress
            )
            if isinstance(found, PublishedPost):
                return _published(found, "reconciled")
            if isinstance(found, Pending):
                return _pending(found)
        try:
            result = await provider.publish(tokens, claim.post, claim.progress)
        except PlatformError as exc:
            if exc.kind is ErrorKind.PERMANENT and exc.code == "duplicate":
                # The platform says it already has this post: ours, from an attempt whose
                # answer was lost. Find it instead of failing.
                found = await provider.find_published_post(
                    tokens, claim.post, claim.since, claim.progress
                )
                if isinstance(found, PublishedPost):
                    return _published(found, "reconciled")
            raise
        if isinstance(result, Pending):
            return _pending(result)
        return _published(result, "published")

    def _classify(self, claim: Claim, exc: PlatformError) -> Outcome:
        if exc.kind is ErrorKind.RATE_LIMITED:
            return Outcome(
                TargetStatus.WAITING,
                "rate_limited",
                exc.message,
                due_in=exc.retry_after or 60.0,
                error=exc,
            )
        if exc.kind is ErrorKind.TRANSIENT and claim.attempts < self.settings.publish_max_attempts:
            # A 5xx may come after the platform acted: check before trying again.
            return Outcome(
                TargetStatus.IN_DOUBT,
                "in_doubt",
                exc.message,
                due_in=self._backoff(claim.attempts),
                error=exc,
                platform_failed=True,
            )
        outcome = _failed(exc.kind.value, exc.message)  # type: ignore[arg-type]
        outcome.error = exc
        outcome.platform_failed = exc.kind is ErrorKind.TRANSIENT
        return outcome

    def _backoff(self, attempts: int) -> float:
        """Exponential backoff with jitter, by attempt number: tenacity's strategy (it reads
        only ``attempt_number``), used across processes since retries are rescheduled."""
        state = cast(RetryCallState, SimpleNamespace(attempt_number=attempts))
        return float(BACKOFF(state))

    # 3. record ----------------------------------------------------------------------------
    async def _record(self, results: Sequence[tuple[Claim, Outcome]]) -> None:
        """The outcomes of steps that ended together, in one transaction: attempts ended,
        targets updated (one statement each for all of them), ``post.published`` /
        ``post.failed`` / ``post.in_doubt`` through the outbox (one statement), the posts'
        statuses."""
        now = self.ctx.clock()
        attempts: list[dict[str, Any]] = []
        targets: list[dict[str, Any]] = []
        events: list[tuple[PostPublished | PostFailed | PostInDoubt, str]] = []
        blocks: list[tuple[Claim, Outcome, datetime]] = []
        wake = comments_due = False
        for claim, outcome in results:
            error = outcome.error
            attempts.append(
                {
                    "b_id": claim.attempt_id,
                    "b_ended_at": now,
                    "b_outcome": outcome.attempt_outcome,
                    "b_message": outcome.message,
                    "b_status": error.status if error is not None else None,
                    "b_code": error.code if error is not None else None,
                }
            )
            due_at = now + timedelta(seconds=outcome.due_in) if outcome.due_in is not None else None
            wake = wake or due_at is not None
            published = outcome.published
            published_at = (published.published_at or now) if published is not None else None
            progress = outcome.progress if outcome.progress is not None else claim.progress
            failed = outcome.status == TargetStatus.FAILED
            # The first comment, if the post asks for one, is due as soon as it is published.
            comment = (
                published is not None
                and claim.post is not None
                and bool(claim.post.options.get("first_comment"))
            )
            comments_due = comments_due or comment
            targets.append(
                {
                    "b_id": claim.target_id,
                    "b_status": outcome.status.value,
                    # What went wrong, in words; a publish still advancing has nothing wrong.
                    "b_error": outcome.message
                    if outcome.attempt_outcome not in _PROGRESS
                    else None,
                    "b_progress": {} if published is not None else progress,
                    "b_due_at": due_at,
                    "b_post_id": published.id if published is not None else None,
                    "b_url": published.url if published is not None else None,
                    "b_published_at": published_at,
                    "b_error_class": outcome.reason_class if failed else None,
                    "b_comment_status": CommentStatus.PENDING.value if comment else None,
                    "b_comment_due_at": now if comment else None,
                }
            )
            if outcome.rate_limited and due_at is not None:
                blocks.append((claim, outcome, due_at))
            if published is not None:
                assert published_at is not None
                events.append(_published_event(claim, published, published_at))
            elif failed:
                events.append(_failed_event(claim, outcome, now))
            elif outcome.status == TargetStatus.IN_DOUBT and not claim.reconcile:
                # Told once, the first time: the checks that follow end in one of the above.
                events.append(_in_doubt_event(claim, outcome, now))
        async with self.ctx.db.transaction() as session:
            repo = PublishingRepository(session)
            await repo.end_attempts(attempts)
            await repo.record(targets)
            for claim, outcome, until in blocks:
                # Every worker and replica waits for this account, not only this target.
                await self.limits.block(
                    session, claim.account_id, claim.platform, until, outcome.message
                )
            await self.ctx.outbox.add_many(session, events)
            await PostRepository(session).refresh_statuses({c.post_id for c, _ in results})
            if wake:
                await notify_schedule_changed(session)
        _count(results, now)
        if comments_due and self.on_comments_due is not None:
            self.on_comments_due()  # committed: the comment runner may take them now


def _count(results: Sequence[tuple[Claim, Outcome]], now: datetime) -> None:
    """The attempts' metrics, once their outcomes are committed: each attempt by outcome and
    error class; a rate-limited answer as a wait; a published target's lateness (once: a
    target is recorded published only once)."""
    for claim, outcome in results:
        platform = claim.platform.value
        metrics.PUBLISH_ATTEMPTS.labels(
            platform, _OUTCOMES.get(outcome.attempt_outcome, "retry"), _error_class(outcome)
        ).inc()
        if outcome.rate_limited:
            metrics.PUBLISH_RATE_LIMIT_WAITS.labels(platform).inc()
        published = outcome.published
        if published is not None:
            lateness = ((published.published_at or now) - claim.due).total_seconds()
            metrics.PUBLISH_LATENESS.labels(platform).observe(max(0.0, lateness))


# What an attempt's outcome counts as in socialseed_publish_attempts_total.
_OUTCOMES = {
    "published": "published",
    "reconciled": "published",
    "pending": "pending",
    "in_doubt": "in_doubt",
    "failed": "failed",
    "rate_limited": "retry",
    "retry": "retry",
    "held": "retry",
}


def _error_class(outcome: Outcome) -> str:
    if outcome.error is not None:
        return outcome.error.kind.value
    if outcome.reason_class is not None:
        return outcome.reason_class
    if outcome.attempt_outcome == "in_doubt":
        return "timeout"
    if outcome.attempt_outcome == "retry":
        return "vault_unavailable"
    if outcome.attempt_outcome == "held":
        return "circuit_open"
    return "none"


def _published_event(
    claim: Claim, published: PublishedPost, at: datetime
) -> tuple[PostPublished, str]:
    event = PostPublished(
        post_id=claim.post_id,
        workspace_id=claim.workspace_id,
        target_id=claim.target_id,
        account_id=claim.account_id,
        platform=claim.platform,
        platform_post_id=published.id,
        url=published.url,
        published_at=at,
    )
    return event, str(claim.account_id)


def _failed_event(claim: Claim, outcome: Outcome, now: datetime) -> tuple[PostFailed, str]:
    event = PostFailed(
        post_id=claim.post_id,
        workspace_id=claim.workspace_id,
        target_id=claim.target_id,
        account_id=claim.account_id,
        platform=claim.platform,
        reason_class=outcome.reason_class or "permanent",
        reason=outcome.message or "The platform refused the post.",
        failed_at=now,
    )
    return event, str(claim.account_id)


def _in_doubt_event(claim: Claim, outcome: Outcome, now: datetime) -> tuple[PostInDoubt, str]:
    event = PostInDoubt(
        post_id=claim.post_id,
        workspace_id=claim.workspace_id,
        target_id=claim.target_id,
        account_id=claim.account_id,
        platform=claim.platform,
        reason=outcome.message or "The platform did not answer; checking before trying again.",
        in_doubt_at=now,
    )
    return event, str(claim.account_id)


T = TypeVar("T")


class _GroupCommit(Generic[T]):
    """Items submitted while a flush runs are flushed together in the next one: under load
    many outcomes share one transaction; alone, each is flushed at once. ``submit`` returns
    when its item's flush committed (and raises what the flush raised)."""

    def __init__(self, flush: Callable[[Sequence[T]], Awaitable[None]]) -> None:
        self.flush = flush
        self.queue: list[tuple[T, asyncio.Future[None]]] = []
        self.flushing: asyncio.Task[None] | None = None

    async def submit(self, item: T) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.queue.append((item, future))
        if self.flushing is None or self.flushing.done():
            self.flushing = asyncio.create_task(self._drain())
        await asyncio.shield(future)

    async def _drain(self) -> None:
        while self.queue:
            batch, self.queue = self.queue, []
            try:
                await self.flush([item for item, _ in batch])
            except Exception as exc:  # each submitter sees it (and logs it)
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
            else:
                for _, future in batch:
                    if not future.done():
                        future.set_result(None)


class _Lease:
    """The lease on one batch's claimed targets, renewed in the database every third of
    ``publish_lease`` while any of their steps runs. Each step is bounded by
    ``publish_step_timeout`` and by the lease as last renewed, less a third of it: a worker
    that cannot renew (the database away) stops acting before any other may take over."""

    def __init__(self, worker: Worker) -> None:
        self.worker = worker
        self.seconds = worker.settings.publish_lease
        self.loop = asyncio.get_running_loop()
        self.ends = self.loop.time() + self.seconds
        self.running: set[uuid.UUID] = set()
        self.timeouts: dict[uuid.UUID, tuple[asyncio.Timeout, float]] = {}

    def started(self) -> None:
        """The claim is writing the lease now (counted from before its write)."""
        self.ends = self.loop.time() + self.seconds

    def _stop_by(self) -> float:
        return self.ends - self.seconds / 3

    @asynccontextmanager
    async def renewed(self, target_ids: Sequence[uuid.UUID]) -> AsyncIterator[None]:
        self.running = set(target_ids)
        renewing = asyncio.create_task(self._renew())
        try:
            yield
        finally:
            renewing.cancel()
            await asyncio.gather(renewing, return_exceptions=True)

    @asynccontextmanager
    async def bounded(self, target_id: uuid.UUID) -> AsyncIterator[None]:
        cap = self.loop.time() + self.worker.settings.publish_step_timeout
        async with asyncio.timeout(min(cap, self._stop_by())) as timeout:
            self.timeouts[target_id] = (timeout, cap)
            try:
                yield
            finally:
                self.timeouts.pop(target_id, None)

    def done(self, target_id: uuid.UUID) -> None:
        self.running.discard(target_id)

    async def _renew(self) -> None:
        ctx = self.worker.ctx
        while True:
            await asyncio.sleep(self.seconds / 3)
            if not self.running:
                continue
            began = self.loop.time()
            until = ctx.clock() + timedelta(seconds=self.seconds)
            try:
                async with ctx.db.transaction() as session:
                    await PublishingRepository(session).renew(self.running, until)
            except Exception:  # the steps end by the old lease; the next renewal may work
                log.warning("could not renew the lease of %d target(s)", len(self.running))
                continue
            self.ends = began + self.seconds
            for timeout, cap in list(self.timeouts.values()):
                timeout.reschedule(min(cap, self._stop_by()))


def worker_identity() -> str:
    """This process as an attempt records it: "host/pid" (read at each claim, so a forked
    worker names itself, not its parent)."""
    return f"{socket.gethostname()}/{os.getpid()}"


def _published(post: PublishedPost, how: str) -> Outcome:
    return Outcome(TargetStatus.PUBLISHED, how, published=post)


def _pending(pending: Pending) -> Outcome:
    words = f"The platform is processing the post ({pending.status})." if pending.status else None
    return Outcome(
        TargetStatus.PUBLISHING,
        "pending",
        words,
        progress=dict(pending.progress),
        due_in=pending.poll_after,
    )


def _breaker_hold(platform: Platform, opened: Open) -> Hold:
    return Hold(
        opened.until, f"{platform.value} keeps failing, so calls to it are paused", breaker=True
    )


def _waiting_words(hold: Hold) -> str:
    return f"Waiting: {hold.reason}; trying again at {hold.until:%Y-%m-%d %H:%M:%S} UTC."


def _failed(reason_class: ReasonClass, message: str) -> Outcome:
    return Outcome(TargetStatus.FAILED, "failed", message, reason_class=reason_class)
