"""The OpenAPI document as a contract: every error a route can answer is documented, with our
error body (``{"error": "WorkspaceNotFound", "detail": "..."}``).

Two sources, merged per status code:

- what a route declares: ``@router.get(..., responses=errors(WorkspaceNotFound, ...))``;
- what follows from its shape, added by :func:`document_errors`: a route that needs a bearer
  token can answer 401 (and 503 when the signing keys cannot be loaded), a route that takes a
  body can answer 400 (unparsable JSON) and 413 (too large), a route with parameters 422, a
  route that takes an instant 400 (``InstantOutOfRange``, see ``socialseed.inputs``).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel, Field

from socialseed.errors import AppError, InstantOutOfRange, error_body

ERROR_SCHEMA_REF = "#/components/schemas/ErrorBody"
BEARER = "bearer"


class FieldError(BaseModel):
    loc: list[str | int] = Field(description="Where the invalid value is (body, query, ...)")
    msg: str = Field(description="What is wrong with it")
    type: str = Field(description="The kind of error")


class TargetError(BaseModel):
    account_id: str = Field(description="The target's account")
    error: str = Field(description="The error's name, e.g. AccountNotActive")
    detail: str = Field(description="Words for people")


class ErrorBody(BaseModel):
    """Every error response of the API."""

    error: str = Field(description="The error's name, e.g. WorkspaceNotFound")
    detail: str | list[FieldError] = Field(
        description="Words for people; for ValidationError, the invalid fields"
    )
    targets: list[TargetError] | None = Field(
        default=None, description="InvalidTargets: what is wrong with each refused target"
    )


def errors(*classes: type[AppError]) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route: its errors grouped by status code, named in the text."""
    by_status: dict[int, list[str]] = defaultdict(list)
    for cls in dict.fromkeys(classes):  # a route's error groups may share a class
        by_status[cls.status_code].append(cls.__name__)
    return {
        status: {"model": ErrorBody, "description": ", ".join(sorted(names))}
        for status, names in sorted(by_status.items())
    }


# Errors every route of a shape can answer: (status, name, when).
_AUTHENTICATED = ((401, "Unauthorized"), (503, "ServiceUnavailable"))
_WITH_BODY = ((400, "BadRequest"), (413, "PayloadTooLarge"))
_WITH_PARAMS = ((422, "ValidationError"),)


def _calls(route: APIRoute) -> set[Callable[..., Any]]:
    seen: set[Callable[..., Any]] = set()
    stack = list(route.dependant.dependencies)
    while stack:
        dep = stack.pop()
        if dep.call is not None:
            seen.add(dep.call)
        stack.extend(dep.dependencies)
    return seen


def _has_params(route: APIRoute) -> bool:
    d = route.dependant
    stack = [d]
    while stack:
        cur = stack.pop()
        if cur.path_params or cur.query_params or cur.header_params or cur.body_params:
            return True
        stack.extend(cur.dependencies)
    return False


def _mentions_date_time(node: Any, schemas: dict[str, Any], seen: set[str]) -> bool:
    """Whether a JSON schema (``$ref``s into ``schemas`` followed once) has a date-time."""
    if isinstance(node, list):
        return any(_mentions_date_time(n, schemas, seen) for n in node)
    if not isinstance(node, dict):
        return False
    if node.get("format") == "date-time":
        return True
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
        name = ref.rsplit("/", 1)[1]
        if name in seen:
            return False
        seen.add(name)
        return _mentions_date_time(schemas.get(name), schemas, seen)
    return any(_mentions_date_time(v, schemas, seen) for v in node.values())


def _takes_instants(operation: dict[str, Any], schemas: dict[str, Any]) -> bool:
    """Whether a request can carry an instant (a date-time parameter or body field): every
    instant a client sends is bounded (``socialseed.inputs``), so it can answer 400
    InstantOutOfRange."""
    request = [p.get("schema") for p in operation.get("parameters", [])]
    request.append(operation.get("requestBody", {}).get("content"))
    return _mentions_date_time(request, schemas, set())


