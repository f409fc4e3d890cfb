"""The sender: due deliveries out to their receivers, signed, retried, one at a time per
endpoint.

Every replica runs it (claims take ``FOR UPDATE SKIP LOCKED`` and mark the endpoint busy for
the length of an attempt, so replicas never send to one endpoint at once). A turn claims up to
the free slots of endpoints with a delivery due and none in flight, sends each in its own
task (no pooled connection held during the call), then records the outcome: success; a
failure with the next attempt due after the schedule's delay (jittered); or, after the last
attempt, the delivery failed and the endpoint turned off, with an ``endpoint.disabled`` notice
queued to the workspace's other endpoints that subscribed to it. A sender that dies mid-attempt
leaves the endpoint busy until its lease runs out, then the delivery is sent again
(at-least-once; the ``webhook-id`` is the same, so receivers deduplicate).

The sender sleeps ``poll_interval`` between idle turns, and is woken at once by PostgreSQL
``NOTIFY`` on ``DELIVERIES_CHANNEL``, which whoever queues a delivery sends in the same
transaction (``socialseed.notify``'s listener, one connection per process; the poll is the
fallback while that connection is down), and by its own attempts ending (the endpoint may
have more waiting).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession
from standardwebhooks.webhooks import Webhook

from socialseed.metrics import (
    WEBHOOK_ATTEMPT_DURATION,
    WEBHOOK_DELIVERIES,
    WEBHOOK_ENDPOINTS_DISABLED,
)
from socialseed.notify import Listener, NotifiedCache
from webhooks.context import WebhooksContext
from webhooks.delivery.guard import UnsafeAddress
from webhooks.events import ENDPOINT_DISABLED, body
from webhooks.hooks.repository import DELIVERIES_CHANNEL, DeliveryRepository, EndpointRepository
from webhooks.hooks.service import queue
from webhooks.models import Delivery, DeliveryStatus, Endpoint
from webhooks.secrets import SecretUndecryptable

log = logging.getLogger(__name__)
USER_AGENT = "SocialSeed-Webhooks/1"


@dataclass(frozen=True)
class Outcome:
    code: int | None
    answer: str | None
    duration_ms: int
    error: str | None

    @property
    def ok(self) -> bool:
        return self.code is not None and 200 <= self.code < 300


def signed_headers(secret: str, delivery: Delivery, now_ts: float) -> dict[str, str]:
    """The Standard Webhooks headers of one attempt: signed afresh, same ``webhook-id``."""
    at = datetime.fromtimestamp(now_ts, UTC)
    return {
        "webhook-id": delivery.webhook_id,
        "webhook-timestamp": str(int(now_ts)),
        "webhook-signature": Webhook(secret).sign(delivery.webhook_id, at, delivery.body),
        "content-type": "application/json",
        "user-agent": USER_AGENT,
    }


async def attempt(ctx: WebhooksContext, endpoint: Endpoint, delivery: Delivery) -> Outcome:
    """One POST: timeouts, no redirects, the answer read up to a bound."""
    started = time.monotonic()

    def took() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        secret = ctx.cipher.decrypt(endpoint.secret)
    except SecretUndecryptable as exc:
        return Outcome(None, None, 0, exc.detail)
    headers = signed_headers(secret, delivery, ctx.clock().timestamp())
    limit = ctx.settings.max_response_bytes
    try:
        async with asyncio.timeout(ctx.settings.timeout):
            async with ctx.http.stream(
                "POST", endpoint.url, content=delivery.body.encode(), headers=headers
            ) as response:
                chunks, size = [], 0
                async for chunk in response.aiter_raw():
                    chunks.append(chunk)
                    size += len(chunk)
                    if size >= limit:
                        break
                answer = b"".join(chunks)[:limit].decode(errors="replace")
                code = response.status_code
    except UnsafeAddress as exc:
        return Outcome(None, None, took(), f"Refused: {exc}")
    except (TimeoutError, httpx.TimeoutException):
        return Outcome(None, None, took(), f"No answer within {ctx.settings.timeout:g} s.")
    except httpx.HTTPError as exc:
        return Outcome(None, None, took(), f"Could not connect: {type(exc).__name__}.")
    error = None if 200 <= code < 300 else f"The receiver answered {code}."
    if 300 <= code < 400:
        error = f"The receiver answered {code}; redirects are not followed."
    return Outcome(code, answer, took(), error)


class Wakeup(NotifiedCache[str, None]):
    """Holds no values: a notification on its channel sets ``event``, and so does the loss of
    the listener's connection (notifications sent meanwhile are lost: look for yourself)."""

    def __init__(self, listener: Listener, channel: str) -> None:
        super().__init__(listener, channel, str, maxsize=1)
        self.event = asyncio.Event()

    def notified(self, payload: str) -> None:
        self.event.set()

    def clear(self) -> None:
        super().clear()
        self.event.set()


