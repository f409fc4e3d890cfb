"""The first comment on a published post, posted exactly once.

A small step of its own after the publish (not part of the publish batch): a target whose
post asks for a first comment (``options.first_comment``) becomes ``pending`` when it is
recorded ``published``, and the comment runner of any process takes it from there, in the
same three steps as a publish:

1. *claim* (one statement for a batch): due comments become ``posting`` with a lease
   (``comment_due_at = now + publish_lease``), one claim more each. A claimed comment that
   was ``in_doubt``, or still ``posting`` past its lease (its worker died), may already be on
   the platform: it is looked for first.
2. *platform* (no database connection held, within two thirds of the lease): look for a
   comment by the account with the same text on the post (``find_comment``) when the
   outcome of an earlier try is unknown; only if there is none, ``post_comment``.
3. *record*: ``posted`` with its id, ``failed`` with the reason in words, ``in_doubt``
   (the answer was lost: looked for before anything is posted again) or back to ``pending``
   (a rate limit: nothing was created) with a due time — only if the claim is still this
   one, so a worker that outlived its lease cannot overwrite the claim that took over.

The post itself stays ``published`` whatever happens to its comment.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any, cast

import httpx
from tenacity import RetryCallState, wait_exponential_jitter

from publisher.context import PublisherContext
from publisher.models import CommentStatus
from publisher.publishing.repository import PublishingRepository
from socialseed.platforms import Platform, Provider, TokenSet
from socialseed.platforms.base import ErrorKind, PlatformError
from socialseed.vault import AccountUnusable, TokenVault, VaultUnavailable

log = logging.getLogger(__name__)

BACKOFF = wait_exponential_jitter(initial=2, max=600)
# A comment found on the platform may have been made a little before our first claim (clocks).
SKEW = timedelta(minutes=5)


@dataclass(frozen=True)
class CommentClaim:
    target_id: uuid.UUID
    account_id: uuid.UUID
    platform: Platform
    post_id: str  # the platform's id of the published post
    text: str
    attempts: int  # this claim's number
    reconcile: bool  # an earlier try's outcome is unknown: look before posting
    since: datetime


@dataclass(frozen=True)
class CommentOutcome:
    status: CommentStatus
    comment_id: str | None = None
    error: str | None = None
    due_in: float | None = None


class Commenter:
    """Each process's comment runner: woken when a post with a first comment is published,
    and every ``comment_poll`` seconds for retries and comments whose worker died."""

    def __init__(
        self, ctx: PublisherContext, providers: Mapping[Platform, Provider], vault: TokenVault
    ) -> None:
        self.ctx = ctx
        self.providers = providers
        self.vault = vault
        self.settings = ctx.settings
        self.woken = asyncio.Event()

    def wake(self) -> None:
        self.woken.set()

    async def run(self) -> None:
        while True:
            self.woken.clear()  # before looking: a wake-up during the look is kept
            try:
                taken = await self.run_once()
            except Exception:  # the database away: the leases hand the comments on
                log.exception("the comment runner failed; trying again")
                taken = 0
            if taken:
                continue  # more may be due
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.woken.wait(), self.settings.comment_poll)

    async def run_once(self) -> int:
        """Claim the due comments, post each (side by side), record each; how many."""
        # The lease is counted from before the claim is asked (its end is computed then), so
        # the cut is too: however long the pool and the claim took, no step acts past two
        # thirds of the lease, before another runner could take the comment.
        deadline = asyncio.get_running_loop().time() + self.settings.publish_lease * 2 / 3
        claims = await self._claim()
        await asyncio.gather(*(self._post_and_record(c, deadline) for c in claims))
        return len(claims)

    async def _claim(self) -> list[CommentClaim]:
        now = self.ctx.clock()
        lease_until = now + timedelta(seconds=self.settings.publish_lease)
        async with self.ctx.db.transaction() as session:
            rows = await PublishingRepository(session).claim_comments(
                now, lease_until, self.settings.comment_batch
            )
        return [
            CommentClaim(
                target_id=r.id,
                account_id=r.account_id,
                platform=Platform(r.platform),
                post_id=str(r.platform_post_id or ""),
                text=str((r.options or {}).get("first_comment") or ""),
                attempts=r.comment_attempts,
                reconcile=r.was in (CommentStatus.POSTING, CommentStatus.IN_DOUBT),
                since=(r.comment_started_at or now) - SKEW,
            )
            for r in rows
        ]

    async def _post_and_record(self, claim: CommentClaim, deadline: float) -> None:
        try:
            outcome = await self._step(claim, deadline)
        except Exception:  # unforeseen: its lease hands it on, and it is looked for first
            log.exception("first comment of target %s failed unexpectedly", claim.target_id)
            return
        due_at = (
            self.ctx.clock() + timedelta(seconds=outcome.due_in)
            if outcome.due_in is not None
            else None
        )
        try:
            async with self.ctx.db.transaction() as session:
                await PublishingRepository(session).record_comment(
                    claim.target_id,
                    claim.attempts,
                    status=outcome.status,
                    comment_id=outcome.comment_id,
                    error=outcome.error,
                    due_at=due_at,
                )
        except Exception:  # not recorded: the claim stays ``posting``, looked for after its lease
            log.exception("could not record the first comment of target %s", claim.target_id)

    async def _step(self, claim: CommentClaim, deadline: float) -> CommentOutcome:
        provider = self.providers.get(claim.platform)
        if provider is None or provider.comment_limit is None:
            return CommentOutcome(
                CommentStatus.FAILED, error=f"{claim.platform.value} takes no comments."
            )
        if not claim.text or not claim.post_id:
            return CommentOutcome(CommentStatus.FAILED, error="There is no comment to post.")
        try:
            async with asyncio.timeout_at(deadline):
                return await self.vault.call(
                    claim.account_id, lambda tokens: self._advance(provider, tokens, claim)
                )
        except AccountUnusable as exc:
            return CommentOutcome(
                CommentStatus.FAILED, error=f"{exc.reason} Reconnect it to comment."
            )
        except VaultUnavailable as exc:
            return self._unknown_or_retry(claim, f"Could not get the account's token ({exc}).")
        except PlatformError as exc:
            return self._classify(claim, exc)
        except (TimeoutError, httpx.TimeoutException, httpx.NetworkError) as exc:
            return self._in_doubt(
                claim,
                f"The connection to {claim.platform.value} broke "
                f"({type(exc).__name__}); checking before trying again.",
            )

    async def _advance(
        self, provider: Provider, tokens: TokenSet, claim: CommentClaim
    ) -> CommentOutcome:
        if claim.reconcile:
            found = await provider.find_comment(tokens, claim.post_id, claim.text, claim.since)
            if found is not None:
                return CommentOutcome(CommentStatus.POSTED, comment_id=found)
        comment_id = await provider.post_comment(tokens, claim.post_id, claim.text)
        return CommentOutcome(CommentStatus.POSTED, comment_id=comment_id)

    def _classify(self, claim: CommentClaim, exc: PlatformError) -> CommentOutcome:
        if exc.kind is ErrorKind.RATE_LIMITED:
            # Nothing was created by a refused call; an unknown earlier outcome stays unknown.
            status = CommentStatus.IN_DOUBT if claim.reconcile else CommentStatus.PENDING
            return CommentOutcome(status, error=exc.message, due_in=exc.retry_after or 60.0)
        if exc.kind is ErrorKind.TRANSIENT:
            # A 5xx or a dropped connection may come after the platform acted.
            return self._in_doubt(claim, exc.message)
        return CommentOutcome(CommentStatus.FAILED, error=exc.message)

    def _in_doubt(self, claim: CommentClaim, message: str) -> CommentOutcome:
        if claim.attempts >= self.settings.publish_max_attempts:
            return CommentOutcome(
                CommentStatus.FAILED,
                error=f"{message} Gave up after {claim.attempts} tries; the comment may or may "
                "not be on the post.",
            )
        return CommentOutcome(
            CommentStatus.IN_DOUBT, error=message, due_in=self._backoff(claim.attempts)
        )

    def _unknown_or_retry(self, claim: CommentClaim, message: str) -> CommentOutcome:
        status = CommentStatus.IN_DOUBT if claim.reconcile else CommentStatus.PENDING
        return CommentOutcome(status, error=message, due_in=self._backoff(claim.attempts))

    def _backoff(self, attempts: int) -> float:
        state = cast(RetryCallState, SimpleNamespace(attempt_number=attempts))
        return float(BACKOFF(state))


def comment_text(options: Mapping[str, Any] | None) -> str | None:
    """The first comment a target's stored options ask for, if any."""
    value = (options or {}).get("first_comment")
    return str(value) if value else None
