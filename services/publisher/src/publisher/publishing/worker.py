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
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any, Literal, cast

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from tenacity import RetryCallState, wait_exponential_jitter

from publisher.context import PublisherContext
from publisher.media.storage import MediaUnavailable
from publisher.models import AccountView, Attempt, Target, TargetStatus
from publisher.posts.repository import PostRepository
from publisher.publishing.breaker import Open, PlatformBreakers
from publisher.publishing.dispatcher import notify_schedule_changed
from publisher.publishing.holds import Hold, PublishLimits
from socialseed.contracts import PostFailed, PostPublished, PostPublishRequested
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
    account_id: uuid.UUID
    platform: Platform
    post: PlatformPost | None  # None: its media is gone (``problem`` says which)
    problem: str | None
    progress: dict[str, Any]
    reconcile: bool
    since: datetime  # when the first attempt started
    attempts: int


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
            self.settings.breaker_threshold, self.settings.breaker_cooldown
        )
        self.tasks: set[asyncio.Task[None]] = set()

    async def accept(self, command: PostPublishRequested) -> None:
        """Take a command from the consumer: waits for a free slot (so a busy worker stops
        pulling), then publishes in the background. A command lost with this process is
        not lost work: its target stays claimed until the lease ends, then is handed on."""
        await self.slots.acquire()
        task = asyncio.create_task(self._run(command))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def close(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)

    async def _run(self, command: PostPublishRequested) -> None:
        try:
            await self.publish(command)
        except Exception:  # the lease hands the target on; log and carry on
            log.exception("publishing target %s failed unexpectedly", command.target_id)
        finally:
            self.slots.release()

    async def publish(self, command: PostPublishRequested) -> None:
        claim = await self._claim(command)
        if claim is None:
            return
        result = await self.breakers.run(
            claim.platform, lambda: self._timed_step(claim), failed=lambda o: o.platform_failed
        )
        if isinstance(result, Open):  # opened since the claim
            hold = _breaker_hold(claim.platform, result)
            result = Outcome(
                TargetStatus.WAITING,
                "held",
                _waiting_words(hold),
                due_in=(hold.until - self.ctx.clock()).total_seconds(),
            )
        await self._record(claim, result)

    async def _timed_step(self, claim: Claim) -> Outcome:
        try:
            return await asyncio.wait_for(
                self._platform_step(claim), timeout=self.settings.publish_step_timeout
            )
        except TimeoutError:
            return Outcome(
                TargetStatus.IN_DOUBT,
                "in_doubt",
                "The platform did not answer in time; checking before trying again.",
                due_in=self._backoff(claim.attempts),
                platform_failed=True,
            )

    # 1. claim ---------------------------------------------------------------------------
    async def _claim(self, command: PostPublishRequested) -> Claim | None:
        async with self.ctx.db.transaction() as session:
            target = await PostRepository(session).locked_target(command.target_id)
            if (
                target is None
                or target.status != TargetStatus.PUBLISHING
                or target.dispatches != command.attempt
            ):
                return None  # stale: cancelled, finished, or handed on after a lease
            now = self.ctx.clock()
            hold = await self._hold(session, target, now)
            if hold is not None:
                await self._wait(session, target, hold)
                return None
            previous = list(
                await session.scalars(
                    select(Attempt)
                    .where(Attempt.target_id == target.id)
                    .order_by(Attempt.started_at)
                )
            )
            attempt = Attempt(
                id=uuid.uuid4(),
                target_id=target.id,
                workspace_id=target.workspace_id,
                started_at=now,
                worker=worker_identity(),
            )
            session.add(attempt)
            target.attempts += 1
            # The lease runs from the claim, not from the dispatch: a command that arrives
            # late (a broker restart, a rebalance, busy slots) still leaves the whole step
            # (``publish_step_timeout``) inside it, so the target cannot be handed on while
            # this worker may still act on the platform.
            target.due_at = now + timedelta(seconds=self.settings.publish_lease)
            reconcile = any(a.ended_at is None or a.outcome == "in_doubt" for a in previous)
            post, problem = None, None
            try:
                post = await self._post_of(session, target)
            except MediaUnavailable as exc:
                problem = str(exc)
            return Claim(
                target_id=target.id,
                attempt_id=attempt.id,
                account_id=target.account_id,
                platform=Platform(target.platform),
                post=post,
                problem=problem,
                progress=dict(target.progress or {}),
                reconcile=reconcile,
                since=(previous[0].started_at if previous else now) - SKEW,
                attempts=target.attempts,
            )

    async def _hold(self, session: AsyncSession, target: Target, now: datetime) -> Hold | None:
        """Why the target may not be published now, if it may not (checked before any
        platform call; the limits are shared by every worker and replica)."""
        platform = Platform(target.platform)
        opened = await self.breakers.open_until(platform)
        if opened is not None:
            return _breaker_hold(platform, opened)
        return await self.limits.hold(session, target, now)

    async def _wait(self, session: AsyncSession, target: Target, hold: Hold) -> None:
        target.status, target.due_at = TargetStatus.WAITING, hold.until
        target.error = _waiting_words(hold)
        await PostRepository(session).refresh_statuses({target.post_id})
        await notify_schedule_changed(session)

    async def _post_of(self, session: AsyncSession, target: Target) -> PlatformPost:
        post = target.post
        media_ids = target.media_ids if target.media_ids is not None else post.media_ids
        media = await self.ctx.media.platform_media(session, post.workspace_id, media_ids)
        options = dict(target.options or {})
        if target.platform == Platform.X:  # X's public URLs name the account's handle
            account = await session.get(AccountView, target.account_id)
            if account is not None and account.username:
                options["username"] = account.username
        return PlatformPost(
            text=target.text if target.text is not None else post.text,
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
    async def _record(self, claim: Claim, outcome: Outcome) -> None:
        now = self.ctx.clock()
        async with self.ctx.db.transaction() as session:
            target = await PostRepository(session).locked_target(claim.target_id)
            attempt = await session.get(Attempt, claim.attempt_id)
            assert target is not None and attempt is not None
            attempt.ended_at, attempt.outcome = now, outcome.attempt_outcome
            attempt.message = outcome.message
            if outcome.error is not None:
                attempt.platform_status = outcome.error.status
                attempt.platform_code = outcome.error.code
            target.status = outcome.status
            # What went wrong, in words; a publish still advancing has nothing wrong.
            target.error = outcome.message if outcome.attempt_outcome not in _PROGRESS else None
            if outcome.progress is not None:
                target.progress = outcome.progress
            target.due_at = (
                now + timedelta(seconds=outcome.due_in) if outcome.due_in is not None else None
            )
            if outcome.rate_limited and target.due_at is not None:
                # Every worker and replica waits for this account, not only this target.
                await self.limits.block(
                    session, target.account_id, claim.platform, target.due_at, outcome.message
                )
            if outcome.published is not None:
                await self._published(session, target, outcome.published, now)
            elif outcome.status == TargetStatus.FAILED:
                await self._failed(session, target, outcome, now)
            await PostRepository(session).refresh_statuses({target.post_id})
            if target.due_at is not None:
                await notify_schedule_changed(session)

    async def _published(
        self, session: AsyncSession, target: Target, published: PublishedPost, now: datetime
    ) -> None:
        target.platform_post_id, target.url = published.id, published.url
        target.published_at = published.published_at or now
        target.progress = {}
        await self.ctx.outbox.add(
            session,
            PostPublished(
                post_id=target.post_id,
                workspace_id=target.workspace_id,
                target_id=target.id,
                account_id=target.account_id,
                platform=target.platform,
                platform_post_id=published.id,
                url=published.url,
                published_at=target.published_at,
            ),
            key=str(target.account_id),
        )

    async def _failed(
        self, session: AsyncSession, target: Target, outcome: Outcome, now: datetime
    ) -> None:
        target.error_class = outcome.reason_class
        await self.ctx.outbox.add(
            session,
            PostFailed(
                post_id=target.post_id,
                workspace_id=target.workspace_id,
                target_id=target.id,
                account_id=target.account_id,
                platform=target.platform,
                reason_class=outcome.reason_class or "permanent",
                reason=outcome.message or "The platform refused the post.",
                failed_at=now,
            ),
            key=str(target.account_id),
        )


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
    return Hold(opened.until, f"{platform.value} keeps failing, so calls to it are paused")


def _waiting_words(hold: Hold) -> str:
    return f"Waiting: {hold.reason}; trying again at {hold.until:%Y-%m-%d %H:%M:%S} UTC."


def _failed(reason_class: ReasonClass, message: str) -> Outcome:
    return Outcome(TargetStatus.FAILED, "failed", message, reason_class=reason_class)
