"""Registration, login, refresh-token rotation with reuse detection, logout."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from email_validator import EmailNotValidError, validate_email
from sqlalchemy.ext.asyncio import AsyncSession

from auth.context import AuthContext
from auth.models import RefreshToken, User
from auth.passwords import weakness
from auth.tokens import hash_refresh_token, issue_access_token, new_refresh_token
from auth.users.repository import RefreshTokenRepository, UserRepository
from auth.users.schemas import (
    MeInvitation,
    MeInvitationWorkspace,
    MeOut,
    MeWorkspace,
    TokenPair,
)
from socialseed.contracts import UserRegistered
from socialseed.errors import BadRequest, Conflict, NotFound, Unauthorized

log = logging.getLogger(__name__)


class EmailTaken(Conflict):
    default_detail = "An account with this email already exists."


class WeakPassword(BadRequest):
    """A schema-valid password that breaks the password rule (common, or the email/name)."""


class InvalidCredentials(Unauthorized):
    default_detail = "Invalid email or password."


class RefreshTokenInvalid(Unauthorized):
    default_detail = "The refresh token is invalid, expired or revoked."


class InvalidEmail(BadRequest):
    default_detail = "This is not an address anyone can receive mail at."


@dataclass(frozen=True)
class Issued:
    """A new token pair and when its refresh token expires (a web client's cookie lives as
    long)."""

    pair: TokenPair
    refresh_expires_at: datetime
    issued_at: datetime


def normalise_email(email: str) -> str:
    return email.strip().lower()


def checked_email(email: str) -> str:
    """The normalised address, or InvalidEmail: a rule (reserved and special-use domains such
    as ``.invalid`` or ``.local`` receive no mail) beyond what the schema's ``format: email``
    says, so a named 400 rather than a 422."""
    try:
        validate_email(email.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidEmail(str(exc)) from exc
    return normalise_email(email)


class UserService:
    async def register(
        self, session: AsyncSession, ctx: AuthContext, *, email: str, password: str, name: str
    ) -> User:
        email = checked_email(email)
        if reason := weakness(password, email=email, name=name):
            raise WeakPassword(reason)
        users = UserRepository(session)
        user = await users.create(
            email=email, name=name.strip(), password_hash=await ctx.hasher.hash(password)
        )
        if user is None:
            raise EmailTaken()
        await ctx.outbox.add(
            session,
            UserRegistered(
                user_id=user.id, email=user.email, name=user.name, registered_at=user.created_at
            ),
            key=str(user.id),
        )
        return user

    async def login(
        self, session: AsyncSession, ctx: AuthContext, *, email: str, password: str, ip: str
    ) -> Issued:
        email = normalise_email(email)
        await ctx.login_throttle.hit(ctx.db, ctx.clock(), ip=ip, email=email)
        users = UserRepository(session)
        user = await users.by_email(email)
        # Always verify a hash (a dummy one for unknown emails): same answer, same time.
        ok = await ctx.hasher.verify(user.password_hash if user else None, password)
        if user is None or not ok or user.disabled_at is not None:
            # The request's transaction rolls back with the 401; the audit row of the failed
            # attempt is committed on purpose in its own short transaction.
            async with ctx.db.transaction() as own:
                await UserRepository(own).audit(
                    "login_failed", user_id=user.id if user else None, ip=ip
                )
            log.info("login failed from %s", ip)
            raise InvalidCredentials()
        if ctx.hasher.needs_rehash(user.password_hash):
            await users.set_password_hash(user.id, await ctx.hasher.hash(password))
            await users.audit("password_rehashed", user_id=user.id, ip=ip)
        await users.audit("login", user_id=user.id, ip=ip)
        return await self._issue(session, ctx, user, family_id=uuid.uuid4(), family_expires=None)

    async def refresh(
        self, session: AsyncSession, ctx: AuthContext, *, refresh_token: str, ip: str
    ) -> Issued:
        tokens = RefreshTokenRepository(session)
        now = ctx.clock()
        token_hash = hash_refresh_token(refresh_token)
        # A spent token is detected before locking, so its family is revoked without the
        # request holding a lock on one of the rows; a concurrent second use of the same token
        # is caught after the lock (that row is then skipped: it is spent already).
        row = await tokens.by_hash(token_hash)
        if row is not None and row.used_at is None and row.revoked_at is None:
            row = await tokens.lock_by_hash(token_hash)
            locked = True
        else:
            locked = False
        if row is None:
            raise RefreshTokenInvalid()
        if row.used_at is not None or row.revoked_at is not None:
            if row.used_at is not None:
                # A spent token came back: it was stolen or replayed. Kill the whole session.
                # The 401 rolls the request's transaction back, so the revocation and its
                # audit row are committed on purpose in their own transaction.
                async with ctx.db.transaction() as own:
                    revoked = await RefreshTokenRepository(own).revoke_family(
                        row.family_id, now, except_id=row.id if locked else None
                    )
                    await UserRepository(own).audit(
                        "refresh_token_reuse",
                        user_id=row.user_id,
                        ip=ip,
                        family_id=str(row.family_id),
                        revoked=revoked,
                    )
                log.warning("refresh token reuse detected; family revoked")
            raise RefreshTokenInvalid()
        if row.expires_at <= now or row.family_expires_at <= now:
            raise RefreshTokenInvalid()
        row.used_at = now
        user = await UserRepository(session).by_id(row.user_id)
        if user is None or user.disabled_at is not None:
            raise RefreshTokenInvalid()
        return await self._issue(
            session, ctx, user, family_id=row.family_id, family_expires=row.family_expires_at
        )

    async def logout(
        self, session: AsyncSession, ctx: AuthContext, *, refresh_token: str, ip: str
    ) -> None:
        tokens = RefreshTokenRepository(session)
        row = await tokens.lock_by_hash(hash_refresh_token(refresh_token))
        if row is not None:
            await tokens.revoke_family(row.family_id, ctx.clock())
            await UserRepository(session).audit("logout", user_id=row.user_id, ip=ip)

    async def me(self, session: AsyncSession, ctx: AuthContext, user_id: uuid.UUID) -> MeOut:
        # Registration stored the email normalised; invitations are stored the same way.
        row = await UserRepository(session).me(user_id, ctx.clock())
        if row is None:
            raise NotFound("User not found.")
        return MeOut(
            id=row.id,
            email=row.email,
            name=row.name,
            workspaces=[
                MeWorkspace(id=ws_id, name=name, role=role) for ws_id, name, role in row.workspaces
            ],
            invitations=[
                MeInvitation(
                    id=inv_id,
                    workspace=MeInvitationWorkspace(id=ws_id, name=ws_name),
                    role=role,
                    expires_at=expires_at,
                )
                for inv_id, ws_id, ws_name, role, expires_at in row.invitations
            ],
        )

    async def _issue(
        self,
        session: AsyncSession,
        ctx: AuthContext,
        user: User,
        *,
        family_id: uuid.UUID,
        family_expires: datetime | None,
    ) -> Issued:
        now = ctx.clock()
        family_expires = family_expires or now + timedelta(seconds=ctx.settings.refresh_family_ttl)
        refresh = new_refresh_token()
        expires_at = min(now + timedelta(seconds=ctx.settings.refresh_token_ttl), family_expires)
        await RefreshTokenRepository(session).add(
            RefreshToken(
                family_id=family_id,
                user_id=user.id,
                token_hash=hash_refresh_token(refresh),
                expires_at=expires_at,
                family_expires_at=family_expires,
            )
        )
        roles = await UserRepository(session).roles(user.id)
        access = issue_access_token(
            ctx.key, ctx.settings, user_id=user.id, email=user.email, roles=roles, now=now
        )
        pair = TokenPair(
            access_token=access, refresh_token=refresh, expires_in=ctx.settings.access_token_ttl
        )
        return Issued(pair=pair, refresh_expires_at=expires_at, issued_at=now)


users = UserService()
