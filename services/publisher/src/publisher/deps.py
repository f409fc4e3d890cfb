"""FastAPI dependencies of the publisher (the session and principal are shared ones)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from publisher.context import Caller, PublisherContext
from socialseed.app import CurrentPrincipal


async def context(request: Request) -> PublisherContext:
    ctx: PublisherContext = request.app.state.publisher
    return ctx


async def _caller(request: Request, principal: CurrentPrincipal) -> Caller:
    return Caller(principal, request.headers.get("authorization", ""))


Ctx = Annotated[PublisherContext, Depends(context)]
CurrentCaller = Annotated[Caller, Depends(_caller)]
