"""FastAPI dependencies of the webhooks service."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from webhooks.context import WebhooksContext


async def _context(request: Request) -> WebhooksContext:
    ctx: WebhooksContext = request.app.state.webhooks
    return ctx


Ctx = Annotated[WebhooksContext, Depends(_context)]
