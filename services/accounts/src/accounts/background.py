"""Background jobs: keep tokens fresh and profiles synced, and drop expired connect states;
one leader across replicas.

Leadership is ``socialseed.leader``'s (a Postgres advisory lock held on a connection of its own:
if the leader dies, another replica takes over on its next attempt). Each account is
refreshed in its own transaction with its row locked (``refresh_serialised``), so a token
request racing the refresher waits and then sees the new token instead of spending the refresh
token a second time.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

from accounts.cipher import TokenUndecryptable
from accounts.connections.events import emit
from accounts.connections.repository import AccountRepository
from accounts.connections.service import accounts
from accounts.connections.tokens import refresh_due, refresh_serialised
from accounts.context import AccountsContext
from accounts.oauth.repository import OAuthStateRepository
from socialseed.contracts import AccountTokenExpiring
from socialseed.errors import AppError
from socialseed.leader import run_as_leader
from socialseed.platforms import Platform

log = logging.getLogger(__name__)

# The name the background jobs' leadership is held under (``socialseed.leader``).
LEADER_JOB = "accounts-background"


async def refresh_due_tokens(ctx: AccountsContext, *, batch: int = 50) -> int:
    """Refresh every active token expiring soon, each account at most once per turn (a
    failing platform is retried next turn, not in a tight loop). Returns how many were
    refreshed."""
    lead = ctx.settings.background_refresh_lead
    tried: set[uuid.UUID] = set()
    done = 0
    while True:
        async with ctx.db.transaction() as session:
            now = ctx.clock()
            candidates = await AccountRepository(session).refresh_candidates(
                now + timedelta(seconds=lead), now, batch, exclude=tried
            )
        if not candidates:
            return done
        tried.update(a.id for a in candidates)
        for account in [a for a in candidates if refresh_due(a, now, lead)]:
            account_id = account.id
            try:
                # someone may have refreshed it meanwhile: re-checked under the row lock
                _, refreshed = await refresh_serialised(
                    ctx,
                    account_id,
                    Platform(account.platform),
                    lambda current: refresh_due(current, ctx.clock(), lead),
                )
                if not refreshed:
                    continue
                done += 1
            except AppError as exc:  # recorded on the account; move on to the next
                log.info("background refresh of %s: %s", account_id, exc.detail)
                if isinstance(exc, TokenUndecryptable):
                    await _record_failure(ctx, account_id, exc)
            except Exception as exc:  # one bad account must not stop the turn for everyone
                log.warning("background refresh of %s failed", account_id, exc_info=True)
                await _record_failure(ctx, account_id, exc)


async def sync_due_profiles(ctx: AccountsContext, *, batch: int = 50) -> int:
    async with ctx.db.transaction() as session:
        now = ctx.clock()
        due = await AccountRepository(session).sync_due(
            now - timedelta(seconds=ctx.settings.profile_sync_interval), now, batch
        )
    for account_id in due:
        try:
            await accounts.sync(ctx, account_id)
        except AppError as exc:
            log.info("profile sync of %s: %s", account_id, exc.detail)
            if isinstance(exc, TokenUndecryptable):
                await _record_failure(ctx, account_id, exc)
        except Exception as exc:  # one bad account must not stop the turn for everyone
            log.warning("profile sync of %s failed", account_id, exc_info=True)
            await _record_failure(ctx, account_id, exc)
    return len(due)


async def warn_expiring_grants(ctx: AccountsContext, *, batch: int = 100) -> int:
    """``account.token_expiring`` for each active account whose grant only a person can renew
    ends within ``token_expiry_warning_days``: once per grant (the end warned of is stored in
    the same transaction as the event). Returns how many were warned."""
    total = 0
    while True:
        async with ctx.db.transaction() as session:
            now = ctx.clock()
            before = now + timedelta(days=ctx.settings.token_expiry_warning_days)
            due = await AccountRepository(session).expiring_grants(now, before, batch)
            for account, ends in due:
                await emit(
                    session,
                    ctx.outbox,
                    account,
                    AccountTokenExpiring,
                    username=account.username,
                    expires_at=ends,
                    at=now,
                )
                account.expiry_warned_for = ends
        total += len(due)
        if len(due) < batch:
            return total


async def purge_oauth_states(ctx: AccountsContext, *, batch: int = 1000) -> int:
    """Delete connect states expired more than a day ago, in short batches."""
    before = ctx.clock() - timedelta(days=1)
    total = 0
    while True:
        async with ctx.db.transaction() as session:
            n = await OAuthStateRepository(session).delete_expired(before, limit=batch)
        total += n
        if n < batch:
            return total


async def _record_failure(ctx: AccountsContext, account_id: uuid.UUID, exc: Exception) -> None:
    """Record an unexpected failure on the account in its own short transaction (the failed
    attempt's transaction rolled back), so its health shows it and it sorts behind healthy
    accounts next turn. Only the error's name is stored: messages may carry secrets."""
    async with ctx.db.transaction() as session:
        account = await AccountRepository(session).get_unscoped(account_id, lock=True)
        if account is None:
            return
        account.consecutive_failures += 1
        account.last_error = type(exc).__name__
        account.last_error_at = ctx.clock()


async def background_turn(ctx: AccountsContext) -> None:
    await refresh_due_tokens(ctx)
    await sync_due_profiles(ctx)
    await warn_expiring_grants(ctx)
    await purge_oauth_states(ctx)


async def run_background(ctx: AccountsContext) -> None:
    """Forever: while leader, refresh due tokens, sync due profiles and purge old connect
    states every interval."""
    await run_as_leader(
        ctx.db,
        LEADER_JOB,
        lambda: background_turn(ctx),
        interval=ctx.settings.refresher_interval,
    )
