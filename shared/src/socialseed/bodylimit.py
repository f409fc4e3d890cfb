"""A ceiling on request bodies: declared (Content-Length) and streamed (chunked) bytes alike."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.datastructures import Headers
from starlette.middleware.body_limit import RequestBodyLimitMiddleware
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from socialseed.errors import PayloadTooLarge, error_body


def declared_length(headers: Headers) -> int | None:
    value = headers.get("content-length", "")
    return int(value) if value.isdigit() else None


class DeclaredBodyLimit:
    """Answers 413 PayloadTooLarge at once to a request whose Content-Length is over the limit:
    its body is never read and nothing behind this middleware runs."""

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            length = declared_length(Headers(scope=scope))
            if length is not None and length > self.max_body_bytes:
                error = PayloadTooLarge(f"The request body exceeds {self.max_body_bytes} bytes.")
                response = JSONResponse(
                    error_body(error.name, error.detail),
                    status_code=error.status_code,
                    headers={"Connection": "close"},  # the unread body ends the connection
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def install_body_limit(app: FastAPI, max_body_bytes: int) -> None:
    """Refuse bodies over ``max_body_bytes``. Starlette's middleware counts the bytes as they
    stream in and raises its 413 HTTPException inside the app, where the error handlers answer
    PayloadTooLarge; a declared oversize length is answered before anything reads the body
    (Starlette would answer that one in plain text)."""
    app.add_middleware(RequestBodyLimitMiddleware, max_body_size=max_body_bytes)
    app.add_middleware(DeclaredBodyLimit, max_body_bytes=max_body_bytes)
