"""The rules of webhook endpoints: who may manage them, URLs checked, secrets shown once,
deliveries queued (by events, a redelivery, a test)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from socialseed.errors import Conflict
from socialseed.security import Principal, Role
from webhooks.context import WebhooksContext
from webhooks.delivery.guard import check_url
from webhooks.events import TEST, body, webhook_id
from webhooks.hooks.repository import DeliveryRepository, EndpointRepository
from webhooks.hooks.schemas import (
    DeliveryOut,
    DeliveryPage,
    EndpointIn,
    EndpointList,
    EndpointOut,
    EndpointPatch,
    EndpointWithSecret,
)
from webhooks.models import Delivery, DeliveryStatus, Endpoint
from webhooks.secrets import new_secret

MANAGER: Role = "admin"  # admins and owners manage webhooks; editors and viewers get 403


class EndpointDisabled(Conflict):
    """The endpoint is turned off: enable it (PATCH enabled=true) before sending to it."""

    default_detail = "The endpoint is disabled; enable it first."


def queue(
    endpoint: Endpoint, *, source_id: uuid.UUID, event_type: str, text: str, now: datetime
) -> Delivery:
    """A new delivery of ``text`` to ``endpoint``, due now."""
    return Delivery(
        endpoint_id=endpoint.id,
        workspace_id=endpoint.workspace_id,
        webhook_id=webhook_id(source_id, endpoint.id),
        event_type=event_type,
        body=text,
        status=DeliveryStatus.PENDING,
        attempt=0,
        next_attempt_at=now,
        created_at=now,
    )


class WebhookService:
    async def _checked_url(self, ctx: WebhooksContext, url: str) -> str:
        checked = await check_url(
            url, allow_private=ctx.settings.private_urls_allowed, resolver=ctx.resolver
        )
        return str(checked.url)

    async def _managed(
        self, session: AsyncSession, principal: Principal, endpoint_id: uuid.UUID
    ) -> Endpoint:
        endpoint = await EndpointRepository(session).get(principal, endpoint_id)
        principal.require(endpoint.workspace_id, MANAGER)
        return endpoint

    async def create(
        self, session: AsyncSession, ctx: WebhooksContext, principal: Principal, body_: EndpointIn
    ) -> EndpointWithSecret:
        principal.require(body_.workspace_id, MANAGER)
        url = await self._checked_url(ctx, body_.url)
        secret = new_secret()
        now = ctx.clock()
        endpoint = await EndpointRepository(session).add(
            Endpoint(
                workspace_id=body_.workspace_id,
                url=url,
                description=body_.description,
                events=sorted(set(body_.events)),
                enabled=body_.enabled,
                secret=ctx.cipher.encrypt(secret),
                created_by=principal.user_id,
                created_at=now,
                updated_at=now,
            )
        )
        return EndpointWithSecret(**EndpointOut.of(endpoint).model_dump(), secret=secret)

    async def list(
        self, session: AsyncSession, principal: Principal, workspace_id: uuid.UUID
    ) -> EndpointList:
        principal.require(workspace_id, MANAGER)
        rows = await EndpointRepository(session).for_workspace(principal, workspace_id)
        return EndpointList(items=[EndpointOut.of(e) for e in rows])

    async def get(
        self, session: AsyncSession, principal: Principal, endpoint_id: uuid.UUID
    ) -> EndpointOut:
        return EndpointOut.of(await self._managed(session, principal, endpoint_id))

    async def update(
        self,
        session: AsyncSession,
        ctx: WebhooksContext,
        principal: Principal,
        endpoint_id: uuid.UUID,
        patch: EndpointPatch,
    ) -> EndpointOut:
        endpoint = await self._managed(session, principal, endpoint_id)
        if patch.url is not None:
            endpoint.url = await self._checked_url(ctx, patch.url)
        if patch.events is not None:
            endpoint.events = sorted(set(patch.events))
        if patch.description is not None:
            endpoint.description = patch.description
        if patch.enabled is not None:
            endpoint.enabled = patch.enabled
            if patch.enabled:
                endpoint.disabled_reason = None
                # Its waiting deliveries are due again: wake the senders.
                await DeliveryRepository(session).notify_due()
        endpoint.updated_at = ctx.clock()
        await session.flush()
        return EndpointOut.of(endpoint)

    async def delete(
        self, session: AsyncSession, principal: Principal, endpoint_id: uuid.UUID
    ) -> None:
        endpoint = await self._managed(session, principal, endpoint_id)
        await EndpointRepository(session).remove(endpoint)  # its deliveries go with it

    async def rotate_secret(
        self,
        session: AsyncSession,
        ctx: WebhooksContext,
        principal: Principal,
        endpoint_id: uuid.UUID,
    ) -> EndpointWithSecret:
        endpoint = await self._managed(session, principal, endpoint_id)
        secret = new_secret()
        endpoint.secret = ctx.cipher.encrypt(secret)
        endpoint.updated_at = ctx.clock()
        await session.flush()
        return EndpointWithSecret(**EndpointOut.of(endpoint).model_dump(), secret=secret)

    async def deliveries(
        self,
        session: AsyncSession,
        principal: Principal,
        endpoint_id: uuid.UUID,
        cursor: str | None,
        limit: int,
    ) -> DeliveryPage:
        await self._managed(session, principal, endpoint_id)
        page = await DeliveryRepository(session).of_endpoint(principal, endpoint_id, cursor, limit)
        return DeliveryPage(
            items=[DeliveryOut.of(d) for d in page.items], next_cursor=page.next_cursor
        )

    async def redeliver(
        self,
        session: AsyncSession,
        ctx: WebhooksContext,
        principal: Principal,
        endpoint_id: uuid.UUID,
        delivery_id: uuid.UUID,
    ) -> DeliveryOut:
        """The same message again, as a new delivery under the same ``webhook-id`` (a
        receiver that already has it drops it)."""
        endpoint = await self._managed(session, principal, endpoint_id)
        if not endpoint.enabled:
            raise EndpointDisabled()
        repo = DeliveryRepository(session)
        original = await repo.of_endpoint_by_id(principal, endpoint_id, delivery_id)
        now = ctx.clock()
        again = Delivery(
            endpoint_id=endpoint.id,
            workspace_id=endpoint.workspace_id,
            webhook_id=original.webhook_id,
            event_type=original.event_type,
            body=original.body,
            status=DeliveryStatus.PENDING,
            attempt=0,
            next_attempt_at=now,
            created_at=now,
        )
        await repo.queue_unscoped([again])
        return DeliveryOut.of(again)

    async def test(
        self,
        session: AsyncSession,
        ctx: WebhooksContext,
        principal: Principal,
        endpoint_id: uuid.UUID,
    ) -> DeliveryOut:
        endpoint = await self._managed(session, principal, endpoint_id)
        if not endpoint.enabled:
            raise EndpointDisabled()
        now = ctx.clock()
        delivery = queue(
            endpoint,
            source_id=uuid.uuid4(),
            event_type=TEST,
            text=body(
                TEST,
                now,
                {"endpoint_id": str(endpoint.id), "workspace_id": str(endpoint.workspace_id)},
            ),
            now=now,
        )
        await DeliveryRepository(session).queue_unscoped([delivery])
        return DeliveryOut.of(delivery)


webhooks = WebhookService()
