"""The connect flow: a single-use state bound to user, workspace, platform and PKCE verifier;
the platform's callback hands code and state back to the client, and the signed-in user who
started the connect completes it (code exchange, profile fetch, account upsert). Binding the
completion to that user stops account injection: a code from someone else's consent cannot be
attached to your workspace, nor yours to theirs."""

from __future__ import annotations

import hashlib
import logging
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncSession

from accounts.connections.events import emit
from accounts.connections.repository import AccountRepository
from accounts.connections.service import apply_profile
from accounts.connections.tokens import store_tokens
from accounts.context import AccountsContext
from accounts.models import Account, AccountStatus, OAuthState
from accounts.oauth.repository import OAuthStateRepository
from accounts.oauth.schemas import ConnectOut
from socialseed.contracts import AccountConnected
from socialseed.errors import AppError, BadRequest, NotFound
from socialseed.platforms import Connection, Platform, PlatformError
from socialseed.security import Principal

log = logging.getLogger(__name__)


class RedirectNotAllowed(BadRequest):
    default_detail = "redirect_uri must be on an allowed origin."


class InvalidState(BadRequest):
    default_detail = "This connect link is invalid, expired or already used; start again."


class MissingCode(BadRequest):
    default_detail = "The platform returned neither a code nor an error."


class ConsentDenied(BadRequest):
    default_detail = "Access was not granted at the platform."


class ConnectNotFound(NotFound):
    default_detail = "No connect in progress with this state for you."


class ConnectFailed(AppError):
    status_code = 400
    default_detail = "The platform refused to complete the connection."


def _hash(state: str) -> bytes:
    return hashlib.sha256(state.encode()).digest()


def callback_uri(ctx: AccountsContext, platform: Platform) -> str:
    return f"{ctx.settings.public_base_url.rstrip('/')}/api/v1/oauth/{platform.value}/callback"


@dataclass(frozen=True)
class Callback:
    """What the platform's redirect carried, to hand back to the client that started it."""

    state: str
    code: str | None
    error: str | None
    return_to: str | None


async def _pending(
    session: AsyncSession, state: str | None, now: datetime, *, lock: bool
) -> OAuthState:
    """The unspent, unexpired state, or InvalidState."""
    pending = None
    if state:
        pending = await OAuthStateRepository(session).by_hash(_hash(state), lock=lock)
    if pending is None or pending.used_at is not None or pending.expires_at <= now:
        raise InvalidState()
    return pending


class ConnectService:
    async def start(
        self,
        session: AsyncSession,
        ctx: AccountsContext,
        principal: Principal,
        *,
        workspace_id: uuid.UUID,
        platform: Platform,
        return_to: str | None,
    ) -> ConnectOut:
        principal.require(workspace_id, "editor")
        if return_to is not None:
            parts = urlsplit(return_to)
            if f"{parts.scheme}://{parts.netloc}" not in ctx.settings.redirect_origins():
                raise RedirectNotAllowed()
        state = secrets.token_urlsafe(32)  # 256 bits
        callback = callback_uri(ctx, platform)
        authorization = ctx.providers[platform].authorize(state=state, redirect_uri=callback)
        await OAuthStateRepository(session).add(
            OAuthState(
                state_hash=_hash(state),
                user_id=principal.user_id,
                workspace_id=workspace_id,
                platform=platform.value,
                code_verifier_enc=ctx.cipher.encrypt_optional(authorization.code_verifier),
                callback_uri=callback,
                return_to=return_to,
                expires_at=ctx.clock() + timedelta(seconds=ctx.settings.oauth_state_ttl),
            )
        )
        return ConnectOut(authorize_url=authorization.url, state=state)

    async def callback(
        self,
        ctx: AccountsContext,
        *,
        platform: Platform,
        state: str | None,
        code: str | None,
        error: str | None,
    ) -> Callback:
        """The platform's redirect. It stores nothing for the account (the code is exchanged
        only when the user who started the connect completes it, signed in), except that a
        platform error spends the state: that connect is over."""
        now = ctx.clock()
        async with ctx.db.transaction() as session:
            pending = await _pending(session, state, now, lock=bool(error))
            if pending.platform != platform.value:
                raise InvalidState()
            if error:
                # committed on purpose before the error is answered: a refused consent
                # cannot be completed later
                pending.used_at = now
        assert state is not None
        if not error and not code:
            raise MissingCode()
        if error and pending.return_to is None:
            raise ConsentDenied(f"{platform.value} reported: {error[:200]}.")
        return Callback(state=state, code=code, error=error, return_to=pending.return_to)

    async def complete(
        self, ctx: AccountsContext, principal: Principal, *, state: str, code: str
    ) -> list[Account]:
        """Exchange the code for the user who started the connect, and store the accounts.

        Another user's attempt is a 404 and leaves the state usable by its owner. The owner's
        attempt spends the state in a short transaction of its own, committed before the code
        is exchanged (a failed exchange cannot be retried with the same state, and no
        database connection is held during the platform's calls); the accounts are stored in
        a new transaction afterwards.
        """
        now = ctx.clock()
        async with ctx.db.transaction() as session:
            pending = await _pending(session, state, now, lock=True)
            if pending.user_id != principal.user_id:
                raise ConnectNotFound()
            principal.require(pending.workspace_id, "editor")
            pending.used_at = now
        platform = Platform(pending.platform)
        provider = ctx.providers[platform]
        try:
            tokens = await provider.exchange_code(
                code=code,
                redirect_uri=pending.callback_uri,
                code_verifier=ctx.cipher.decrypt_optional(pending.code_verifier_enc),
            )
            connections = await provider.connections(tokens)
        except PlatformError as exc:
            log.info("connect to %s failed: %r", platform.value, exc)
            raise ConnectFailed(exc.message) from exc
        if not connections:
            raise ConnectFailed(f"No {platform.value} account was granted.")
        async with ctx.db.transaction() as session:
            return [
                await self._upsert(session, ctx, pending, conn, ctx.clock()) for conn in connections
            ]

    async def _upsert(
        self,
        session: AsyncSession,
        ctx: AccountsContext,
        pending: OAuthState,
        conn: Connection,
        now: datetime,
    ) -> Account:
        repo = AccountRepository(session)
        account = await repo.by_identity(
            pending.workspace_id, pending.platform, conn.profile.platform_user_id
        )
        reconnected = account is not None
        if account is None:
            account = Account(
                workspace_id=pending.workspace_id,
                platform=pending.platform,
                platform_user_id=conn.profile.platform_user_id,
                connected_by=pending.user_id,
                connected_at=now,
                scopes=[],
                consecutive_failures=0,
            )
        apply_profile(account, conn.profile)
        store_tokens(ctx.cipher, account, conn.tokens, now)
        account.status = AccountStatus.ACTIVE
        account.connected_by = pending.user_id
        account.consecutive_failures = 0
        account.last_error = None
        account.last_synced_at = now
        if reconnected:
            await session.flush()
        else:
            await repo.add(account)  # flushes: the event needs the new id
        await emit(
            session,
            ctx.outbox,
            account,
            AccountConnected,
            platform_user_id=account.platform_user_id,
            username=account.username,
            reconnected=reconnected,
            connected_at=now,
        )
        return account


connect = ConnectService()
