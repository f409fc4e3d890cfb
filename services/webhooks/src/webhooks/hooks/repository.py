"""Every SQL statement about endpoints and their deliveries, on a caller's behalf and for the
sender (the ``_unscoped`` reads: consumers and the sender, never a caller)."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import delete, func, or_, select, update

from socialseed.errors import NotFound
from socialseed.repository import Page, WorkspaceScoped
from socialseed.security import Principal
from webhooks.models import Delivery, DeliveryStatus, Endpoint

#: The PostgreSQL channel the senders LISTEN on: deliveries may be due now. Notified in the
#: transaction that queues them, so it reaches the senders when (and only if) it commits.
DELIVERIES_CHANNEL = "webhooks_deliveries"


class WebhookNotFound(NotFound):
    """No such webhook endpoint in a workspace of the caller."""

    default_detail = "No such webhook endpoint."


class DeliveryNotFound(NotFound):
    """No such delivery of this endpoint."""

    default_detail = "No such delivery."


class EndpointRepository(WorkspaceScoped[Endpoint]):
    model = Endpoint
    not_found = WebhookNotFound

    async def for_workspace(self, principal: Principal, workspace_id: uuid.UUID) -> list[Endpoint]:
        return await self.all(
            self.readable(principal)
            .where(Endpoint.workspace_id == workspace_id)
            .order_by(Endpoint.created_at, Endpoint.id)
        )

    async def remove(self, endpoint: Endpoint) -> None:
        await self.session.execute(delete(Endpoint).where(Endpoint.id == endpoint.id))

    async def subscribed_unscoped(
        self,
        workspace_ids: Collection[uuid.UUID],
        event_type: str,
        *,
        besides: uuid.UUID | None = None,
    ) -> list[Endpoint]:
        """The workspaces' enabled endpoints that asked for ``event_type`` (for the consumers
        fanning a batch of events out), less ``besides``; oldest first."""
        statement = (
            select(Endpoint)
            .where(
                Endpoint.workspace_id.in_(workspace_ids),
                Endpoint.enabled.is_(True),
                Endpoint.events.contains([event_type]),
            )
            .order_by(Endpoint.created_at, Endpoint.id)
        )
        if besides is not None:
            statement = statement.where(Endpoint.id != besides)
        return await self.all(statement)

    async def claim_busy_unscoped(
        self, now: datetime, until: datetime, limit: int
    ) -> list[tuple[Endpoint, Delivery]]:
        """For the sender: up to ``limit`` enabled endpoints with a delivery due and none in
        flight (``busy_until`` past), each marked busy until ``until``, with its oldest due
        delivery. One attempt per endpoint at a time: a slow receiver holds only its own."""
        due = select(Delivery.id).where(
            Delivery.endpoint_id == Endpoint.id,
            Delivery.status == DeliveryStatus.PENDING,
            Delivery.next_attempt_at <= now,
        )
        endpoints = await self.all(
            select(Endpoint)
            .where(
                Endpoint.enabled.is_(True),
                or_(Endpoint.busy_until.is_(None), Endpoint.busy_until < now),
                due.exists(),
            )
            .order_by(Endpoint.busy_until.nulls_first(), Endpoint.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        if not endpoints:
            return []
        ids = [e.id for e in endpoints]
        rows = await self.session.execute(
            select(Delivery)
            .distinct(Delivery.endpoint_id)
            .where(
                Delivery.endpoint_id.in_(ids),
                Delivery.status == DeliveryStatus.PENDING,
                Delivery.next_attempt_at <= now,
            )
            .order_by(Delivery.endpoint_id, Delivery.next_attempt_at, Delivery.id)
        )
        first = {d.endpoint_id: d for d in rows.scalars()}
        await self.session.execute(
            update(Endpoint).where(Endpoint.id.in_(ids)).values(busy_until=until)
        )
        return [(e, first[e.id]) for e in endpoints if e.id in first]

    async def release_unscoped(
        self, endpoint_id: uuid.UUID, *, disable: str | None = None, now: datetime
    ) -> Endpoint | None:
        """The sender is done with the endpoint; ``disable``: turn it off, saying why. The
        endpoint, unless it was deleted meanwhile."""
        values: dict[str, object] = {"busy_until": None}
        if disable is not None:
            values |= {"enabled": False, "disabled_reason": disable, "updated_at": now}
        await self.session.execute(
            update(Endpoint).where(Endpoint.id == endpoint_id).values(**values)
        )
        return await self.get_unscoped(endpoint_id)


class DeliveryRepository(WorkspaceScoped[Delivery]):
    model = Delivery
    not_found = DeliveryNotFound

    async def of_endpoint(
        self, principal: Principal, endpoint_id: uuid.UUID, cursor: str | None, limit: int
    ) -> Page[Delivery]:
        """The endpoint's deliveries, newest first."""
        return await self.page(
            self.readable(principal).where(Delivery.endpoint_id == endpoint_id),
            order=(Delivery.created_at, Delivery.id),
            scope="deliveries",
            types=(datetime, uuid.UUID),
            cursor=cursor,
            limit=limit,
            descending=True,
        )

    async def of_endpoint_by_id(
        self, principal: Principal, endpoint_id: uuid.UUID, delivery_id: uuid.UUID
    ) -> Delivery:
        return await self.one(
            self.readable(principal).where(
                Delivery.endpoint_id == endpoint_id, Delivery.id == delivery_id
            )
        )

    async def record_unscoped(self, delivery_id: uuid.UUID, **values: object) -> None:
        """The outcome of an attempt (the sender's)."""
        await self.session.execute(
            update(Delivery).where(Delivery.id == delivery_id).values(**values)
        )

    async def purge_finished_unscoped(self, before: datetime, *, limit: int) -> int:
        """Up to ``limit`` finished deliveries (succeeded, or failed for good) queued before
        ``before``; pending ones are kept however old (an endpoint turned off keeps its queue
        until it is turned on again). Concurrent purgers skip each other's rows."""
        old = (
            select(Delivery.id)
            .where(Delivery.status != DeliveryStatus.PENDING, Delivery.created_at < before)
            .order_by(Delivery.created_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        result = await self.session.execute(delete(Delivery).where(Delivery.id.in_(old)))
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def queue_unscoped(self, deliveries: Sequence[Delivery]) -> None:
        """Queue deliveries due now and wake every replica's sender when this commits."""
        await self.add_all(deliveries)
        if deliveries:
            await self.notify_due()

    async def notify_due(self) -> None:
        await self.session.execute(select(func.pg_notify(DELIVERIES_CHANNEL, "")))