class Sender:
    def __init__(self, ctx: WebhooksContext, listener: Listener | None = None) -> None:
        self.ctx = ctx
        self.tasks: set[asyncio.Task[None]] = set()
        self.wakeup = Wakeup(listener, DELIVERIES_CHANNEL) if listener is not None else None
        self.woken = self.wakeup.event if self.wakeup is not None else asyncio.Event()
        self.turns = 0  # turns taken by ``run`` (tests wait for the first, idle, one)

    def lease(self) -> timedelta:
        # An attempt's longest run, plus room for recording it.
        return timedelta(seconds=self.ctx.settings.timeout + 30)

    async def turn(self) -> int:
        """Claim what is due for the free slots and start sending it; how many started."""
        free = self.ctx.settings.concurrency - len(self.tasks)
        if free <= 0:
            return 0
        now = self.ctx.clock()
        async with self.ctx.db.transaction() as session:
            claimed = await EndpointRepository(session).claim_busy_unscoped(
                now, now + self.lease(), free
            )
        for endpoint, delivery in claimed:
            task = asyncio.create_task(self.send(endpoint, delivery))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
        return len(claimed)

    async def send(self, endpoint: Endpoint, delivery: Delivery) -> None:
        try:
            outcome = await attempt(self.ctx, endpoint, delivery)
            await self.record(endpoint, delivery, outcome)
        except Exception:  # the lease runs out and the delivery is tried again
            log.exception("webhook delivery %s could not be recorded", delivery.id)
        finally:
            self.woken.set()  # the endpoint is free again: its next delivery may be due

    def delay(self, attempts: int) -> float | None:
        """Seconds before attempt ``attempts + 1``; None after the last."""
        schedule = self.ctx.settings.retry_schedule
        if attempts > len(schedule):
            return None
        base = schedule[attempts - 1]
        jitter = self.ctx.settings.retry_jitter
        return base * (1 + self.ctx.rng.uniform(-jitter, jitter))

    async def record(self, endpoint: Endpoint, delivery: Delivery, outcome: Outcome) -> None:
        now = self.ctx.clock()
        attempts = delivery.attempt + 1
        values: dict[str, object] = {
            "attempt": attempts,
            "last_attempt_at": now,
            "response_code": outcome.code,
            "response_body": outcome.answer,
            "duration_ms": outcome.duration_ms,
            "error": outcome.error,
        }
        disable: str | None = None
        if outcome.ok:
            values |= {"status": DeliveryStatus.SUCCEEDED, "next_attempt_at": None}
        elif (wait := self.delay(attempts)) is not None:
            values |= {"next_attempt_at": now + timedelta(seconds=wait)}
        else:
            values |= {"status": DeliveryStatus.FAILED, "next_attempt_at": None}
            disable = (
                f"Turned off after {attempts} failed attempts to deliver {delivery.event_type} "
                f"({delivery.webhook_id}); the last: {outcome.error}"
            )
        async with self.ctx.db.transaction() as session:
            await DeliveryRepository(session).record_unscoped(delivery.id, **values)
            released = await EndpointRepository(session).release_unscoped(
                endpoint.id, disable=disable, now=now
            )
            if disable is not None and released is not None:
                await self.notify_disabled(session, released, disable)
        # Counted once recorded (an attempt whose outcome was lost is made again).
        result = "succeeded" if outcome.ok else "retry" if disable is None else "failed"
        WEBHOOK_DELIVERIES.labels(result).inc()
        WEBHOOK_ATTEMPT_DURATION.labels(result).observe(outcome.duration_ms / 1000)
        if disable is not None and released is not None:
            WEBHOOK_ENDPOINTS_DISABLED.inc()

    async def notify_disabled(self, session: AsyncSession, endpoint: Endpoint, why: str) -> None:
        now = self.ctx.clock()
        others = await EndpointRepository(session).subscribed_unscoped(
            [endpoint.workspace_id], ENDPOINT_DISABLED, besides=endpoint.id
        )
        text = body(
            ENDPOINT_DISABLED,
            now,
            {
                "endpoint_id": str(endpoint.id),
                "workspace_id": str(endpoint.workspace_id),
                "url": endpoint.url,
                "reason": why,
            },
        )
        source = uuid.uuid4()
        await DeliveryRepository(session).queue_unscoped(
            [
                queue(o, source_id=source, event_type=ENDPOINT_DISABLED, text=text, now=now)
                for o in others
            ]
        )
        log.warning("webhook endpoint %s disabled: %s", endpoint.id, why)

    async def run(self) -> None:
        while True:
            # Cleared before the turn looks: a delivery committed while it runs (its NOTIFY
            # arriving after the claim's snapshot) leaves the event set for another turn.
            self.woken.clear()
            try:
                started = await self.turn()
            except Exception:  # the database may be away; the next turn tries again
                log.warning("webhook sender turn failed", exc_info=True)
                started = 0
            self.turns += 1
            if not started:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.woken.wait(), self.ctx.settings.poll_interval)
            else:
                await asyncio.sleep(0)

    async def drain(self) -> None:
        """Wait for the attempts in flight (tests, shutdown)."""
        while self.tasks:
            await asyncio.gather(*list(self.tasks), return_exceptions=True)
