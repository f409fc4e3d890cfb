"""One normalised, unambiguous path per request: what the gateway routes is what it forwards.

A path is refused (400 ``AmbiguousPath``) when an upstream or a proxy in between could read it
differently from the gateway: dot segments (literal or percent-encoded, any case), encoded
slashes or backslashes, literal backslashes, empty segments (``//``), ``;`` matrix parameters,
and NUL or other control characters. Paths of an upstream's own (``/internal/*``, ``/metrics``,
``/docs``, ``/openapi.json``, ``/healthz``) are never forwarded, whatever the route table says.
"""

from __future__ import annotations

import re
from urllib.parse import unquote_to_bytes

from socialseed.errors import AppError, NotFound

# Percent-encodings that change how a path splits or climbs: '.', '/', '\', ';', NUL and any
# other control byte (%00-%1f, %7f), in either case.
_ENCODED = re.compile(rb"%(2e|2f|5c|3b|[01][0-9a-f]|7f)", re.IGNORECASE)
_BAD_BYTES = re.compile(rb"[\x00-\x20\x7f\\;]")

DENIED_EXACT = frozenset({"/metrics", "/docs", "/redoc", "/openapi.json", "/healthz"})
DENIED_PREFIXES = ("/internal/", "/docs/", "/metrics/", "/healthz/")


class AmbiguousPath(AppError):
    status_code = 400


def normalise(raw_path: bytes) -> str:
    """The decoded path, or AmbiguousPath when it could be read two ways."""
    if not raw_path.startswith(b"/") or _ENCODED.search(raw_path):
        raise AmbiguousPath("The path is not in canonical form.")
    decoded = unquote_to_bytes(raw_path)
    if _BAD_BYTES.search(decoded) or (b"%" in decoded and _ENCODED.search(decoded)):
        raise AmbiguousPath("The path is not in canonical form.")
    segments = decoded.split(b"/")[1:]
    inner = segments[:-1] if len(segments) > 1 else segments
    for segment in segments:
        if segment in (b".", b".."):
            raise AmbiguousPath("The path is not in canonical form.")
    if any(segment == b"" for segment in inner) and decoded != b"/":
        raise AmbiguousPath("The path is not in canonical form.")
    try:
        return decoded.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise AmbiguousPath("The path is not valid UTF-8.") from exc


def refuse_upstream_internals(path: str) -> None:
    """Second wall behind the route table: an upstream's own pages never leave through us."""
    lowered = path.lower().rstrip("/") or "/"
    if lowered in DENIED_EXACT or (lowered + "/").startswith(DENIED_PREFIXES):
        raise NotFound(f"No API at {path}.")
