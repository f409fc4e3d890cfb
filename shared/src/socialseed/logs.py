"""Logging that never writes a secret and cannot be forged with CR/LF in user input."""

from __future__ import annotations

import logging
import logging.config
import re
from contextvars import ContextVar
from pathlib import Path
from typing import Any

# The id of the request being served (set by ``socialseed.telemetry.RequestContext``); every
# record names it, so one request's lines can be found among concurrent ones.
REQUEST_ID: ContextVar[str] = ContextVar("request_id", default="-")

_SECRET_PATTERNS = [
    # Authorization headers, bearer tokens
    (
        re.compile(r"(?i)(authorization[\"']?\s*[:=]\s*[\"']?)(bearer|basic)?\s*[^\s\"',}]+"),
        r"\1\2 ***",
    ),
    (re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/=-]+"), "Bearer ***"),
    # SocialSeed API keys, wherever they appear
    (re.compile(r"\bssk_[A-Za-z0-9_-]{8,}"), "ssk_***"),
    # JWT-shaped strings
    (re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"), "***jwt***"),
    # key=value or "key": "value" for secret-ish keys
    (
        re.compile(
            r"(?i)([\"']?\b(?:password|passwd|secret|client_secret|access_token|refresh_token|"
            r"token|code_verifier|api_key)\b[\"']?\s*[:=]\s*[\"']?)([^\s\"'&,}]+)"
        ),
        r"\1***",
    ),
]


def redact(text: str) -> str:
    for pattern, repl in _SECRET_PATTERNS:
        text = pattern.sub(repl, text)
    return text


class SafeFormatter(logging.Formatter):
    """Masks secrets and escapes CR/LF so one log record is always one line."""

    def format(self, record: logging.LogRecord) -> str:
        text = redact(super().format(record))
        return text.replace("\r", "\\r").replace("\n", "\\n")


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID.get()
        return True


def logging_config(
    service: str, level: str = "INFO", log_file: Path | None = None, *, pid: bool = False
) -> dict[str, Any]:
    """A ``logging.config.dictConfig`` document: every record (ours, uvicorn's, libraries')
    through one masking handler. uvicorn applies it in each worker process it spawns; ``pid``
    names the worker on every line."""
    worker = " [%(process)d]" if pid else ""
    handler: dict[str, Any] = (
        {"class": "logging.FileHandler", "filename": str(log_file)}
        if log_file
        else {"class": "logging.StreamHandler", "stream": "ext://sys.stderr"}
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "safe": {
                "()": SafeFormatter,
                "fmt": f"%(asctime)s %(levelname)s {service}{worker} %(name)s "
                "[%(request_id)s]: %(message)s",
            }
        },
        "filters": {"request_id": {"()": RequestIdFilter}},
        "handlers": {"main": handler | {"formatter": "safe", "filters": ["request_id"]}},
        "root": {"handlers": ["main"], "level": level.upper()},
        "loggers": {
            **{noisy: {"level": "WARNING"} for noisy in ("aiokafka", "httpx", "httpcore")},
            # uvicorn installs its own handlers; route them through ours.
            **{
                name: {"handlers": [], "propagate": True}
                for name in ("uvicorn", "uvicorn.error", "uvicorn.access")
            },
        },
    }


def configure_logging(service: str, level: str = "INFO", log_file: Path | None = None) -> None:
    logging.config.dictConfig(logging_config(service, level, log_file))
