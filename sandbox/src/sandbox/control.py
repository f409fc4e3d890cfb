"""The control API (``/_sandbox/...``) for tests, demos and benchmarks."""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from sandbox.faults import FaultSpec
from sandbox.platforms.base import iso
from sandbox.state import Post, SandboxState
from sandbox.web import base_url, sandbox

router = APIRouter(prefix="/_sandbox", tags=["control"])


class Advance(BaseModel):
    seconds: float = Field(..., ge=0, description="added to the sandbox clock's offset")


class Freeze(BaseModel):
    frozen: bool = Field(True, description="stop (true) or restart (false) real time")


def ledger_entry(state: SandboxState, post: Post) -> dict[str, Any]:
    account = state.account(post.platform, post.account_id)
    return {
        "platform": post.platform,
        "account_id": post.account_id,
        "account": account.username if account else None,
        "platform_post_id": post.id,
        "kind": post.kind,
        "text": post.text,
        "media": post.media,
        "created_at": iso(post.created_at),
        # The same instant as a Unix timestamp with its fraction, for lateness measurements.
        "created_ts": post.created_at,
        "deleted": post.deleted,
        "seeded": post.request is None,
        "request": post.request,
    }


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/ledger")
async def ledger(
    request: Request,
    platform: str | None = None,
    account: str | None = None,
    include_seeded: bool = False,
) -> dict[str, Any]:
    """Every post/video created through the API, in order (seeded history on request)."""
    state = sandbox(request)
    source = (
        sorted(state.posts.values(), key=lambda p: p.created_at) if include_seeded else state.ledger
    )
    entries = []
    for post in source:
        if platform and post.platform != platform:
            continue
        if account:
            owner = state.account(post.platform, post.account_id)
            if account not in (post.account_id, owner.username if owner else None):
                continue
        entries.append(ledger_entry(state, post))
    return {"entries": entries, "count": len(entries)}


@router.get("/comments")
async def comments(
    request: Request, platform: str | None = None, post: str | None = None
) -> dict[str, Any]:
    """Every comment made through the platforms' APIs, in order, optionally on one post."""
    state = sandbox(request)
    entries = [
        {
            "platform": c.platform,
            "comment_id": c.id,
            "platform_post_id": c.post_id,
            "author_id": c.author_id,
            "text": c.text,
            "created_at": iso(c.created_at),
        }
        for (p, post_id), items in state.comments.items()
        if (platform is None or p == platform) and (post is None or post_id == post)
        for c in items
    ]
    entries.sort(key=lambda e: e["created_at"])
    return {"entries": entries, "count": len(entries)}


@router.get("/truth/{platform}/{post_id:path}")
async def truth(request: Request, platform: str, post_id: str) -> Response:
    state = sandbox(request)
    spec = request.app.state.specs.get(platform)
    post = state.posts.get((platform, post_id))
    if spec is None or post is None:
        return JSONResponse({"error": "NotFound", "detail": "no such post"}, status_code=404)
    return JSONResponse(
        {"platform": platform, "platform_post_id": post_id, "metrics": spec.truth(state, post)}
    )


@router.delete("/posts/{platform}/{post_id:path}")
async def delete_post(request: Request, platform: str, post_id: str) -> Response:
    """The user deletes a post in the platform's own app (TikTok and YouTube videos, which
    SocialSeed never deletes through the API): from now on every API answers as for a deleted
    post, while its truth stays readable."""
    post = sandbox(request).posts.get((platform, post_id))
    if post is None:
        return JSONResponse({"error": "NotFound", "detail": "no such post"}, status_code=404)
    post.deleted = True
    return JSONResponse({"platform": platform, "platform_post_id": post_id, "deleted": True})


@router.get("/stats")
async def stats(request: Request, account: str | None = None) -> dict[str, Any]:
    """Calls per platform and endpoint (status 0: dropped unanswered by a timeout fault;
    ``dropped`` also counts calls answered and then dropped). With ``account`` (an
    id or a username) only the calls whose token or authorization code was that account's."""
    state = sandbox(request)
    if account is None:
        return state.stats.as_json()
    ids = {a.id for a in state.accounts.values() if account in (a.id, a.username)}
    return state.stats.as_json(ids)


