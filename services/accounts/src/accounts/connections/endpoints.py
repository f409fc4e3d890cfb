from __future__ import annotations

import uuid

from fastapi import APIRouter, status
from fastapi.responses import Response

from accounts.cipher import TokenUndecryptable
from accounts.connections.health import health
from accounts.connections.schemas import AccountOut, TokenOut
from accounts.connections.service import AccountNotActive, accounts
from accounts.connections.tokens import AccountNeedsReauth, PlatformUnavailable
from accounts.context import AccountsContext
from accounts.deps import Ctx, InternalCaller
from accounts.models import Account
from socialseed.app import CurrentPrincipal, Session
from socialseed.errors import (
    AccountNotFound,
    InsufficientRole,
    Unauthorized,
    WorkspaceNotFound,
)
from socialseed.openapi import errors

# what touching an account's tokens at the platform can answer
TOKEN_ERRORS = (AccountNotActive, AccountNeedsReauth, PlatformUnavailable, TokenUndecryptable)

router = APIRouter(prefix="/api/v1/accounts", tags=["accounts"])
internal = APIRouter(prefix="/internal/accounts", tags=["internal"])


def shown(ctx: AccountsContext, account: Account) -> AccountOut:
    """The account as the API shows it, its health judged now (the service's clock)."""
    return AccountOut.of(account, health(account, ctx.clock()))


@router.get("", response_model=list[AccountOut], responses=errors(WorkspaceNotFound))
async def list_accounts(
    workspace_id: uuid.UUID, principal: CurrentPrincipal, session: Session, ctx: Ctx
) -> list[AccountOut]:
    """The workspace's connected accounts with their status and health."""
    return [shown(ctx, a) for a in await accounts.list(session, principal, workspace_id)]


# ``:uuid`` so that ``/accounts/connect`` never reaches these routes as an account id: a GET
# there is a 405 (``Allow: POST``), not a 422 about a malformed id.
@router.get("/{account_id:uuid}", response_model=AccountOut, responses=errors(AccountNotFound))
async def get_account(
    account_id: uuid.UUID, principal: CurrentPrincipal, session: Session, ctx: Ctx
) -> AccountOut:
    return shown(ctx, await accounts.get(session, principal, account_id))


@router.delete(
    "/{account_id:uuid}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=errors(AccountNotFound, InsufficientRole, TokenUndecryptable),
)
async def disconnect_account(
    account_id: uuid.UUID, principal: CurrentPrincipal, ctx: Ctx
) -> Response:
    """Revoke the grant at the platform and mark the account disconnected (admin or owner).
    Runs its own short transactions: no connection is held during the platform call."""
    await accounts.disconnect(ctx, principal, account_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{account_id}/sync",
    response_model=AccountOut,
    responses=errors(AccountNotFound, InsufficientRole, *TOKEN_ERRORS),
)
async def sync_account(account_id: uuid.UUID, principal: CurrentPrincipal, ctx: Ctx) -> AccountOut:
    """Fetch the profile (name, avatar, counters) from the platform now (editor or above).
    Runs its own short transactions: no connection is held during the platform call."""
    async with ctx.db.transaction() as session:
        await accounts.get(session, principal, account_id, "editor")
    return shown(ctx, await accounts.sync(ctx, account_id))


@internal.post(
    "/{account_id}/access-token",
    response_model=TokenOut,
    responses=errors(Unauthorized, AccountNotFound, *TOKEN_ERRORS),
)
async def access_token(
    account_id: uuid.UUID, caller: InternalCaller, ctx: Ctx, force: bool = False
) -> TokenOut:
    """Token vault for publisher and analytics-sync: a valid access token, refreshed first
    when it expires within 5 minutes (or always, with `force`, after the platform said 401)."""
    return await accounts.access_token(ctx, account_id, force=force)
