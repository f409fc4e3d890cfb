"""The account registry: list, read, token vault, profile sync, disconnect."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime
from typing import NoReturn

from sqlalchemy.ext.asyncio import AsyncSession

from accounts.accounts.events import emit
from accounts.accounts.repository import AccountRepository
from accounts.accounts.schemas import TokenOut
from accounts.accounts.tokens import (
    AccountNeedsReauth,
    PlatformUnavailable,
    mark_reauth_required,
    record_failure,
    record_success,
    refresh_due,
    refresh_locked,
    token_set,
)
from accounts.deps import AccountsContext
from accounts.models import Account
from socialseed.contracts import AccountDisconnected, AccountUpdated
from socialseed.errors import Conflict, NotFound
from socialseed.platforms import ErrorKind, Platform, PlatformError, Profile, TokenSet
from socialseed.security import Principal, Role

log = logging.getLogger(__name__)


class AccountNotFound(NotFound):
    default_detail = "Account not found."


class AccountNotActive(Conflict):
    default_detail = "The account is not active (disconnected or waiting to be reconnected)."


def apply_profile(account: Account, profile: Profile) -> None:
    account.username = profile.username
    account.display_name = profile.display_name
    account.avatar_url = profile.avatar_url
    account.followers = profile.followers
    account.following = profile.following
    account.post_count = profile.post_count


class AccountService:
    async def list(
        self, session: AsyncSession, principal: Principal, workspace_id: uuid.UUID
    ) -> list[Account]:
        principal.require(workspace_id, "viewer")
        return await AccountRepository(session).for_workspace(workspace_id)

    async def get(
        self,
        session: AsyncSession,
        principal: Principal,
        account_id: uuid.UUID,
        minimum: Role = "viewer",
        *,
        lock: bool = False,
    ) -> Account:
        """The account if the caller may see it; another tenant's account is a 404."""
        account = await AccountRepository(session).get(
            account_id, workspaces=list(principal.roles), lock=lock
        )
        if account is None:
            raise AccountNotFound()
        principal.require(account.workspace_id, minimum)
        return account

    async def access_token(
        self, ctx: AccountsContext, account_id: uuid.UUID, *, force: bool
    ) -> TokenOut:
        """A valid access token for internal callers, refreshed first when it expires soon.
        The refreshed tokens are committed before the response goes out."""
        account, tokens = await self._fresh_tokens(ctx, account_id, force=force)
        return TokenOut(
            access_token=tokens.access_token,
            expires_at=account.token_expires_at,
            platform=account.platform,
            platform_user_id=account.platform_user_id,
        )

    async def _fresh_tokens(
        self, ctx: AccountsContext, account_id: uuid.UUID, *, force: bool
    ) -> tuple[Account, TokenSet]:
        """The account's tokens, refreshed when due, in a short transaction of its own that
        holds the row lock. A refused refresh is committed on purpose (the account marked
        reauth_required or its failure counted must survive) and raised after the commit."""
        failure = None
        async with ctx.db.transaction() as session:
            account = await self._locked(session, account_id)
            if account.status != "active" or account.access_token_enc is None:
                raise AccountNotActive()
            if force or refresh_due(account, datetime.now(UTC), ctx.settings.refresh_lead):
                failure = await refresh_locked(session, ctx, account)
            tokens = None if failure else token_set(ctx.vault, account)
        if failure is not None:
            raise failure
        assert tokens is not None
        return account, tokens

    async def sync(self, ctx: AccountsContext, account_id: uuid.UUID) -> Account:
        """Fetch the profile now. Runs its own short transactions: a refreshed token is
        committed before it is used; a 401 from the platform refreshes and retries once."""
        for attempt in (1, 2):
            account, tokens = await self._fresh_tokens(ctx, account_id, force=attempt == 2)
            try:
                profile = await ctx.providers[Platform(account.platform)].profile(tokens)
                break
            except PlatformError as exc:
                if exc.kind is ErrorKind.REAUTH_REQUIRED and attempt == 1:
                    continue  # the access token may be dead before its time: refresh, retry
                await self._fail(ctx, account_id, exc)
        async with ctx.db.transaction() as session:
            account = await self._locked(session, account_id)
            apply_profile(account, profile)
            account.last_synced_at = datetime.now(UTC)
            record_success(account)
            await emit(
                session,
                ctx.outbox,
                account,
                AccountUpdated,
                username=account.username,
                display_name=account.display_name,
                followers=account.followers,
                following=account.following,
                post_count=account.post_count,
                synced_at=account.last_synced_at,
            )
            return account

    async def disconnect(
        self,
        session: AsyncSession,
        ctx: AccountsContext,
        principal: Principal,
        account_id: uuid.UUID,
    ) -> None:
        account = await self.get(session, principal, account_id, "admin", lock=True)
        if account.status == "disconnected":
            return
        if account.access_token_enc is not None:
            try:
                await ctx.providers[Platform(account.platform)].revoke(
                    token_set(ctx.vault, account)
                )
            except PlatformError as exc:
                # The user wants it gone: forget our tokens even if the platform is unreachable.
                log.warning("revoking %s at %s failed: %r", account.id, account.platform, exc)
        account.status = "disconnected"
        account.access_token_enc = account.refresh_token_enc = None
        account.token_expires_at = account.refresh_expires_at = None
        await emit(
            session,
            ctx.outbox,
            account,
            AccountDisconnected,
            at=datetime.now(UTC),
        )

    async def _locked(self, session: AsyncSession, account_id: uuid.UUID) -> Account:
        account = await AccountRepository(session).get(account_id, lock=True)
        if account is None:
            raise AccountNotFound()
        return account

    async def _fail(
        self, ctx: AccountsContext, account_id: uuid.UUID, exc: PlatformError
    ) -> NoReturn:
        async with ctx.db.transaction() as session:
            account = await self._locked(session, account_id)
            if exc.kind is ErrorKind.REAUTH_REQUIRED:
                await mark_reauth_required(session, ctx, account, exc.message)
            else:
                record_failure(account, exc, datetime.now(UTC))
        if exc.kind is ErrorKind.REAUTH_REQUIRED:
            raise AccountNeedsReauth(exc.message) from exc
        raise PlatformUnavailable(exc.message) from exc


accounts = AccountService()
