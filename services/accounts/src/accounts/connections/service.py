"""The account registry: list, read, token vault, profile sync, disconnect."""

from __future__ import annotations

import logging
import uuid
from typing import NoReturn

from sqlalchemy.ext.asyncio import AsyncSession

from accounts.connections.events import emit
from accounts.connections.repository import AccountRepository
from accounts.connections.schemas import TokenOut
from accounts.connections.tokens import (
    AccountNeedsReauth,
    PlatformUnavailable,
    mark_reauth_required,
    record_failure,
    record_success,
    refresh_due,
    refresh_serialised,
    token_set,
)
from accounts.context import AccountsContext
from accounts.models import Account, AccountStatus
from socialseed.contracts import AccountDisconnected, AccountUpdated
from socialseed.errors import AccountNotFound, Conflict
from socialseed.platforms import ErrorKind, Platform, PlatformError, Profile, TokenSet
from socialseed.security import Principal, Role
from socialseed.vault import call_with_token

log = logging.getLogger(__name__)


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
        return await AccountRepository(session).for_workspace(principal, workspace_id)

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
        account = await AccountRepository(session).get(principal, account_id, lock=lock)
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
        """The account's tokens, refreshed first when due (or ``force``). A short unlocked
        read decides; only a due refresh takes the row lock (see ``refresh_serialised``), and
        the new tokens are committed before they are returned."""
        async with ctx.db.transaction() as session:
            account = await AccountRepository(session).get_unscoped(account_id)
            if account is None:
                raise AccountNotFound()
        self._require_active(account)
        if not (force or refresh_due(account, ctx.clock(), ctx.settings.refresh_lead)):
            return account, token_set(ctx.cipher, account)
        seen = account.token_refreshed_at

        def wanted(current: Account) -> bool:
            if current.token_refreshed_at != seen:
                return False  # refreshed by someone else while we waited: use theirs
            return force or refresh_due(current, ctx.clock(), ctx.settings.refresh_lead)

        locked, _ = await refresh_serialised(ctx, account_id, Platform(account.platform), wanted)
        if locked is None:
            raise AccountNotFound()
        self._require_active(locked)
        return locked, token_set(ctx.cipher, locked)

    @staticmethod
    def _require_active(account: Account) -> None:
        if account.status != AccountStatus.ACTIVE or account.access_token_enc is None:
            raise AccountNotActive()

    async def sync(self, ctx: AccountsContext, account_id: uuid.UUID) -> Account:
        """Fetch the profile now. No connection is held during the platform call: tokens are
        read (and refreshed, committed) first, the profile is fetched with no session open,
        and the result is written in a new short transaction, unless the account was
        disconnected meanwhile. A token the platform refuses is refreshed and the call made
        once more (the token vault's rule, ``call_with_token``)."""

        async def fetch(force: bool) -> tuple[Account, TokenSet]:
            return await self._fresh_tokens(ctx, account_id, force=force)

        async def profile_of(fresh: tuple[Account, TokenSet]) -> Profile:
            account, tokens = fresh
            return await ctx.providers[Platform(account.platform)].profile(tokens)

        try:
            profile = await call_with_token(fetch, profile_of)
        except PlatformError as exc:
            await self._fail(ctx, account_id, exc)
        async with ctx.db.transaction() as session:
            account = await self._locked(session, account_id)
            self._require_active(account)  # disconnected while the platform answered
            apply_profile(account, profile)
            account.last_synced_at = ctx.clock()
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
        self, ctx: AccountsContext, principal: Principal, account_id: uuid.UUID
    ) -> None:
        """Revoke the grant at the platform and mark the account disconnected. The tokens are
        read in one short transaction, revoked with no connection held, and the account is
        marked in a second one (a no-op if a concurrent disconnect got there first)."""
        async with ctx.db.transaction() as session:
            account = await self.get(session, principal, account_id, "admin")
        if account.status == AccountStatus.DISCONNECTED:
            return
        if account.access_token_enc is not None:
            try:
                await ctx.providers[Platform(account.platform)].revoke(
                    token_set(ctx.cipher, account)
                )
            except PlatformError as exc:
                # The user wants it gone: forget our tokens even if the platform is unreachable.
                log.warning("revoking %s at %s failed: %r", account.id, account.platform, exc)
        async with ctx.db.transaction() as session:
            account = await self._locked(session, account_id)
            if account.status == AccountStatus.DISCONNECTED:
                return
            account.status = AccountStatus.DISCONNECTED
            account.access_token_enc = account.refresh_token_enc = None
            account.token_expires_at = account.refresh_expires_at = None
            await emit(session, ctx.outbox, account, AccountDisconnected, at=ctx.clock())

    async def _locked(self, session: AsyncSession, account_id: uuid.UUID) -> Account:
        account = await AccountRepository(session).get_unscoped(account_id, lock=True)
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
                record_failure(account, exc, ctx.clock())
        if exc.kind is ErrorKind.REAUTH_REQUIRED:
            raise AccountNeedsReauth(exc.message) from exc
        raise PlatformUnavailable(exc.message) from exc


accounts = AccountService()
