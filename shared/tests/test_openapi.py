"""Every route's OpenAPI entry names the errors it can answer; a 405 lists the right methods."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from socialseed.app import CurrentPrincipal, Runtime, create_service_app
from socialseed.errors import NotFound
from socialseed.openapi import errors
from socialseed.settings import ServiceSettings
from socialseed.testing import asgi_client


class Body(BaseModel):
    x: int


def _app():  # type: ignore[no-untyped-def]
    router = APIRouter(prefix="/t")

    @router.post("/things/{thing_id}", responses=errors(NotFound))
    async def change(thing_id: int, body: Body, principal: CurrentPrincipal) -> dict[str, int]:
        return {}

    @router.post("/things/new")
    async def create() -> dict[str, int]:
        return {}

    @router.get("/things/{thing_id}")
    async def read(thing_id: int) -> dict[str, int]:
        return {}

    settings = ServiceSettings(kafka_enabled=False)
    return create_service_app(Runtime(settings=settings), title="t", routers=[router])


def test_errors_are_documented_from_declarations_and_route_shape() -> None:
    doc = _app().openapi()
    change = doc["paths"]["/t/things/{thing_id}"]["post"]
    statuses = set(change["responses"])
    assert {"401", "404", "400", "413", "422", "503"} <= statuses
    assert change["security"] == [{"bearer": []}]
    for status in statuses - {"200"}:
        schema = change["responses"][status]["content"]["application/json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/ErrorBody"}
    assert change["responses"]["404"]["description"] == "NotFound"
    assert "HTTPValidationError" not in doc["components"]["schemas"]
    create = doc["paths"]["/t/things/new"]["post"]
    assert "401" not in create["responses"] and "security" not in create


async def test_method_not_allowed_lists_the_most_specific_routes_methods() -> None:
    async with asgi_client(_app()) as client:
        r = await client.delete("/t/things/new")
        assert r.status_code == 405 and r.json()["error"] == "MethodNotAllowed"
        assert r.headers["allow"] == "POST"  # not the GET of /t/things/{thing_id}
        r = await client.put("/t/things/7")
        assert r.headers["allow"] == "GET, POST"
