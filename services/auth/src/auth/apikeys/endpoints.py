from __future__ import annotations

import hmac
import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, status

from auth.apikeys.repository import ApiKeyNotFound
from auth.apikeys.schemas import ApiKeyCreated, ApiKeyIn, ApiKeyOut, ExchangeIn, ExchangeOut
from auth.apikeys.service import ApiKeyNotAllowed, api_keys
from auth.deps import Ctx, context
from socialseed.app import CurrentPrincipal, Session
from socialseed.errors import InsufficientRole, Unauthorized, WorkspaceNotFound
from socialseed.openapi import errors

router = APIRouter(prefix="/api/v1/api-keys", tags=["api-keys"])
internal = APIRouter(prefix="/internal/api-keys", include_in_schema=False)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=ApiKeyCreated,
    responses=errors(WorkspaceNotFound, InsufficientRole, ApiKeyNotAllowed),
)
async def create_api_key(
    body: ApiKeyIn, principal: CurrentPrincipal, session: Session, ctx: Ctx
) -> ApiKeyCreated:
    """Create a key for scripts and automation tools (admin or owner; its role at most
    yours). The answer holds the key itself, the only time it is shown: send it as
    `Authorization: Bearer <key>`. It works in its workspace only."""
    return await api_keys.create(session, ctx, principal, body)


@router.get(
    "",
    response_model=list[ApiKeyOut],
    responses=errors(WorkspaceNotFound, InsufficientRole, ApiKeyNotAllowed),
)
async def list_api_keys(
    workspace_id: uuid.UUID, principal: CurrentPrincipal, session: Session
) -> list[ApiKeyOut]:
    """The workspace's live keys, newest first, never the keys themselves (admin or owner)."""
    return await api_keys.list(session, principal, workspace_id)


@router.delete(
    "/{key_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=errors(ApiKeyNotFound, InsufficientRole, ApiKeyNotAllowed),
)
async def revoke_api_key(
    key_id: uuid.UUID, principal: CurrentPrincipal, session: Session, ctx: Ctx
) -> Response:
    """Revoke a key (admin or owner). The gateway that forwards this forgets the key at once;
    other gateway processes within `GATEWAY_API_KEY_CACHE_SECONDS` (10 s)."""
    await api_keys.revoke(session, ctx, principal, key_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


async def _gateway(request: Request) -> str:
    """The calling service, by its shared secret (never a user's token)."""
    scheme, _, secret = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and secret:
        for service, expected in context(request).settings.internal_tokens.items():
            if hmac.compare_digest(secret.encode(), expected.get_secret_value().encode()):
                return service
    raise Unauthorized("This endpoint is for SocialSeed services only.")


@internal.post("/exchange", response_model=ExchangeOut)
async def exchange(
    body: ExchangeIn,
    service: Annotated[str, Depends(_gateway)],
    session: Session,
    ctx: Ctx,
) -> ExchangeOut:
    """A short-lived access token for a live API key (401 InvalidApiKey otherwise)."""
    return await api_keys.exchange(session, ctx, body.key)
