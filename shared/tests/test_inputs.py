"""``Instant``: every instant a client sends lies in 1970..2200 (its offset applied), else a
named 400 ``InstantOutOfRange`` that the OpenAPI document announces."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from fastapi import APIRouter
from pydantic import BaseModel, TypeAdapter, ValidationError

from socialseed.app import Runtime, create_service_app
from socialseed.inputs import Instant
from socialseed.settings import ServiceSettings
from socialseed.testing import asgi_client

INSTANT = TypeAdapter(Instant)


@pytest.mark.parametrize(
    "value",
    [
        "9999-12-31T23:59:59-12:00",  # OverflowError when converted to UTC
        "0001-01-01T00:00:00+14:00",
        "2200-01-01T00:00:00Z",
        "1970-01-01T00:00:00+00:01",  # 1969 in UTC
        "0001-01-01T00:00:00",  # naive: bounded on its wall fields
        "2200-01-01T00:00:00",
    ],
)
def test_out_of_range(value: object) -> None:
    with pytest.raises(ValidationError) as caught:
        INSTANT.validate_python(value)
    assert [e["type"] for e in caught.value.errors()] == ["instant_out_of_range"]


def test_in_range_values_pass_as_given() -> None:
    east = timezone(timedelta(hours=14))
    assert INSTANT.validate_python("1970-01-01T14:00:00+14:00") == datetime(
        1970, 1, 1, 14, tzinfo=east
    )
    assert INSTANT.validate_python("2199-12-31T23:59:59.999999Z").year == 2199
    assert INSTANT.validate_python("2027-03-28T02:30:00").tzinfo is None  # a wall time


@pytest.mark.parametrize("value", [0, -1, 1_700_000_000, 1.5, "15874", " 1700000000 ", "-1", "1e9"])
def test_numbers_are_not_instants(value: object) -> None:
    """Pydantic would read these as Unix seconds; the schema says RFC 3339 text."""
    with pytest.raises(ValidationError) as caught:
        INSTANT.validate_python(value)
    assert [e["type"] for e in caught.value.errors()] == ["instant_not_a_number"]
    with pytest.raises(ValidationError):
        INSTANT.validate_json(str(value) if not isinstance(value, str) else f'"{value}"')


class Body(BaseModel):
    at: Instant | None = None
    n: int = 0


def _app():  # type: ignore[no-untyped-def]
    router = APIRouter()

    @router.get("/q")
    async def query(at: Instant | None = None) -> dict[str, str]:
        return {"at": str(at)}

    @router.post("/b")
    async def body(body: Body) -> dict[str, str]:
        return {"at": str(body.at)}

    @router.get("/n")
    async def plain(n: int = 0) -> dict[str, int]:
        return {"n": n}

    settings = ServiceSettings(kafka_enabled=False)
    return create_service_app(Runtime(settings=settings), title="t", routers=[router])


async def test_a_named_400_documented_where_instants_are_taken() -> None:
    app = _app()
    async with asgi_client(app) as client:
        r = await client.get("/q", params={"at": "0001-01-01T00:00:00+14:00"})
        assert (r.status_code, r.json()["error"]) == (400, "InstantOutOfRange"), r.text
        assert r.json()["detail"].startswith("query.at: Instants are accepted from 1970")
        r = await client.post("/b", json={"at": "9999-12-31T23:59:59-12:00"})
        assert (r.status_code, r.json()["error"]) == (400, "InstantOutOfRange"), r.text
        # with another invalid field, the request is malformed: 422
        r = await client.post("/b", json={"at": "9999-12-31T23:59:59-12:00", "n": "x"})
        assert (r.status_code, r.json()["error"]) == (422, "ValidationError"), r.text
        r = await client.get("/q", params={"at": "2030-01-01T00:00:00Z"})
        assert r.status_code == 200, r.text
        for number in ("15874", "0"):  # Unix seconds to pydantic, not to the schema
            r = await client.get("/q", params={"at": number})
            assert (r.status_code, r.json()["error"]) == (422, "ValidationError"), r.text
        r = await client.post("/b", json={"at": 1_700_000_000})
        assert r.json()["detail"][0]["type"] == "instant_not_a_number", r.text
    paths = app.openapi()["paths"]
    for path, method in (("/q", "get"), ("/b", "post")):
        assert "InstantOutOfRange" in paths[path][method]["responses"]["400"]["description"]
    assert "400" not in paths["/n"]["get"]["responses"]
