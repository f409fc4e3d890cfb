"""FastAPI dependencies of analytics (the session and principal are shared ones)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from analytics.context import AnalyticsContext


def context(request: Request) -> AnalyticsContext:
    ctx: AnalyticsContext = request.app.state.analytics
    return ctx


async def _context(request: Request) -> AnalyticsContext:
    # async: FastAPI runs a plain ``def`` dependency in a worker thread, a hand-off per request.
    return context(request)


Ctx = Annotated[AnalyticsContext, Depends(_context)]
