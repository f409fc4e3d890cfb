"""``python -m socialseed.run <module:factory> --port N [--workers N|auto]``: one service.

Installs the secret-masking, one-line-per-record log formatter before uvicorn starts, so that
every record of the process (ours, uvicorn's, libraries') goes through it: text or JSON lines
(``SOCIALSEED_LOG_FORMAT``: ``json``, ``text``, or ``auto``, text when stderr is a terminal),
at ``SOCIALSEED_LOG_LEVEL`` (INFO); with several workers uvicorn applies it again in each
worker it spawns (``socialseed.workers`` says what else each worker owns and what they
share). ``--workers`` defaults to ``<NAME>_WORKERS`` (``AUTH_WORKERS`` ...), else 1.
"""

from __future__ import annotations

import argparse
import logging
import os
from typing import Any

import uvicorn

from socialseed.logs import log_format, logging_config
from socialseed.workers import share_metrics_between_workers, worker_count

# How every service is served (the test harness too): uvloop's event loop and httptools' HTTP
# parser (both in uvicorn[standard]), no access log (the request layer counts requests), and
# proxy_headers off: uvicorn would otherwise take X-Forwarded-For from any loopback peer as the
# client address, so a client talking to the gateway directly could pick its own IP. Services
# read the gateway's X-Forwarded-For themselves, against their trusted proxies.
SERVER_SETTINGS: dict[str, Any] = {
    "loop": "uvloop",
    "http": "httptools",
    "access_log": False,
    "proxy_headers": False,
}


def main() -> None:
    parser = argparse.ArgumentParser(prog="socialseed.run")
    parser.add_argument("app", help="module:factory, e.g. auth.app:create_app")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--name", default=None)
    parser.add_argument("--workers", default=None, help="worker processes: a number or 'auto'")
    args = parser.parse_args()
    name = args.name or args.app.split(".")[0]
    workers = worker_count(args.workers or os.environ.get(f"{name.upper()}_WORKERS", "1"))
    if workers > 1:
        share_metrics_between_workers()
    level = os.environ.get("SOCIALSEED_LOG_LEVEL", "INFO")
    try:
        fmt = log_format()
    except ValueError as exc:
        parser.error(str(exc))
    # Python's warnings through the same handler: a raw line on stderr would break JSON output.
    logging.captureWarnings(True)
    uvicorn.run(
        args.app,
        factory=True,
        host=args.host,
        port=args.port,
        workers=workers,
        log_config=logging_config(name, level, pid=workers > 1, log_format=fmt),
        **SERVER_SETTINGS,
    )


if __name__ == "__main__":
    main()