def add_error(operation: dict[str, Any], status: int, name: str) -> None:
    """Document that ``operation`` can answer ``status`` with the error ``name`` (an
    ErrorBody), next to any other errors already named for that status."""
    responses = operation.setdefault("responses", {})
    entry = responses.setdefault(
        str(status),
        {"description": name, "content": {"application/json": {"schema": {}}}},
    )
    names = set(filter(None, (n.strip() for n in entry.get("description", "").split(","))))
    names.discard("Validation Error")  # FastAPI's own wording for its 422
    names.add(name)
    entry["description"] = ", ".join(sorted(names))
    entry["content"] = {"application/json": {"schema": {"$ref": ERROR_SCHEMA_REF}}}


def document_errors(app: FastAPI, *, authenticated: Iterable[Callable[..., Any]] = ()) -> None:
    """Complete the app's OpenAPI document with the errors each route can answer.

    ``authenticated``: the dependencies that verify a bearer token; routes using one are marked
    with the bearer security scheme and can answer 401.
    """
    auth_calls = set(authenticated)
    default_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = default_openapi()
        components = schema.setdefault("components", {})
        schemas = components.setdefault("schemas", {})
        body = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(body.pop("$defs", {}))
        schemas["ErrorBody"] = body
        # Our 422 is an ErrorBody too (see socialseed.errors), not FastAPI's shape.
        schemas.pop("HTTPValidationError", None)
        schemas.pop("ValidationError", None)
        for context in iter_route_contexts(app.routes):
            route = context.original_route
            if not isinstance(route, APIRoute) or not context.path_format:
                continue
            item = schema.get("paths", {}).get(context.path_format, {})
            for method in route.methods or ():
                operation = item.get(method.lower())
                if operation is None:
                    continue
                shape: list[tuple[int, str]] = []
                if auth_calls & _calls(route):
                    shape += _AUTHENTICATED
                    operation.setdefault("security", [{BEARER: []}])
                    components.setdefault("securitySchemes", {})[BEARER] = {
                        "type": "http",
                        "scheme": "bearer",
                        "bearerFormat": "JWT",
                    }
                if route.body_field is not None:
                    shape += _WITH_BODY
                if _has_params(route):
                    shape += _WITH_PARAMS
                if _takes_instants(operation, schemas):
                    shape.append((InstantOutOfRange.status_code, InstantOutOfRange.__name__))
                for status, name in shape:
                    add_error(operation, status, name)
                for response in operation.get("responses", {}).values():
                    content = response.get("content", {}).get("application/json", {})
                    ref = content.get("schema", {}).get("$ref", "")
                    if ref.endswith("/HTTPValidationError"):
                        content["schema"] = {"$ref": ERROR_SCHEMA_REF}
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
    app.add_exception_handler(405, _method_not_allowed)


_HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_PARAM = re.compile(r"\{[^}/]+\}")


def _regex(template: str) -> re.Pattern[str]:
    parts, pos = [], 0
    for param in _PARAM.finditer(template):
        parts += [re.escape(template[pos : param.start()]), "[^/]+"]
        pos = param.end()
    parts.append(re.escape(template[pos:]))
    return re.compile("".join(parts))


def allowed_methods(document: dict[str, Any], path: str) -> list[str]:
    """The methods ``document`` lists for the most specific path template matching ``path``
    (a literal segment beats a parameter: ``/accounts/connect`` over ``/accounts/{id}``).
    Starlette's own 405 lists the methods of whichever route happened to match first."""
    best: tuple[int, set[str]] | None = None
    for template, item in document.get("paths", {}).items():
        if not _regex(template).fullmatch(path):  # re caches the compiled patterns
            continue
        params = len(_PARAM.findall(template))
        methods = {m.upper() for m in item if m in _HTTP_METHODS}
        if best is None or params < best[0]:
            best = (params, methods)
        elif params == best[0]:
            best[1].update(methods)
    return sorted(best[1]) if best else []


def method_not_allowed(allow: list[str]) -> JSONResponse:
    return JSONResponse(
        error_body("MethodNotAllowed", "This path does not answer that method."),
        status_code=405,
        headers={"Allow": ", ".join(allow)} if allow else None,
    )


async def _method_not_allowed(request: Request, exc: Exception) -> JSONResponse:
    return method_not_allowed(allowed_methods(request.app.openapi(), request.url.path))
