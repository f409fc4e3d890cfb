"""HTTP helpers shared by the platform modules."""

from __future__ import annotations

import base64
import binascii
import json
import secrets
from collections.abc import Callable
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from sandbox.state import SandboxState, Token, TokenProblem


class Reject(Exception):
    """Raised anywhere in a handler to answer with a platform-shaped error response."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


def sandbox(request: Request) -> SandboxState:
    state: SandboxState = request.app.state.sandbox
    return state


def json_response(
    body: Any, status: int = 200, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers=headers)


def log_id() -> str:
    return secrets.token_hex(16).upper()


def bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


def basic_credentials(request: Request) -> tuple[str, str] | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip()).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, sep, secret = decoded.partition(":")
    return (client_id, secret) if sep else None


async def form_params(request: Request) -> dict[str, str]:
    """Query string plus urlencoded/multipart form fields (files excluded)."""
    params = dict(request.query_params)
    content_type = request.headers.get("content-type", "")
    if request.method in ("POST", "PUT", "DELETE") and (
        "form" in content_type or "multipart" in content_type
    ):
        form = await request.form()
        params.update({k: v for k, v in form.items() if isinstance(v, str)})
    return params


async def json_body(request: Request, invalid: Callable[[str], Response]) -> dict[str, Any]:
    raw = await request.body()
    if not raw:
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        raise Reject(invalid("Request body is not valid JSON")) from None
    if not isinstance(body, dict):
        raise Reject(invalid("Request body must be a JSON object"))
    return body


def request_record(request: Request, body: Any = None) -> dict[str, Any]:
    """How a ledger entry remembers the request that made it (never the token)."""
    return {
        "id": request.scope.get("sandbox.request_id"),
        "method": request.method,
        "path": request.url.path,
        "query": {k: v for k, v in request.query_params.items() if k != "access_token"},
        "received_at": request.scope.get("sandbox.received_at"),
        "body": body,
    }


def authenticate(
    request: Request,
    platform: str,
    on_problem: Callable[[TokenProblem], Response],
    value: str | None = None,
    scope: str | None = None,
    on_scope: Callable[[str], Response] | None = None,
) -> Token:
    """The presented access token, or a ``Reject`` with the platform's own error body."""
    found = sandbox(request).tokens.check(platform, value if value is not None else bearer(request))
    if isinstance(found, TokenProblem):
        raise Reject(on_problem(found))
    if scope is not None and scope not in found.scopes:
        raise Reject((on_scope or (lambda _s: on_problem(TokenProblem.INVALID)))(scope))
    request.scope["sandbox.token"] = found
    return found


def base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def split_list(value: str | None, sep: str = ",") -> list[str]:
    return [part.strip() for part in (value or "").split(sep) if part.strip()]
