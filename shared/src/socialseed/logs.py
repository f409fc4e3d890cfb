"""Logging that never writes a secret and cannot be forged with CR/LF in user input, as
human-readable text or as one JSON object per line (``SOCIALSEED_LOG_FORMAT``)."""

from __future__ import annotations

import logging
import logging.config
import os
import re
import sys
from collections.abc import Mapping
from contextvars import ContextVar
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Literal

from opentelemetry import trace
from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

# The id of the request being served (set by ``socialseed.telemetry.RequestContext``); every
# record names it, so one request's lines can be found among concurrent ones.
REQUEST_ID: ContextVar[str] = ContextVar("request_id", default="-")
NO_REQUEST = "-"

LOG_FORMAT_ENV = "SOCIALSEED_LOG_FORMAT"
LogFormat = Literal["text", "json"]
LOG_FORMATS = ("auto", "text", "json")

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


# Keys whose values are secrets whatever they hold, in a record's extra fields.
_SECRET_KEY = re.compile(
    r"(?i)^(?:authorization|cookie|set-cookie|password|passwd|secret|client_secret|"
    r"access_token|refresh_token|token|code_verifier|api_key|x-api-key)$"
)
_JSON_SCALARS = (bool, int, float, type(None))


def _masked(value: Any, key: str | None = None) -> Any:
    """``value`` with every secret masked: strings redacted, whole values under secret-named
    keys replaced, containers walked, anything else turned into (redacted) text first, since
    its text is what would be written."""
    if key is not None and _SECRET_KEY.match(key):
        return "***"
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, _JSON_SCALARS):
        return value
    if isinstance(value, Mapping):
        return {str(k): _masked(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_masked(v) for v in value]
    return redact(str(value))


class SafeJsonFormatter(JsonFormatter):
    """One JSON object per record, on one line (JSON escapes CR/LF inside strings): timestamp
    (ISO 8601, UTC), level, logger, message, service, pid, trace_id and span_id (of the current
    OpenTelemetry span, null outside one), request_id (null outside a request), exc_info (the
    traceback as text) and any ``extra`` fields; secrets masked in every field."""

    FIELDS = ("levelname", "name", "message", "process", "request_id", "trace_id", "span_id")
    ORDER = ("timestamp", "level", "logger", "message", "service", "pid", "request_id",
             "trace_id", "span_id")  # fmt: skip

    def __init__(self, service: str) -> None:
        super().__init__(
            list(self.FIELDS),
            rename_fields={"levelname": "level", "name": "logger", "process": "pid"},
            static_fields={"service": service},
            # uvicorn's copy of its message with terminal colour codes
            reserved_attrs=[*RESERVED_ATTRS, "color_message"],
        )

    def add_fields(
        self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]
    ) -> None:
        super().add_fields(log_data, record, message_dict)
        # Set last: an extra field cannot fake the time.
        log_data["timestamp"] = (
            datetime.fromtimestamp(record.created, tz=UTC)
            .isoformat(timespec="microseconds")
            .replace("+00:00", "Z")
        )
        if log_data.get("request_id") == NO_REQUEST:
            log_data["request_id"] = None

    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        ordered = {k: log_data.pop(k, None) for k in self.ORDER}
        masked = {k: _masked(v) for k, v in ordered.items()}
        return masked | {k: _masked(v, k) for k, v in log_data.items()}


class LogContextFilter(logging.Filter):
    """Names on each record the request it was written under and the current OpenTelemetry
    span (both read from the context of the code that logs)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID.get()
        span = trace.get_current_span().get_span_context()
        if span.is_valid:
            record.trace_id = trace.format_trace_id(span.trace_id)
            record.span_id = trace.format_span_id(span.span_id)
        else:
            record.trace_id = record.span_id = None
        return True


def log_format(value: str | None = None, stream: IO[str] | None = None) -> LogFormat:
    """The format of a process's log lines: ``value`` (default: ``SOCIALSEED_LOG_FORMAT``),
    ``json``, ``text`` or ``auto`` (unset): text when ``stream`` (stderr) is a terminal, a
    person reading; JSON otherwise, a collector reading."""
    chosen = (value if value is not None else os.environ.get(LOG_FORMAT_ENV, "")).strip().lower()
    if chosen in ("", "auto"):
        out = stream if stream is not None else sys.stderr
        return "text" if out.isatty() else "json"
    if chosen == "text":
        return "text"
    if chosen == "json":
        return "json"
    raise ValueError(f"{LOG_FORMAT_ENV} must be one of {', '.join(LOG_FORMATS)}, not {chosen!r}")


def logging_config(
    service: str,
    level: str = "INFO",
    log_file: Path | None = None,
    *,
    pid: bool = False,
    log_format: LogFormat = "text",
) -> dict[str, Any]:
    """A ``logging.config.dictConfig`` document: every record (ours, uvicorn's, libraries')
    through one masking handler, as text or JSON lines. uvicorn applies it in each worker
    process it spawns; ``pid`` names the worker on every text line (JSON lines always do)."""
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
            },
            "json": {"()": SafeJsonFormatter, "service": service},
        },
        "filters": {"context": {"()": LogContextFilter}},
        "handlers": {
            "main": handler
            | {"formatter": "json" if log_format == "json" else "safe", "filters": ["context"]}
        },
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


def configure_logging(
    service: str,
    level: str = "INFO",
    log_file: Path | None = None,
    *,
    log_format: LogFormat = "text",
) -> None:
    logging.config.dictConfig(logging_config(service, level, log_file, log_format=log_format))
