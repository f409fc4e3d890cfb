"""The web app (``web/``'s Vite build) served at ``/``, with a strict Content-Security-Policy.

``GET``/``HEAD`` of a path that is not the API's (``/api/``, ``/.well-known/``, the gateway's
own ``/docs``, ``/metrics``, ``/healthz``, ``/static/`` are matched before or left alone) answers
a file of the build, or ``index.html`` for a client route (a last segment without a dot): the
app's router then shows the page. Hashed assets (``/assets/*``) are cached for a year as
immutable; everything else (``index.html`` first) is ``no-cache``, revalidated on each load, so
a new build is picked up at once.
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, Response

from gateway.paths import normalise
from gateway.routes import match

# No inline script or style, nothing fetched from elsewhere, never framed.
CSP = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        # the composer shows a video the user picked (a blob: of the local file) for its cover
        # frame and previews; nothing is fetched from elsewhere
        "media-src 'self' blob:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
SECURITY_HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
}
IMMUTABLE = "public, max-age=31536000, immutable"
NO_CACHE = "no-cache"
# Never the web app's, whatever the build holds: the API, the gateway's own pages and assets.
RESERVED_PREFIXES = ("/api/", "/.well-known/", "/static/", "/internal/")
RESERVED_EXACT = frozenset({"/api", "/docs", "/redoc", "/metrics", "/healthz", "/openapi.json"})


class WebApp:
    def __init__(self, dist: Path) -> None:
        self.dist = dist.resolve()

    def _file(self, path: str) -> Path | None:
        candidate = (self.dist / path.lstrip("/")).resolve()
        if candidate.is_relative_to(self.dist) and candidate.is_file():
            return candidate
        return None

    def answer(self, request: Request) -> Response | None:
        """The build's answer to this request, or None: the API's business (or no build)."""
        if request.method not in ("GET", "HEAD"):
            return None
        raw_path: bytes = request.scope.get("raw_path") or request.scope["path"].encode()
        path = normalise(raw_path)  # AmbiguousPath (400) for anything that could climb
        lowered = path.lower()
        if lowered in RESERVED_EXACT or lowered.startswith(RESERVED_PREFIXES) or match(path):
            return None
        index = self._file("index.html")
        if index is None:
            return None  # not built: the gateway answers as without a web app
        if path != "/" and (found := self._file(path)) is not None and found != index:
            hashed = path.startswith("/assets/")
            return self._send(found, IMMUTABLE if hashed else NO_CACHE)
        last = path.rsplit("/", 1)[-1]
        if "." in last:
            return None  # a missing file is a 404, never the page in its place
        return self._send(index, NO_CACHE)

    @staticmethod
    def _send(file: Path, cache: str) -> Response:
        response = FileResponse(file)
        response.headers.update(SECURITY_HEADERS)
        response.headers["cache-control"] = cache
        return response
