"""Token state of one account: decrypt, decide when to refresh, refresh under the row lock.

Rotating refresh tokens (X, TikTok) are single use. Every refresh of an account happens while
its row is locked (``SELECT ... FOR UPDATE``), and the new tokens are committed before the access
token is handed out or used, so two jobs can never spend one refresh token twice.

A refresh pins a pooled connection for its platform call (the row lock is what serialises it),
so that pinning is bounded: the lock is only taken when a short unlocked read found the token
due, at most ``refresh_concurrency`` refreshes per platform run at once in a process (waiters
queue on a semaphore holding no connection), and a wait for another's row lock gives up (503
``RefreshBusy``) after the longest a refresh can take, its retries of a lost answer included
(``PlatformsConfig.refresh_budget``), plus ``refresh_lock_slack``. Profile syncs and
revocations never hold a connection across their call.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.cipher import TokenCipher
from accounts.connections.events import emit
from accounts.connections.repository import AccountRepository
from accounts.context import AccountsContext
from accounts.models import Account, AccountStatus
from socialseed.contracts import AccountReauthRequired
from socialseed.db import is_lock_timeout
from socialseed.errors import AppError, Conflict
from socialseed.metrics import TOKEN_REFRESHES
from socialseed.platforms import ErrorKind, Platform, PlatformError, TokenSet

log = logging.getLogger(__name__)


class AccountNeedsReauth(Conflict):
    default_detail = "The platform no longer accepts this connection; connect the account again."


class PlatformUnavailable(AppError):
    status_code = 503
    default_detail = "The platform could not be reached; try again shortly."


def token_set(cipher: TokenCipher, account: Account) -> TokenSet:
    assert account.access_token_enc is not None, "account holds no token"
    return TokenSet(
        access_token=cipher.decrypt(account.access_token_enc),
        refresh_token=cipher.decrypt_optional(account.refresh_token_enc),
        expires_at=account.token_expires_at,
        refresh_expires_at=account.refresh_expires_at,
        scopes=tuple(account.scopes or ()),
    )


def store_tokens(cipher: TokenCipher, account: Account, tokens: TokenSet, now: datetime) -> None:
    account.access_token_enc = cipher.encrypt(tokens.access_token)
    if tokens.refresh_token is not None:  # keep a refresh token the platform did not resend
        account.refresh_token_enc = cipher.encrypt(tokens.refresh_token)
        account.refresh_expires_at = tokens.refresh_expires_at
    account.token_expires_at = tokens.expires_at
    account.token_refreshed_at = now
    if tokens.scopes:
        account.scopes = list(tokens.scopes)


def refresh_due(account: Account, now: datetime, lead: int) -> bool:
    """Due when it expires within ``lead`` seconds, or within half its lifetime if shorter."""
    expires = account.token_expires_at
    if expires is None:
        return False
    window = timedelta(seconds=lead)
    if account.token_refreshed_at is not None:
        window = min(window, (expires - account.token_refreshed_at) / 2)
    return expires - now <= window


def record_failure(account: Account, exc: PlatformError, now: datetime) -> None:
    account.consecutive_failures += 1
    account.last_error = exc.message[:500]
    account.last_error_at = now
    if exc.kind is ErrorKind.RATE_LIMITED and exc.retry_after:
        account.rate_limited_until = now + timedelta(seconds=exc.retry_after)


def record_success(account: Account) -> None:
    account.consecutive_failures = 0


async def mark_reauth_required(
    session: AsyncSession, ctx: AccountsContext, account: Account, reason: str
) -> None:
    if account.status == AccountStatus.REAUTH_REQUIRED:
        return
    account.status = AccountStatus.REAUTH_REQUIRED
    now = ctx.clock()
    account.last_error, account.last_error_at = reason[:500], now
    await emit(
        session,
        ctx.outbox,
        account,
        AccountReauthRequired,
        reason=reason,
        at=now,
    )
    log.info("account %s (%s) needs re-authorisation", account.id, account.platform)


async def refresh_locked(
    session: AsyncSession, ctx: AccountsContext, account: Account
) -> AppError | None:
    """Refresh ``account`` (its row already locked by the caller's transaction).

    A refused refresh is recorded on the account (reauth_required, or one more failure) and
    the error is returned, not raised: the caller commits that record on purpose (the account's
    health must survive the failed request) and raises the error after its commit.
    """
    provider = ctx.providers[Platform(account.platform)]
    now = ctx.clock()
    try:
        fresh = await provider.refresh(token_set(ctx.cipher, account))
    except PlatformError as exc:
        failure: AppError
        if exc.kind is ErrorKind.REAUTH_REQUIRED:
            await mark_reauth_required(session, ctx, account, exc.message)
            failure = AccountNeedsReauth(exc.message)
            TOKEN_REFRESHES.labels(account.platform, "reauth_required").inc()
        else:
            record_failure(account, exc, now)
            failure = PlatformUnavailable(exc.message)
            TOKEN_REFRESHES.labels(account.platform, "failed").inc()
        failure.__cause__ = exc
        return failure
    store_tokens(ctx.cipher, account, fresh, now)
    record_success(account)
    TOKEN_REFRESHES.labels(account.platform, "refreshed").inc()
    return None


class RefreshBusy(PlatformUnavailable):
    default_detail = "Another refresh of this account is still running; try again shortly."


async def refresh_serialised(
    ctx: AccountsContext,
    account_id: uuid.UUID,
    platform: Platform,
    wanted: Callable[[Account], bool],
) -> tuple[Account | None, bool]:
    """Refresh the account under its row lock if ``wanted(account)`` still holds once locked
    (someone may have refreshed it meanwhile). Returns the account as committed (None if it
    is gone) and whether this call refreshed it. A refused refresh is committed on purpose (the
    account marked reauth_required or its failure counted must survive) and raised after."""
    failure: AppError | None = None
    refreshed = False
    async with ctx.refresh_slot(platform):
        try:
            async with ctx.db.transaction() as session:
                account = await AccountRepository(session).get_unscoped(
                    account_id,
                    lock=True,
                    lock_timeout=ctx.settings.platforms.refresh_budget
                    + ctx.settings.refresh_lock_slack,
                )
                if account is None:
                    return None, False
                if account.status == AccountStatus.ACTIVE and wanted(account):
                    failure = await refresh_locked(session, ctx, account)
                    refreshed = failure is None
        except DBAPIError as exc:
            if is_lock_timeout(exc):
                raise RefreshBusy() from exc
            raise
    if failure is not None:
        raise failure
    return account, refreshed
