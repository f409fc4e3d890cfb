"""ETags for the read API. An answer is a function of the request (path, query, the period it
resolved to) and of the data of the workspaces it reads; the data part is each workspace's
``data_versions.version``, which the ingester bumps in every batch that names the workspace.
So an ETag changes as soon as new metrics land, not when a TTL runs out, and checking one
costs a primary-key read before any other work (a 304 skips the query itself)."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from pydantic import BaseModel

from analytics.queries.periods import Period

#: Changed when answers change shape, so that no client keeps an answer of an older shape.
SHAPE_VERSION = "1"

NOT_MODIFIED_DOC: dict[int | str, dict[str, Any]] = {
    304: {"description": "Not modified: the `If-None-Match` ETag is current"}
}


def etag(request: Request, versions: Mapping[uuid.UUID, int], period: Period | None) -> str:
    parts = [
        SHAPE_VERSION,
        request.url.path,
        "&".join(sorted(request.url.query.split("&"))),
        f"{period.start.isoformat()}/{period.end.isoformat()}" if period else "",
        ",".join(f"{k}:{v}" for k, v in sorted(versions.items(), key=lambda kv: str(kv[0]))),
    ]
    return '"' + hashlib.sha256("|".join(parts).encode()).hexdigest()[:32] + '"'


def not_modified(request: Request, tag: str) -> bool:
    """Whether ``If-None-Match`` names ``tag`` (or ``*``); weak tags compare by value."""
    header = request.headers.get("if-none-match")
    if not header:
        return False
    candidates = {c.strip().removeprefix("W/") for c in header.split(",")}
    return tag in candidates or "*" in candidates


def cache_headers(tag: str, max_age: int) -> dict[str, str]:
    # private: answers depend on the caller's workspaces; shared caches must not keep them.
    return {"ETag": tag, "Cache-Control": f"private, max-age={max_age}", "Vary": "Authorization"}


def not_modified_response(tag: str, max_age: int) -> Response:
    return Response(status_code=304, headers=cache_headers(tag, max_age))


def json_response(body: BaseModel, tag: str, max_age: int) -> Response:
    return Response(
        body.model_dump_json(by_alias=True),
        media_type="application/json",
        headers=cache_headers(tag, max_age),
    )