@router.get("/clock")
async def clock(request: Request) -> dict[str, Any]:
    state = sandbox(request)
    return {
        "offset": state.clock.offset,
        "now": iso(state.clock.now()),
        "ts": state.clock.now(),
        "frozen": state.clock.frozen_at is not None,
    }


@router.post("/clock/advance")
async def advance(request: Request, body: Advance) -> dict[str, Any]:
    state = sandbox(request)
    state.clock.advance(body.seconds)
    return await clock(request)


@router.post("/clock/freeze")
async def freeze(request: Request, body: Freeze) -> dict[str, Any]:
    """Stop real time (or restart it): the clock then moves only when advanced."""
    sandbox(request).clock.freeze(body.frozen)
    return await clock(request)


@router.get("/tokens")
async def tokens(request: Request, platform: str | None = None) -> dict[str, Any]:
    """Every access/refresh/page token issued, with its status (active, expired, used...)."""
    state = sandbox(request)
    now = state.clock.now()
    rows = []
    for token in state.tokens.by_value.values():
        if platform and token.platform != platform:
            continue
        account = state.account(token.platform, token.account_id)
        rows.append(
            {
                "platform": token.platform,
                "kind": token.kind,
                "value": token.value,
                "account_id": token.account_id,
                "account": account.username if account else None,
                "scopes": list(token.scopes),
                "issued_at": iso(token.issued_at),
                "expires_at": iso(token.expires_at) if token.expires_at else None,
                "status": token.status(now),
                "revoked_reason": token.revoked_reason,
            }
        )
    return {"tokens": rows}


@router.get("/accounts")
async def accounts(request: Request, platform: str | None = None) -> dict[str, Any]:
    state = sandbox(request)
    return {
        "accounts": [
            {
                "platform": a.platform,
                "id": a.id,
                "username": a.username,
                "name": a.name,
                "kind": a.kind,
                "parent_id": a.parent_id,
            }
            for a in state.accounts.values()
            if not platform or a.platform == platform
        ]
    }


@router.post("/faults")
async def add_fault(request: Request, spec: FaultSpec) -> dict[str, Any]:
    state = sandbox(request)
    if spec.revoke_tokens:
        account = spec.account
        state.tokens.revoke(
            # Every kind (access, refresh, page) dies, as when the user removes the app.
            lambda t: (
                spec.platform in ("*", t.platform) and (account is None or t.account_id == account)
            ),
            spec.revoke_reason,
        )
    return state.faults.add(spec).as_json()


@router.get("/faults")
async def list_faults(request: Request) -> dict[str, Any]:
    return {"faults": [f.as_json() for f in sandbox(request).faults.items]}


@router.delete("/faults")
async def clear_faults(request: Request) -> dict[str, Any]:
    sandbox(request).faults.clear()
    return {"faults": []}


@router.delete("/faults/{fault_id}")
async def remove_fault(request: Request, fault_id: int) -> Response:
    if sandbox(request).faults.remove(fault_id):
        return Response(status_code=204)
    return JSONResponse({"error": "NotFound", "detail": "no such fault"}, status_code=404)


@router.post("/reset")
async def reset(request: Request) -> dict[str, str]:
    """Forget everything: accounts, tokens, posts, ledger, stats, faults and the clock offset."""
    request.app.state.sandbox = SandboxState(sandbox(request).settings)
    return {"status": "reset"}


@router.post("/media")
async def upload_media(request: Request) -> dict[str, Any]:
    """Host bytes at a URL, for the platforms that pull media from a URL (Instagram, Facebook)."""
    state = sandbox(request)
    media_id = secrets.token_hex(8)
    content_type = request.headers.get("content-type", "application/octet-stream")
    data = await request.body()
    state.blobs[media_id] = (content_type, data)
    return {
        "id": media_id,
        "url": f"{base_url(request)}/_sandbox/media/{media_id}",
        "size": len(data),
    }


@router.get("/media/{media_id}")
async def get_media(request: Request, media_id: str) -> Response:
    found = sandbox(request).blobs.get(media_id)
    if found is None:
        return Response(status_code=404)
    return Response(found[1], media_type=found[0])
