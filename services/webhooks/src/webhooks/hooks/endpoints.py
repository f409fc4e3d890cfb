"""The webhook endpoints' API: register, list, change, delete, rotate the secret, see the
deliveries, redeliver one, send a test. Admins and owners only."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Query, status
from fastapi.responses import Response

from socialseed.app import CurrentPrincipal, Session
from socialseed.errors import InsufficientRole, InvalidCursor, WorkspaceNotFound
from socialseed.openapi import errors
from webhooks.delivery.guard import WebhookUrlRefused
from webhooks.deps import Ctx
from webhooks.hooks.repository import DeliveryNotFound, WebhookNotFound
from webhooks.hooks.schemas import (
    DeliveryOut,
    DeliveryPage,
    EndpointIn,
    EndpointList,
    EndpointOut,
    EndpointPatch,
    EndpointWithSecret,
)
from webhooks.hooks.service import EndpointDisabled, webhooks

router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"])
ONE = (WebhookNotFound, InsufficientRole)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=EndpointWithSecret,
    responses=errors(WorkspaceNotFound, InsufficientRole, WebhookUrlRefused),
)
async def create_webhook(
    body: EndpointIn, principal: CurrentPrincipal, session: Session, ctx: Ctx
) -> EndpointWithSecret:
    """Register a receiver for the workspace's events. The answer carries the signing
    secret (``whsec_…``) this once; verify each delivery's ``webhook-signature`` with it."""
    return await webhooks.create(session, ctx, principal, body)


@router.get("", response_model=EndpointList, responses=errors(WorkspaceNotFound, InsufficientRole))
async def list_webhooks(
    workspace_id: uuid.UUID, principal: CurrentPrincipal, session: Session
) -> EndpointList:
    """The workspace's webhook endpoints (never their secrets)."""
    return await webhooks.list(session, principal, workspace_id)


@router.get("/{webhook_id:uuid}", response_model=EndpointOut, responses=errors(*ONE))
async def get_webhook(
    webhook_id: uuid.UUID, principal: CurrentPrincipal, session: Session
) -> EndpointOut:
    return await webhooks.get(session, principal, webhook_id)


@router.patch(
    "/{webhook_id:uuid}", response_model=EndpointOut, responses=errors(*ONE, WebhookUrlRefused)
)
async def update_webhook(
    webhook_id: uuid.UUID,
    body: EndpointPatch,
    principal: CurrentPrincipal,
    session: Session,
    ctx: Ctx,
) -> EndpointOut:
    """Change the URL, the events, the words, or turn it on (clearing why it was turned
    off) or off."""
    return await webhooks.update(session, ctx, principal, webhook_id, body)


@router.delete("/{webhook_id:uuid}", status_code=status.HTTP_204_NO_CONTENT, responses=errors(*ONE))
async def delete_webhook(
    webhook_id: uuid.UUID, principal: CurrentPrincipal, session: Session
) -> Response:
    """Delete it and its deliveries; nothing more is sent to it."""
    await webhooks.delete(session, principal, webhook_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{webhook_id:uuid}/rotate-secret",
    response_model=EndpointWithSecret,
    responses=errors(*ONE),
)
async def rotate_webhook_secret(
    webhook_id: uuid.UUID, principal: CurrentPrincipal, session: Session, ctx: Ctx
) -> EndpointWithSecret:
    """A new signing secret, shown this once; attempts from now on are signed with it."""
    return await webhooks.rotate_secret(session, ctx, principal, webhook_id)


@router.get(
    "/{webhook_id:uuid}/deliveries",
    response_model=DeliveryPage,
    responses=errors(*ONE, InvalidCursor),
)
async def list_deliveries(
    webhook_id: uuid.UUID,
    principal: CurrentPrincipal,
    session: Session,
    cursor: str | None = Query(default=None, max_length=512, description="From next_cursor"),
    limit: int = Query(default=50, ge=1, le=200),
) -> DeliveryPage:
    """The endpoint's deliveries, newest first: event, attempts, the last answer's status
    code, duration and error, and when the next attempt is due."""
    return await webhooks.deliveries(session, principal, webhook_id, cursor, limit)


@router.post(
    "/{webhook_id:uuid}/deliveries/{delivery_id:uuid}/redeliver",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=DeliveryOut,
    responses=errors(*ONE, DeliveryNotFound, EndpointDisabled),
)
async def redeliver(
    webhook_id: uuid.UUID,
    delivery_id: uuid.UUID,
    principal: CurrentPrincipal,
    session: Session,
    ctx: Ctx,
) -> DeliveryOut:
    """Send the delivery's message again (a new delivery, the same ``webhook-id``)."""
    return await webhooks.redeliver(session, ctx, principal, webhook_id, delivery_id)


@router.post(
    "/{webhook_id:uuid}/test",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=DeliveryOut,
    responses=errors(*ONE, EndpointDisabled),
)
async def send_test(
    webhook_id: uuid.UUID, principal: CurrentPrincipal, session: Session, ctx: Ctx
) -> DeliveryOut:
    """Queue a ``webhook.test`` event to the endpoint."""
    return await webhooks.test(session, ctx, principal, webhook_id)
