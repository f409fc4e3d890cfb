"""API keys for scripts and automation tools.

A key is ``ssk_`` and 43 characters of ``secrets.token_urlsafe(32)`` (256 random bits), shown
once. Only ``HMAC-SHA256(pepper, key)`` is stored: a key has far more entropy than any guess
can cover, so a slow password hash (Argon2id) would buy nothing against a stolen table and cost
tens of milliseconds of CPU on every exchange, for anyone who sends a random ``ssk_`` string;
the pepper (a setting, not in the database) means a database dump alone cannot even check a
guess.

The gateway exchanges a key for a short-lived access token (``exchange``) that every service
verifies like a user's: ``sub`` is the key's id, ``ws`` its one workspace with its role (never
above its creator's current role; a key whose creator left the workspace is refused), ``akid``
marks it as a key's.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from auth.apikeys.repository import ApiKeyRepository
from auth.apikeys.schemas import ApiKeyCreated, ApiKeyIn, ApiKeyOut, ExchangeOut
from auth.context import AuthContext
from auth.models import ApiKey
from auth.tokens import issue_access_token
from auth.workspaces.repository import WorkspaceRepository
from socialseed.errors import Forbidden, Unauthorized, WorkspaceNotFound
from socialseed.security import ROLE_RANK, Principal, require_role

KEY_PREFIX = "ssk_"
SHOWN_PREFIX = len(KEY_PREFIX) + 8  # "ssk_" and 8 characters: enough to tell keys apart


class ApiKeyNotAllowed(Forbidden):
    default_detail = "API keys cannot manage API keys or their workspace's members; sign in."


class InvalidApiKey(Unauthorized):
    default_detail = "This API key is unknown or has been revoked."


def hash_key(ctx: AuthContext, key: str) -> bytes:
    pepper = ctx.settings.api_key_pepper.get_secret_value().encode()
    return hmac.new(pepper, key.encode(), hashlib.sha256).digest()


def _out(key: ApiKey) -> ApiKeyOut:
    return ApiKeyOut(
        id=key.id,
        workspace_id=key.workspace_id,
        name=key.name,
        role=key.role,
        prefix=key.prefix,
        created_by=key.created_by,
        created_at=key.created_at,
        last_used_at=key.last_used_at,
    )


def _person(principal: Principal) -> uuid.UUID:
    if principal.api_key_id is not None:
        raise ApiKeyNotAllowed()
    return principal.user_id


class ApiKeyService:
    async def _admin_of(
        self, session: AsyncSession, workspace_id: uuid.UUID, user_id: uuid.UUID
    ) -> str:
        found = await WorkspaceRepository(session).with_role(workspace_id, user_id)
        if found is None:
            raise WorkspaceNotFound()
        require_role(found[1], "admin")
        return found[1]

    async def create(
        self, session: AsyncSession, ctx: AuthContext, principal: Principal, body: ApiKeyIn
    ) -> ApiKeyCreated:
        user_id = _person(principal)
        my_role = await self._admin_of(session, body.workspace_id, user_id)
        if ROLE_RANK[body.role] > ROLE_RANK[my_role]:
            require_role(my_role, body.role)  # InsufficientRole, naming the role asked
        key = KEY_PREFIX + secrets.token_urlsafe(32)
        row = await ApiKeyRepository(session).add(
            ApiKey(
                workspace_id=body.workspace_id,
                name=body.name.strip() or body.name,
                role=body.role,
                prefix=key[:SHOWN_PREFIX],
                key_hash=hash_key(ctx, key),
                created_by=user_id,
                created_at=ctx.clock(),
            )
        )
        return ApiKeyCreated(**_out(row).model_dump(), key=key)

    async def list(
        self, session: AsyncSession, principal: Principal, workspace_id: uuid.UUID
    ) -> list[ApiKeyOut]:
        user_id = _person(principal)
        await self._admin_of(session, workspace_id, user_id)
        return [
            _out(k) for k in await ApiKeyRepository(session).of_workspace(user_id, workspace_id)
        ]

    async def revoke(
        self, session: AsyncSession, ctx: AuthContext, principal: Principal, key_id: uuid.UUID
    ) -> None:
        user_id = _person(principal)
        key = await ApiKeyRepository(session).get(user_id, key_id)
        await self._admin_of(session, key.workspace_id, user_id)
        key.revoked_at = ctx.clock()
        await session.flush()

    async def exchange(self, session: AsyncSession, ctx: AuthContext, key: str) -> ExchangeOut:
        """An access token for a live key (the gateway's call), or InvalidApiKey."""
        if not key.startswith(KEY_PREFIX):
            raise InvalidApiKey()
        repo = ApiKeyRepository(session)
        found = await repo.live_by_hash_unscoped(hash_key(ctx, key))
        if found is None:
            raise InvalidApiKey()
        row, creator_role = found
        role = min(row.role, creator_role, key=lambda r: ROLE_RANK.get(r, 0))
        now = ctx.clock()
        await repo.touch(row.id, now)
        token = issue_access_token(
            ctx.key,
            ctx.settings,
            user_id=row.id,
            email="",
            roles={row.workspace_id: role},
            now=now,
            api_key_id=row.id,
        )
        return ExchangeOut(
            access_token=token, key_id=row.id, expires_in=ctx.settings.api_key_token_ttl
        )


api_keys = ApiKeyService()
