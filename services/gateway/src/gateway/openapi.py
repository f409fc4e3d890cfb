"""One OpenAPI document for the whole public API, merged from the deployed services."""

from __future__ import annotations

import asyncio
import copy
import logging
import time
from typing import Any

import httpx

from gateway.paths import AmbiguousPath
from gateway.routes import match
from gateway.settings import GatewaySettings
from socialseed.errors import (
    AppError,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    ServiceUnavailable,
    TooManyConcurrentRequests,
)
from socialseed.openapi import ErrorBody, add_error

log = logging.getLogger(__name__)

# What the gateway itself can answer to any request, before or instead of the service.
GATEWAY_ERRORS: tuple[type[AppError], ...] = (
    AmbiguousPath,
    NotFound,  # a path parameter that makes the path match no route (an empty or odd segment)
    PayloadTooLarge,
    RateLimited,
    TooManyConcurrentRequests,
    ServiceUnavailable,
)
METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


class MergedOpenAPI:
    def __init__(self, settings: GatewaySettings, client: httpx.AsyncClient) -> None:
        self.settings = settings
        self.client = client
        self._cached: dict[str, Any] | None = None
        self._at = 0.0
        self.collisions: set[str] = set()

    async def _fetch(self, service: str, base: str) -> dict[str, Any] | None:
        try:
            response = await self.client.get(f"{base}/openapi.json", timeout=5.0)
            response.raise_for_status()
            spec: dict[str, Any] = response.json()
            return spec
        except (httpx.HTTPError, ValueError):
            return None  # a service that is down is left out, not fatal

    async def document(self) -> dict[str, Any]:
        if self._cached and time.monotonic() - self._at < self.settings.openapi_cache_seconds:
            return self._cached
        specs = await asyncio.gather(
            *(self._fetch(name, base) for name, base in self.settings.upstreams.items())
        )
        merged, collisions = merge(specs)
        self.collisions |= collisions
        self._cached, self._at = merged, time.monotonic()
        return merged


def merge(specs: list[dict[str, Any] | None]) -> tuple[dict[str, Any], set[str]]:
    """The public document from the services' own (``None``: a service that is down, left
    out), and the names of components two services define differently."""
    collisions: set[str] = set()
    specs = copy.deepcopy(specs)  # the services' documents are not ours to change
    merged: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": "SocialSeed API",
            "version": "1",
            "description": "The public REST API of SocialSeed, served by the gateway.",
        },
        "paths": {},
        "components": {
            "schemas": {},
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
            },
        },
    }
    for spec in specs:
        if spec is None:
            continue
        for path, item in spec.get("paths", {}).items():
            route = match(path)
            if route is None:
                continue  # internal endpoints are not part of the public API
            for method, operation in item.items():
                if method not in METHODS:
                    continue
                if not route.public:
                    operation.setdefault("security", [{"bearer": []}])
                for error in GATEWAY_ERRORS:
                    add_error(operation, error.status_code, error.__name__)
            merged["paths"][path] = item
        _merge_schemas(merged["components"]["schemas"], spec, collisions)
    # The errors above refer to it, whichever services answered.
    body = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
    merged["components"]["schemas"].update(body.pop("$defs", {}))
    merged["components"]["schemas"]["ErrorBody"] = body
    return merged, collisions


def _merge_schemas(into: dict[str, Any], spec: dict[str, Any], collisions: set[str]) -> None:
    """Components are shared by name: two services naming different schemas alike would
    make one's operations describe the other's bodies. The first is kept and the clash
    recorded in ``collisions`` (a test holds it empty) and logged."""
    for name, schema in spec.get("components", {}).get("schemas", {}).items():
        if name in into and into[name] != schema:
            collisions.add(name)
            log.error("OpenAPI component %r differs between services; first kept", name)
            continue
        into[name] = schema
