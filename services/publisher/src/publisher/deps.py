"""The publisher's context (its long-lived resources) and FastAPI dependencies."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request

from publisher.media.storage import MediaStore
from publisher.projections.directory import Directory
from publisher.settings import PublisherSettings
from socialseed.db import Database
from socialseed.outbox import Outbox
from socialseed.platforms.parsing import utcnow
from socialseed.security import Principal
from socialseed.service import CurrentPrincipal


@dataclass
class PublisherContext:
    settings: PublisherSettings
    db: Database
    outbox: Outbox
    directory: Directory
    media: MediaStore
    # The service's "now"; tests inject one they can move instead of sleeping.
    clock: Callable[[], datetime] = utcnow


def context(request: Request) -> PublisherContext:
    ctx: PublisherContext = request.app.state.publisher
    return ctx


Ctx = Annotated[PublisherContext, Depends(context)]


@dataclass(frozen=True)
class Caller:
    """Who asks, and the bearer token to ask other services with on their behalf."""

    principal: Principal
    authorization: str


async def _caller(request: Request, principal: CurrentPrincipal) -> Caller:
    return Caller(principal, request.headers.get("authorization", ""))


CurrentCaller = Annotated[Caller, Depends(_caller)]
