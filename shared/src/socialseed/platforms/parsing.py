"""Small parsers for platform responses: JSON bodies, integers, scopes, timestamps, reset
times."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx

JSON = dict[str, Any]


def utcnow() -> datetime:
    return datetime.now(UTC)


def json_object(response: httpx.Response) -> JSON | None:
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    return body if isinstance(body, dict) else None


def as_int(value: Any) -> int | None:
    """Counters arrive as numbers or, from Google, as strings."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


def parse_scopes(value: Any) -> tuple[str, ...]:
    """Scopes come space- or comma-separated (or as a list) depending on the platform."""
    if isinstance(value, list | tuple):
        return tuple(str(v) for v in value if v)
    if isinstance(value, str):
        return tuple(s for s in value.replace(",", " ").split() if s)
    return ()


def seconds_until_midnight(now: datetime, zone: str) -> float:
    """Daily quotas (LinkedIn: UTC, YouTube: Pacific) reset at local midnight."""
    local = now.astimezone(ZoneInfo(zone))
    midnight = (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return max(1.0, (midnight - local).total_seconds())


def seconds_until_epoch(reset: str | None, now: datetime) -> float | None:
    """X sends when a window resets as epoch seconds; None when absent or unreadable."""
    if reset is None or not reset.strip().isdigit():
        return None
    return max(1.0, int(reset) - now.timestamp())


def humanize(seconds: float) -> str:
    if seconds < 90:
        return f"{round(seconds)} s"
    if seconds < 90 * 60:
        return f"{round(seconds / 60)} min"
    return f"{seconds / 3600:.1f} h"


def parse_time(value: Any) -> datetime | None:
    """A platform timestamp: ISO 8601 (``Z``, ``+00:00`` or Meta's ``+0000``) or epoch seconds."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
