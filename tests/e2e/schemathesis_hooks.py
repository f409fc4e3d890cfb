"""Schemathesis hooks for tests/e2e/test_openapi_fuzz.py (loaded through SCHEMATHESIS_HOOKS).

JSON Schema cannot bound a ``date-time`` string, so the fuzzer would rarely draw the instants
that broke the services (an offset pushing year 1 or 9999 out of range once converted to
UTC). Every date-time it generates is drawn from these edges half of the time, and from any
instant Python can represent, with any whole-minute offset, the other half. The services
must answer each with a documented status (400 InstantOutOfRange outside 1970..2200).

A random ``workspace_id`` is answered 404 before anything else is read, so the instants would
never reach the code that uses them: a generated UUID is replaced by the test user's workspace
(``FUZZ_WORKSPACE_ID``). Values that are not UUIDs (negative cases) are left as generated."""

from __future__ import annotations

import os
import uuid
from datetime import timedelta, timezone
from typing import Any

import schemathesis
from hypothesis import strategies as st

EDGES = [
    "9999-12-31T23:59:59-12:00",
    "9999-12-31T23:59:59.999999+00:00",
    "0001-01-01T00:00:00+14:00",
    "0001-01-01T00:00:00Z",
    "1969-12-31T23:59:59Z",
    "1970-01-01T00:00:00Z",
    "1970-01-01T00:00:00+14:00",
    "2199-12-31T23:59:59Z",
    "2200-01-01T00:00:00Z",
    "2200-01-01T00:00:00-12:00",
]

offsets = st.integers(min_value=-23 * 60 - 59, max_value=23 * 60 + 59).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)
anything = st.datetimes(timezones=offsets).map(lambda at: at.isoformat())

schemathesis.openapi.format("date-time", st.one_of(st.sampled_from(EDGES), anything))


def _own_workspace(container: Any) -> Any:
    workspace = os.environ.get("FUZZ_WORKSPACE_ID")
    if workspace and isinstance(container, dict) and isinstance(container.get("workspace_id"), str):
        try:
            uuid.UUID(container["workspace_id"])
        except ValueError:
            return container
        container["workspace_id"] = workspace
    return container


@schemathesis.hook
def map_query(ctx: Any, query: Any) -> Any:
    return _own_workspace(query)


@schemathesis.hook
def map_body(ctx: Any, body: Any) -> Any:
    return _own_workspace(body)
