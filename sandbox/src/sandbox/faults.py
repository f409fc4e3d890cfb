"""Fault injection and per-request bookkeeping, as a pure ASGI middleware.

Pure ASGI (not ``BaseHTTPMiddleware``) because it wraps every request and the sandbox has to
serve thousands of requests a second on one core.
"""

from __future__ import annotations

import asyncio
import fnmatch
import functools
import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sandbox.attribution import attribution

if TYPE_CHECKING:
    from fastapi import FastAPI

    from sandbox.platforms.base import PlatformSpec
    from sandbox.state import SandboxState


class FaultSpec(BaseModel):
    """One injected fault. Omitted fields do nothing."""

    platform: str = Field("*", description="platform name, or * for all")
    endpoint: str = Field(
        "*", description="glob on the path below the platform prefix, e.g. /2/tweets or */feed"
    )
    method: str | None = Field(None, description="only this HTTP method")
    latency_ms: int = Field(0, ge=0, description="added before the request is handled")
    error_rate: float = Field(0.0, ge=0, le=1, description="share of requests answered 5xx")
    error_status: int = Field(503, ge=500, le=599)
    burst_429: int = Field(0, ge=0, description="the next N matching requests get the 429")
    # Every real X response, 429s included, carries x-rate-limit-limit/remaining/reset; False
    # gives the header-less 429 of a proxy in between, to test the fallback wait.
    rate_limit_headers: bool = Field(
        True, description="X: the burst 429 carries x-rate-limit-* for its endpoint's window"
    )
    timeout: bool = Field(False, description="hang, then drop the connection, never answering")
    timeout_seconds: float = Field(30.0, ge=0)
    drop_after_accept: bool = Field(
        False, description="handle the request (side effects happen), then drop the connection"
    )
    fail_processing: bool = Field(
        False,
        description="the media a matching request finishes (X: /2/media/upload/*/finalize) "
        "fails processing: processing_info.state 'failed'",
    )
    hold_answer_ms: int = Field(
        0,
        ge=0,
        description="handle the request (side effects happen), then hold the answer this long: "
        "a caller that dies meanwhile never learns the outcome",
    )
    revoke_tokens: bool = Field(False, description="revoke the platform's tokens right now")
    revoke_reason: str = Field("revoked", description="e.g. password_changed, app_removed")
    account: str | None = Field(None, description="limit token revocation to one account id")
    count: int | None = Field(None, ge=1, description="apply to this many requests, then expire")
    after: int = Field(
        0, ge=0, description="let this many matching requests through first (to hit a later call)"
    )
    share: float = Field(
        1.0,
        ge=0,
        le=1,
        description="the share of matching requests the fault applies to, drawn per request "
        "(e.g. drop_after_accept on 5 % of publishes); error_rate draws on its own",
    )


@dataclass
class Fault:
    id: int
    spec: FaultSpec
    applied: int = 0
    burst_left: int = 0
    passed: int = 0  # matching requests let through, up to ``spec.after``

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "applied": self.applied, **self.spec.model_dump()}


class Faults:
    def __init__(self, seed: int) -> None:
        self.items: list[Fault] = []
        self.rng = random.Random(seed)  # error rates are reproducible too
        self._ids = itertools.count(1)

    def add(self, spec: FaultSpec) -> Fault:
        fault = Fault(next(self._ids), spec, burst_left=spec.burst_429)
        self.items.append(fault)
        return fault

    def clear(self) -> None:
        self.items.clear()

    def remove(self, fault_id: int) -> bool:
        before = len(self.items)
        self.items = [f for f in self.items if f.id != fault_id]
        return len(self.items) != before

    def matching(self, platform: str, method: str, subpath: str) -> list[Fault]:
        found = []
        for fault in self.items:
            spec = fault.spec
            if spec.platform not in ("*", platform):
                continue
            if spec.method and spec.method.upper() != method:
                continue
            if not fnmatch.fnmatchcase(subpath, spec.endpoint):
                continue
            if spec.count is not None and fault.applied >= spec.count:
                continue
            if fault.passed < spec.after:
                fault.passed += 1
                continue
            if spec.share < 1 and self.rng.random() >= spec.share:
                continue
            found.append(fault)
        return found


