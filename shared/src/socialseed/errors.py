"""One error base class and one handler; every failure answers ``{"error", "detail"}``."""

from __future__ import annotations

import logging
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

log = logging.getLogger(__name__)


class AppError(Exception):
    """Base of every error a client may see. The class name is the wire name."""

    status_code: ClassVar[int] = 400
    default_detail: ClassVar[str] = "The request cannot be processed."

    def __init__(self, detail: str | None = None, *, headers: dict[str, str] | None = None):
        self.detail = detail or self.default_detail
        self.headers = headers
        super().__init__(self.detail)

    @property
    def name(self) -> str:
        return type(self).__name__

    def body(self) -> dict[str, Any]:
        """The JSON answer; subclasses with more to say add fields beside these two."""
        return error_body(self.name, self.detail)


class BadRequest(AppError):
    status_code = 400


class Unauthorized(AppError):
    status_code = 401
    default_detail = "Missing or invalid credentials."


class Forbidden(AppError):
    status_code = 403
    default_detail = "Your role does not allow this."


class NotFound(AppError):
    status_code = 404
    default_detail = "Not found."


class Conflict(AppError):
    status_code = 409


class PayloadTooLarge(AppError):
    status_code = 413
    default_detail = "The request body is too large."


class RateLimited(AppError):
    status_code = 429
    default_detail = "Too many requests; retry later."


class TooManyConcurrentRequests(AppError):
    status_code = 429
    default_detail = "Too many requests in flight from this client; wait for one to finish."


class ServiceUnavailable(AppError):
    status_code = 503
    default_detail = "A dependency is unavailable; retry later."


# The shared vocabulary: one name per situation, whichever service answers. A service defines
# its own class only for what is its own (``MediaInUse``, ``LastOwner``); what several
# services can say lives here.


class WorkspaceNotFound(NotFound):
    """No such workspace, or the caller is not a member of it: the same answer, with the same
    words, either way (no hint a workspace exists). ``Principal.require`` adds that a token
    issued before the caller created or joined it does not carry it yet."""

    default_detail = "Workspace not found."


# What a service that goes by the access token's workspaces says of one the token does not
# carry. The words do not depend on whether the workspace exists.
WORKSPACE_NOT_IN_TOKEN = (
    "Workspace not found. If you created or joined it just now, refresh your access token "
    "(POST /api/v1/auth/refresh) and try again."
)


class InsufficientRole(Forbidden):
    """A member whose role in the workspace is too low for this."""

    default_detail = "Your role in this workspace does not allow this."


class AccountNotFound(NotFound):
    """No such connected account in the caller's workspaces (another tenant's looks the same)."""

    default_detail = "Account not found."


class PostNotFound(NotFound):
    """No such post in the caller's workspaces (another tenant's looks the same)."""

    default_detail = "Post not found."


class InvalidCursor(BadRequest):
    """A page cursor that this list did not issue (tampered, or from another list or sort)."""

    default_detail = "This cursor was not issued by this list (with these parameters)."


# The pydantic error type of an instant outside the accepted range (``socialseed.inputs``).
INSTANT_OUT_OF_RANGE = "instant_out_of_range"


class InstantOutOfRange(BadRequest):
    """A well-formed instant outside the range this system takes (``socialseed.inputs``)."""

    default_detail = "An instant is outside the accepted range."


def error_body(name: str, detail: Any) -> dict[str, Any]:
    return {"error": name, "detail": detail}


async def _app_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)
    return JSONResponse(exc.body(), status_code=exc.status_code, headers=exc.headers)


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    # Pydantic's error list without the offending input: it may hold a password.
    errors = [
        {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
        for e in exc.errors()
    ]
    if errors and all(e["type"] == INSTANT_OUT_OF_RANGE for e in errors):
        # A well-formed value the type bounds: a named 400, not a malformed request.
        where = ", ".join(".".join(str(p) for p in e["loc"]) for e in errors)
        error = InstantOutOfRange(f"{where}: {errors[0]['msg']}")
        return JSONResponse(error.body(), status_code=error.status_code)
    return JSONResponse(error_body("ValidationError", errors), status_code=422)


_HTTP_NAMES = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    413: "PayloadTooLarge",
    415: "UnsupportedMediaType",
    429: "RateLimited",
}


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    name = _HTTP_NAMES.get(exc.status_code, "HTTPError")
    return JSONResponse(
        error_body(name, exc.detail), status_code=exc.status_code, headers=exc.headers
    )


class ClientClosedRequest(AppError):
    """The client hung up before its request was read to the end (nginx's 499): the answer
    reaches nobody; it is there for the access metrics and log."""

    status_code = 499
    default_detail = "The client closed the connection before sending the whole request."


async def _client_disconnect(request: Request, exc: Exception) -> JSONResponse:
    # A client that goes away mid-upload is ordinary (a closed laptop, a lost network), not a
    # fault of ours: one line, no traceback. Starlette's parsers have already closed the
    # spooled files of a half-read body; nothing was recorded, since no handler ran to its end.
    log.info(
        "client hung up before its request (%s %s) was read to the end",
        request.method,
        request.url.path,
    )
    error = ClientClosedRequest()
    return JSONResponse(error.body(), status_code=error.status_code)


class TextNotStorable(AppError):
    """A text the database cannot hold: PostgreSQL's text types refuse U+0000, which JSON
    (``\\u0000``) and URLs (``%00``) can carry. Refused by the statement that would store it
    (or compare it), so its transaction, and whatever else it wrote, is rolled back. A 400,
    as for an instant out of range: a well-formed value that cannot be kept, not a malformed
    request."""

    status_code = 400
    default_detail = "A text contains the NUL character (U+0000), which cannot be stored."


# character_not_in_repertoire (what PostgreSQL says of U+0000 in a text), untranslatable_character
_UNSTORABLE_TEXT = {"22021", "22P05"}


async def _database_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DBAPIError)
    if getattr(exc.orig, "sqlstate", None) in _UNSTORABLE_TEXT:
        error = TextNotStorable()
        return JSONResponse(error.body(), status_code=error.status_code)
    return await _unhandled(request, exc)


async def _unhandled(request: Request, exc: Exception) -> JSONResponse:
    # Answered outside the request layer (Starlette's outermost middleware): the request id is
    # named here, in the log line and the answer, so a client's report finds the traceback.
    request_id = getattr(request.state, "request_id", None)
    log.exception("unhandled error in request %s", request_id or "-", exc_info=exc)
    return JSONResponse(
        error_body("InternalError", "Something went wrong."),
        status_code=500,
        headers={"X-Request-ID": request_id} if request_id else None,
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    # A handler of its own (not the catch-all below, which Starlette calls from its outermost
    # layer and then re-raises for the server to log a second traceback).
    app.add_exception_handler(ClientDisconnect, _client_disconnect)
    app.add_exception_handler(DBAPIError, _database_error)
    app.add_exception_handler(Exception, _unhandled)
