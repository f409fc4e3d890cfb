"""``Idempotency-Key`` on creates (the IETF httpapi draft "The Idempotency-Key HTTP Header
Field"): a client that retries a create it never heard back from gets the first answer again
instead of a second post or upload.

Per workspace, caller and key, within ``RETENTION``:

- the first request runs; its answer (status and body) is stored in the create's own
  transaction, so the object and its record commit together or not at all;
- the same key with the same request (same fingerprint) answers the stored answer again,
  creating nothing (``Idempotent-Replayed: true``);
- the same key with another request is ``422 IdempotencyKeyReused``;
- the same key while its first request still runs is ``409 IdempotencyKeyInFlight``: the first
  holds a transaction-level advisory lock on the key until it commits or rolls back, and a
  second takes it without waiting or fails.

A create that fails (any error) stores nothing: the key may be used again.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import Header
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from publisher.idempotency.repository import IdempotencyRepository
from socialseed.db import Database
from socialseed.errors import AppError, BadRequest, Conflict
from socialseed.security import Principal

log = logging.getLogger(__name__)

RETENTION = timedelta(hours=24)
MAX_KEY_LENGTH = 255
REPLAYED = "Idempotent-Replayed"


class InvalidIdempotencyKey(BadRequest):
    default_detail = (
        f"An Idempotency-Key is 1 to {MAX_KEY_LENGTH} printable ASCII characters "
        '(a UUID is a good one), optionally as a quoted string: "...".'
    )


class IdempotencyKeyReused(AppError):
    status_code = 422
    default_detail = (
        "This Idempotency-Key was used with a different request in the last 24 hours; "
        "use a new key for a new request."
    )


class IdempotencyKeyInFlight(Conflict):
    default_detail = (
        "A request with this Idempotency-Key is still being processed; retry once it has "
        "finished to get its answer."
    )


IDEMPOTENCY_ERRORS = (InvalidIdempotencyKey, IdempotencyKeyReused, IdempotencyKeyInFlight)

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description=(
            "Makes the create safe to retry: the same key with the same request within 24 h "
            "answers the first answer again (same status, same body, nothing created; the "
            "answer carries `Idempotent-Replayed: true`); with another request it is 422 "
            "IdempotencyKeyReused; while the first is still running, 409 "
            "IdempotencyKeyInFlight. Keys are per workspace and caller. 1-255 printable ASCII "
            'characters, e.g. a UUID; a quoted string (`"..."`, the draft\'s form) is accepted.'
        ),
    ),
]


def parse_key(raw: str) -> str:
    """The key from its header value: a bare token or an RFC 8941 string (quotes removed)."""
    value = raw.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = value[1:-1]
    if not 0 < len(value) <= MAX_KEY_LENGTH or not all(32 <= ord(c) < 127 for c in value):
        raise InvalidIdempotencyKey()
    return value


def fingerprint(operation: str, request: Any) -> str:
    """SHA-256 of the operation and the request, in canonical JSON (key order does not count)."""
    canonical = json.dumps(
        [operation, jsonable_encoder(request)], sort_keys=True, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


async def once(
    session: AsyncSession,
    *,
    principal: Principal,
    workspace_id: uuid.UUID,
    raw_key: str,
    fingerprint: str,
    now: datetime,
    create: Callable[[], Awaitable[BaseModel]],
    status_code: int = 201,
) -> JSONResponse:
    """Run ``create`` once per key (see the module's docstring); ``session`` is the create's
    transaction, which the record joins. The caller checks the workspace access first."""
    key = parse_key(raw_key)
    repo = IdempotencyRepository(session)
    if not await repo.try_lock(workspace_id, principal.user_id, key):
        raise IdempotencyKeyInFlight()
    record = await repo.find(workspace_id, principal.user_id, key, since=now - RETENTION)
    if record is not None:
        if record.fingerprint != fingerprint:
            raise IdempotencyKeyReused()
        return JSONResponse(record.body, record.status_code, headers={REPLAYED: "true"})
    body = jsonable_encoder(await create())
    await repo.save(
        workspace_id,
        principal.user_id,
        key,
        fingerprint=fingerprint,
        status_code=status_code,
        body=body,
    )
    return JSONResponse(body, status_code)


async def purge(session: AsyncSession, now: datetime, *, limit: int = 1000) -> int:
    return await IdempotencyRepository(session).purge(now - RETENTION, limit=limit)


async def run_purge(db: Database, clock: Callable[[], datetime], interval: float = 3600.0) -> None:
    """Every ``interval`` seconds, delete the records past the retention (in batches)."""
    while True:
        try:
            while True:
                async with db.transaction() as session:
                    n = await purge(session, clock())
                if n < 1000:
                    break
        except Exception:  # the next turn tries again; serving requests matters more
            log.warning("idempotency key purge failed", exc_info=True)
        await asyncio.sleep(interval)