async def _drop_connection(send: Send) -> None:
    """Close the TCP connection without a response (uvicorn), as a dying proxy would."""
    cycle = getattr(send, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is None:
        raise ConnectionResetError("sandbox fault: connection dropped")
    transport.close()
    # Let uvicorn see connection_lost so it does not try to answer 500 on a dead socket.
    for _ in range(3):
        await asyncio.sleep(0)


class Outcome:
    """What a request was answered, as ``/_sandbox/stats`` counts it. The body is kept only for
    the statuses a platform signals throttling with besides 429 (Meta's 400, YouTube's 403)."""

    def __init__(self, inspect: frozenset[int]) -> None:
        self.inspect = inspect
        self.status = 0
        self.body = bytearray()
        self.dropped = False  # the connection was dropped, answered (status kept) or not (0)

    def see(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
        elif message["type"] == "http.response.body" and self.status in self.inspect:
            self.body += message.get("body", b"")


class SandboxMiddleware:
    def __init__(self, app: ASGIApp, fastapi: FastAPI) -> None:
        self.app = app
        self.fastapi = fastapi

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state: SandboxState = self.fastapi.state.sandbox
        specs: dict[str, PlatformSpec] = self.fastapi.state.specs
        state.stats.requests += 1
        scope["sandbox.request_id"] = state.stats.requests
        now = state.clock.now()
        scope["sandbox.received_at"] = datetime.fromtimestamp(now, UTC).isoformat()
        path: str = scope["path"]
        platform, _, rest = path[1:].partition("/")
        spec = specs.get(platform)
        if spec is None:  # control API, docs
            await self.app(scope, receive, send)
            return
        if state.settings.base_latency_ms:
            await asyncio.sleep(state.settings.base_latency_ms / 1000)
        outcome = Outcome(spec.throttle_statuses)

        async def recording_send(message: Message) -> None:
            outcome.see(message)
            await send(message)

        method: str = scope["method"]
        with attribution() as concerns:
            handled = await self._apply_faults(
                state,
                spec,
                scope,
                receive,
                recording_send,
                scope.get("sandbox.server_send", send),
                "/" + rest,
                outcome,
            )
            if not handled:
                await self.app(scope, receive, recording_send)
        # Catch-all routers (the Graph API) name the endpoint themselves; a request a fault
        # answered never reached a route: name it by its path below the platform prefix.
        below = "/" + rest
        endpoint = scope.get("sandbox.endpoint") or getattr(scope.get("route"), "path", below)
        if outcome.status or outcome.dropped:  # a timeout drops unanswered: status 0
            state.stats.record(
                platform,
                f"{method} {endpoint}",
                outcome.status,
                account=concerns.get("account"),
                throttled=scope.get("sandbox.throttled", False)
                or spec.is_throttled(outcome.status, bytes(outcome.body)),
                dropped=outcome.dropped,
            )

    async def _apply_faults(
        self,
        state: SandboxState,
        spec: PlatformSpec,
        scope: Scope,
        receive: Receive,
        send: Send,
        raw_send: Send,
        subpath: str,
        outcome: Outcome,
    ) -> bool:
        """Apply matching faults; True when the request was answered (or dropped) here."""
        faults = state.faults.matching(spec.name, scope["method"], subpath)
        if not faults:
            return False
        answer: Callable[[], Response] | None = None
        drop_after = False
        hold_ms = 0
        for fault in faults:
            fault.applied += 1
            f = fault.spec
            if f.latency_ms:
                await asyncio.sleep(f.latency_ms / 1000)
            if f.timeout:
                state.stats.faults[spec.name] += 1
                await asyncio.sleep(f.timeout_seconds)
                outcome.dropped = True
                await _drop_connection(raw_send)
                return True
            if answer is None and fault.burst_left > 0:
                fault.burst_left -= 1
                answer = (
                    functools.partial(spec.burst_answer, state, scope["method"], subpath)
                    if f.rate_limit_headers
                    else spec.rate_limited
                )
            if answer is None and f.error_rate and state.faults.rng.random() < f.error_rate:
                answer = functools.partial(spec.server_error, f.error_status)
            drop_after = drop_after or f.drop_after_accept
            if f.fail_processing:
                scope["sandbox.fail_processing"] = True
                state.stats.faults[spec.name] += 1
            hold_ms = max(hold_ms, f.hold_answer_ms)
        if answer is not None:
            state.stats.faults[spec.name] += 1
            await answer()(scope, receive, send)
            return True
        if drop_after:
            state.stats.faults[spec.name] += 1

            async def swallow(message: Message) -> None:
                outcome.see(message)  # answered, and counted, but never sent

            await self.app(scope, receive, swallow)
            outcome.dropped = True
            await _drop_connection(raw_send)
            return True
        if hold_ms:
            state.stats.faults[spec.name] += 1

            async def held(message: Message) -> None:
                if message["type"] == "http.response.start":
                    await asyncio.sleep(hold_ms / 1000)
                await send(message)

            await self.app(scope, receive, held)
            return True
        return False
