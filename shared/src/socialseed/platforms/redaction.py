"""Secrets out of what we log and raise: the values a request carried are scrubbed from
platform details and httpx log lines."""

from __future__ import annotations

import base64
import binascii
import contextlib
import logging
from collections.abc import Iterable
from urllib.parse import parse_qsl

import httpx

from socialseed.logs import redact

# Request fields whose values are secrets (OAuth 2.0 and Graph API names).
SECRET_FIELDS = frozenset(
    {
        "access_token",
        "refresh_token",
        "code",
        "code_verifier",
        "client_secret",
        "token",
        "fb_exchange_token",
        "input_token",
        # Upload URLs are capabilities: whoever holds one can send bytes into the upload
        # (YouTube's resumable session ``upload_id``, TikTok's ``upload_token``).
        "upload_id",
        "upload_token",
    }
)
# Shorter values are not secrets (a grant_type, a client id) and replacing them would garble text.
MIN_SECRET_LENGTH = 8
MAX_DETAIL_LENGTH = 300


def request_secrets(request: httpx.Request) -> list[str]:
    """Every secret value a request carried: query, form body and Authorization header."""
    pairs = list(request.url.params.multi_items())
    if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        pairs += parse_qsl(request.content.decode(errors="replace"))
    values = [value for key, value in pairs if key in SECRET_FIELDS]
    scheme, _, credential = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer":
        values.append(credential)
    elif scheme.lower() == "basic":
        values.append(credential)
        with contextlib.suppress(binascii.Error, UnicodeDecodeError):
            values.append(base64.b64decode(credential).decode().partition(":")[2])
    return [value for value in values if len(value) >= MIN_SECRET_LENGTH]


def redact_url(url: httpx.URL) -> httpx.URL:
    """``url`` with the values of secret query parameters replaced."""
    params = url.params
    if not any(key in SECRET_FIELDS for key in params):
        return url
    safe = [(k, "[redacted]" if k in SECRET_FIELDS else v) for k, v in params.multi_items()]
    return url.copy_with(params=safe)


class RedactUrlSecrets(logging.Filter):
    """httpx logs every request's URL at INFO; Meta's token endpoints (documented as GET) carry
    the client secret and tokens in the query. Keep those out of log lines whatever the
    service's logging configuration."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                redact_url(arg) if isinstance(arg, httpx.URL) else arg for arg in record.args
            )
        return True


def install_log_redaction() -> None:
    """Redact secrets from httpx's request log lines; called at app creation, never at import."""
    httpx_logger = logging.getLogger("httpx")
    if not any(isinstance(f, RedactUrlSecrets) for f in httpx_logger.filters):
        httpx_logger.addFilter(RedactUrlSecrets())


def scrub(text: str, secrets: Iterable[str]) -> str:
    """``text`` without any of ``secrets`` (longest first) nor secret-looking fragments."""
    for secret in sorted(set(secrets), key=len, reverse=True):
        text = text.replace(secret, "[redacted]")
    text = redact(" ".join(text.split()))
    return text if len(text) <= MAX_DETAIL_LENGTH else text[: MAX_DETAIL_LENGTH - 1] + "…"
